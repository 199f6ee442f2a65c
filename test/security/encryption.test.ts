import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execRows, openDb } from '../../src/db/client';
import { MIGRATIONS_FOLDER, migrateDb } from '../../src/db/migrate';
import {
  blindIndex, blindIndexKey, blindIndexWith, configureFieldEncryption, decryptWith, encryptWith, generateKey, keyIdOf, parseKeyring, type Keyring,
} from '../../src/lib/crypto';
import { mapInteraction, type IxDbRow } from '../../src/modules/service/service.repository';
import { eraseCustomer } from '../../src/modules/admin/gdpr.service';
import { countPending, encryptRemainingPlaintext, fillBlindIndexes, reencryptAll } from '../../src/modules/admin/keys.service';
import { parseGlobalId, toGlobalId } from '../../src/lib/global-id';
import { createSeeder } from '../factories/index';
import { startApp, type TestApp } from '../helpers/app';
import { TEST_ENCRYPTION_KEYS, TEST_HASH_KEY } from '../helpers/encryption';

const testKeyring = parseKeyring(TEST_ENCRYPTION_KEYS);

describe('field encryption primitives', () => {
  it('round-trips under the active key and names the key in the stored value', () => {
    const stored = encryptWith(testKeyring, 'customers.birth_date', '1987-09-23');
    expect(stored).toMatch(/^v1:test1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(keyIdOf(stored)).toBe('test1');
    expect(decryptWith(testKeyring, 'customers.birth_date', stored)).toBe('1987-09-23');
    // A fresh IV every time: equal plaintexts do not give equal ciphertexts.
    expect(encryptWith(testKeyring, 'customers.birth_date', '1987-09-23')).not.toBe(stored);
  });

  it('refuses a value moved to another column, a flipped bit, or an unknown key', () => {
    const stored = encryptWith(testKeyring, 'customers.national_id', 'AB123456C');
    expect(() => decryptWith(testKeyring, 'interactions.summary', stored)).toThrow(/fails authentication/);
    const parts = stored.split(':');
    const ct = Buffer.from(parts[4]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    expect(() => decryptWith(testKeyring, 'customers.national_id', [...parts.slice(0, 4), ct.toString('base64url')].join(':'))).toThrow(/fails authentication/);
    const other = parseKeyring(generateKey('other'));
    expect(() => decryptWith(other, 'customers.national_id', stored)).toThrow(/key test1, which is not configured/);
  });

  it('decrypts an interaction text when it is first read, not when the row is mapped', () => {
    configureFieldEncryption(testKeyring);
    const foreign = encryptWith(parseKeyring(generateKey('gone')), 'interactions.summary', 'never configured here');
    const row = mapInteraction({
      id: 'i1', customer_id: 'c1', source: 's', external_id: 'e', channel: 'EMAIL', type: 'TICKET', direction: 'INBOUND',
      subject: encryptWith(testKeyring, 'interactions.subject', 'Late parcel'), summary: foreign, sentiment: null, status: 'OPEN',
      agent: null, occurred_at: new Date('2026-01-01T00:00:00Z'), occurred_key: '2026-01-01T00:00:00.000000Z',
    } satisfies IxDbRow);
    // Mapping did not touch the summary (its key is unknown): only reading it fails, at that field.
    expect(row.subject).toBe('Late parcel');
    expect(() => row.summary).toThrow(/key gone, which is not configured/);
  });

  it('parses ENCRYPTION_KEYS and rejects bad ones', () => {
    const k = parseKeyring(`${generateKey('a')},${generateKey('b')}`, 'b');
    expect([...k.keys.keys(), k.active]).toEqual(['a', 'b', 'b']);
    expect(() => parseKeyring('a:c2hvcnQ=')).toThrow(/32 bytes/);
    expect(() => parseKeyring(`${generateKey('a')},${generateKey('a')}`)).toThrow(/twice/);
    expect(() => parseKeyring(generateKey('a'), 'zzz')).toThrow(/active key zzz/);
    expect(() => parseKeyring(`bad kid:${'A'.repeat(44)}`)).toThrow(/key id/);
  });
});

describe('encrypted columns through the API', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp({ AGGREGATE_MIN_GROUP_SIZE: '1' }); });
  afterAll(async () => { await app?.close(); });
  afterEach(() => configureFieldEncryption(testKeyring));

  const UPSERT = `mutation($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { customer { id birthDate nationalId } userErrors { field code } } }`;
  const RECORD = `mutation($input: RecordInteractionInput!) { recordInteraction(input: $input) { interaction { subject summary } userErrors { code } } }`;
  const raw = (id: string) => execRows<{ birth_date: string | null; birth_month: string | null; national_id: string | null }>(app.db.db,
    sql`SELECT birth_date, birth_month::text AS birth_month, national_id FROM customers WHERE id = ${id}::uuid`);

  it('stores birth date and national id as ciphertext, keeps the birth month in clear, and answers plaintext', async () => {
    const res = await app.gql<{ upsertCustomer: { customer: { id: string; birthDate: string; nationalId: string } } }>(UPSERT,
      { input: { source: 'crm', externalId: 'ENC-1', firstName: 'Enc', birthDate: '1987-09-23', nationalId: 'ab 12-34 56c' } });
    expect(res.body.errors).toBeUndefined();
    const c = res.body.data!.upsertCustomer.customer;
    expect(c).toMatchObject({ birthDate: '1987-09-23', nationalId: 'AB123456C' });
    const [row] = await raw(parseGlobalId(c.id)!.id);
    expect(row!.birth_date).toMatch(/^v1:test1:/);
    expect(row!.national_id).toMatch(/^v1:test1:/);
    expect(row!.birth_month).toBe('1987-09-01');
    expect(JSON.stringify(row)).not.toMatch(/1987-09-23|AB123456C/);
  });

  it('re-upserting the same values changes nothing (plaintext is compared, not ciphertext)', async () => {
    const input = { source: 'crm', externalId: 'ENC-2', birthDate: '1990-01-31', nationalId: 'ZZ999999' };
    await app.gql(UPSERT, { input });
    const [before] = await execRows<{ updated_at: string; national_id: string }>(app.db.db, sql`SELECT updated_at::text, national_id FROM customers c
      JOIN customer_identities i ON i.customer_id = c.id WHERE i.external_id = 'ENC-2'`);
    await app.gql(UPSERT, { input });
    const [after] = await execRows<{ updated_at: string; national_id: string }>(app.db.db, sql`SELECT updated_at::text, national_id FROM customers c
      JOIN customer_identities i ON i.customer_id = c.id WHERE i.external_id = 'ENC-2'`);
    expect(after).toEqual(before);
  });

  it('stores interaction subject and summary as ciphertext and reads them back on every path', async () => {
    const customer = await createSeeder(app.db.db).customer({ firstName: 'Ixenc' }).create();
    const gid = toGlobalId('Customer', customer.id);
    const res = await app.gql<{ recordInteraction: { interaction: { subject: string; summary: string } } }>(RECORD, { input: {
      source: 'helpdesk', externalId: 'ENC-IX-1', customer: { id: gid }, channel: 'EMAIL', type: 'TICKET', occurredAt: '2025-05-01T10:00:00Z',
      subject: 'Hospital stay', summary: 'Customer mentioned a knee operation; delivery moved.',
    } });
    expect(res.body.data!.recordInteraction.interaction).toEqual({ subject: 'Hospital stay', summary: 'Customer mentioned a knee operation; delivery moved.' });
    const stored = await execRows<{ subject: string; summary: string }>(app.db.db, sql`SELECT subject, summary FROM interactions WHERE external_id = 'ENC-IX-1'`);
    expect(stored[0]!.subject).toMatch(/^v1:test1:/);
    expect(JSON.stringify(stored)).not.toMatch(/Hospital|knee/);
    const read = await app.gql<{ customer: { interactions: { edges: { node: { summary: string } }[] }; timeline: { edges: { node: { summary?: string } }[] } } }>(
      'query($id: ID!) { customer(id: $id) { interactions { edges { node { summary } } } timeline { edges { node { ... on Interaction { summary } } } } } }', { id: gid });
    expect(read.body.data!.customer.interactions.edges[0]!.node.summary).toMatch(/knee operation/);
    expect(read.body.data!.customer.timeline.edges[0]!.node.summary).toMatch(/knee operation/);
    const exported = await app.gql<{ exportCustomerData: { data: { interactions: { summary: string }[] } } }>('query($id: ID!) { exportCustomerData(id: $id) { data } }', { id: gid });
    expect(exported.body.data!.exportCustomerData.data.interactions[0]!.summary).toMatch(/knee operation/);
  });

  it('filters by age and groups by age band from the clear birth month', async () => {
    const year = new Date().getUTCFullYear();
    const seed = createSeeder(app.db.db);
    await seed.customer({ firstName: 'Agey', lastName: 'Young', birthDate: `${year - 20}-01-01`, country: 'NZ' }).create();
    await seed.customer({ firstName: 'Agey', lastName: 'Old', birthDate: `${year - 70}-01-01`, country: 'NZ' }).create();
    const res = await app.gql<{ customers: { edges: { node: { lastName: string } }[] }; customerStats: { groups: { keys: { value: string }[]; customerCount: number }[] } }>(
      `{ customers(filter: { countries: ["NZ"], age: { min: 60 } }) { edges { node { lastName } } }
         customerStats(filter: { countries: ["NZ"] }, groupBy: [{ dimension: AGE_BAND }]) { groups { keys { value } customerCount } } }`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.customers.edges).toEqual([{ node: { lastName: 'Old' } }]);
    expect(res.body.data!.customerStats.groups).toEqual(expect.arrayContaining([{ keys: [{ value: '18-24' }], customerCount: 1 }, { keys: [{ value: '65+' }], customerCount: 1 }]));
  });

  it('rotates every value to a new key in resumable batches; the old key can then be dropped', async () => {
    const seed = createSeeder(app.db.db);
    for (let i = 0; i < 5; i++) await seed.customer({ birthDate: `1980-0${i + 1}-15`, nationalId: `ROT${i}0000` }).withInteractions(2, { summary: `rot ${i}` }).create();
    const next = generateKey('k2');
    const both: Keyring = parseKeyring(`${TEST_ENCRYPTION_KEYS},${next}`, 'k2');
    const pendingBefore = await countPending(app.db.db, both, 'rotate');
    expect(pendingBefore.customers).toBeGreaterThanOrEqual(5);

    // Interrupted after two batches of one row...
    let batches = 0;
    await expect(reencryptAll(app.db.db, both, 'rotate', { batchSize: 1, onProgress: () => { if (++batches === 2) throw new Error('interrupted'); } }))
      .rejects.toThrow('interrupted');
    const midway = await countPending(app.db.db, both, 'rotate');
    expect(midway.customers).toBe(pendingBefore.customers! - 2);
    // ...and resumed: only what is left is done.
    const progress: string[] = [];
    // (One block per range and three rows per batch: several batches within a range, and many ranges.)
    const results = await reencryptAll(app.db.db, both, 'rotate', { batchSize: 3, blocksPerScan: 1, onProgress: (p) => progress.push(`${p.table}:${p.done}/${p.total}`) });
    expect(results.find((r) => r.table === 'customers')!.rows).toBe(midway.customers);
    expect(progress.at(-1)).toMatch(/^interactions:(\d+)\/\1$/);
    expect(await countPending(app.db.db, both, 'rotate')).toEqual({ customers: 0, interactions: 0 });

    const kids = await execRows<{ kid: string }>(app.db.db, sql`SELECT DISTINCT split_part(v, ':', 2) AS kid FROM (
      SELECT birth_date AS v FROM customers UNION ALL SELECT national_id FROM customers UNION ALL SELECT summary FROM interactions UNION ALL SELECT subject FROM interactions) x WHERE v IS NOT NULL`);
    expect(kids.map((k) => k.kid)).toEqual(['k2']);
    // Only the new key configured: everything still reads.
    configureFieldEncryption(parseKeyring(next));
    const res = await app.gql<{ customers: { edges: { node: { nationalId: string | null; birthDate: string | null } }[] } }>(
      '{ customers(first: 100) { edges { node { nationalId birthDate interactions { edges { node { summary } } } } } } }');
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.customers.edges.map((e) => e.node.nationalId)).toEqual(expect.arrayContaining(['ROT00000', 'ROT40000']));
  });

  it('reads plaintext left from before the migration, and encrypts it at start-up', async () => {
    const c = await createSeeder(app.db.db).customer({ firstName: 'Legacy' }).withInteractions(1).create();
    await app.db.db.execute(sql`UPDATE customers SET birth_date = '1970-03-04', birth_month = '1970-03-01', national_id = 'OLD12345' WHERE id = ${c.id}::uuid`);
    await app.db.db.execute(sql`UPDATE interactions SET summary = 'legacy words' WHERE customer_id = ${c.id}::uuid`);
    const q = 'query($id: ID!) { customer(id: $id) { birthDate nationalId interactions { edges { node { summary } } } } }';
    const before = await app.gql(q, { id: toGlobalId('Customer', c.id) });
    expect(before.body).toEqual({ data: { customer: { birthDate: '1970-03-04', nationalId: 'OLD12345', interactions: { edges: [{ node: { summary: 'legacy words' } }] } } } });
    const logs: string[] = [];
    expect(await encryptRemainingPlaintext(app.db.db, testKeyring, (m) => logs.push(m))).toBeGreaterThanOrEqual(2);
    expect(logs[0]).toMatch(/encrypting plaintext/);
    expect(await countPending(app.db.db, testKeyring, 'plaintext')).toEqual({ customers: 0, interactions: 0 });
    expect((await raw(c.id))[0]!.national_id).toMatch(/^v1:test1:/);
    expect((await app.gql(q, { id: toGlobalId('Customer', c.id) })).body).toEqual(before.body);
    expect(await encryptRemainingPlaintext(app.db.db, testKeyring, (m) => logs.push(m))).toBe(0);
  });
});

describe('birth-date blind index', () => {
  it('is the same for the same date and key, differs for another date or key, and never shows the date', () => {
    const k = blindIndexKey(TEST_HASH_KEY);
    const a = blindIndexWith(k, 'customers.birth_date', '1985-12-10');
    expect(blindIndexWith(k, 'customers.birth_date', '1985-12-10')).toBe(a);
    expect(blindIndexWith(k, 'customers.birth_date', '1985-12-11')).not.toBe(a);
    const other = blindIndexWith(blindIndexKey('another-privacy-hash-key-of-at-least-32-chars'), 'customers.birth_date', '1985-12-10');
    expect(other).not.toBe(a);
    expect(other.split(':')[0]).not.toBe(a.split(':')[0]);
    expect(a).toMatch(/^[A-Za-z0-9_-]{8}:[A-Za-z0-9_-]{43}$/);
    expect(a).not.toContain('1985');
  });

  let app: TestApp;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app?.close(); });
  afterEach(() => configureFieldEncryption(testKeyring));
  const bidx = async (id: string) => (await execRows<{ b: string | null }>(app.db.db, sql`SELECT birth_date_bidx AS b FROM customers WHERE id = ${id}::uuid`))[0]!.b;

  it('is written with the birth date, filled at start-up for older rows, kept by key rotation and cleared by erasure', async () => {
    const res = await app.gql<{ upsertCustomer: { customer: { id: string } } }>(
      `mutation($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { customer { id } } }`,
      { input: { source: 'crm', externalId: 'BIDX-1', firstName: 'Bidx', birthDate: '1990-01-02' } });
    const id = parseGlobalId(res.body.data!.upsertCustomer.customer.id)!.id;
    const expected = blindIndex('customers.birth_date', '1990-01-02');
    expect(await bidx(id)).toBe(expected);
    // Rows from before migration 0018: no index, an index under another key, a plaintext birth date.
    const seed = createSeeder(app.db.db);
    const none = await seed.customer({ firstName: 'None', birthDate: '1971-05-06' }).create();
    const stale = await seed.customer({ firstName: 'Stale', birthDate: '1972-07-08' }).create();
    const legacy = await seed.customer({ firstName: 'Legacy' }).create();
    await app.db.db.execute(sql`UPDATE customers SET birth_date_bidx = NULL WHERE id = ${none.id}::uuid`);
    await app.db.db.execute(sql`UPDATE customers SET birth_date_bidx = 'oldkey00:abc' WHERE id = ${stale.id}::uuid`);
    await app.db.db.execute(sql`UPDATE customers SET birth_date = '1973-09-10', birth_month = '1973-09-01' WHERE id = ${legacy.id}::uuid`);
    const [before] = await execRows<{ u: string }>(app.db.db, sql`SELECT max(updated_at)::text AS u FROM customers`);
    expect(await fillBlindIndexes(app.db.db, testKeyring, blindIndexKey(TEST_HASH_KEY))).toBe(3);
    expect([await bidx(none.id), await bidx(stale.id), await bidx(legacy.id)]).toEqual([
      blindIndex('customers.birth_date', '1971-05-06'), blindIndex('customers.birth_date', '1972-07-08'), blindIndex('customers.birth_date', '1973-09-10')]);
    const [after] = await execRows<{ u: string }>(app.db.db, sql`SELECT max(updated_at)::text AS u FROM customers`);
    expect(after!.u).toBe(before!.u);
    expect(await fillBlindIndexes(app.db.db, testKeyring, blindIndexKey(TEST_HASH_KEY))).toBe(0);
    // Rotation re-encrypts the date (new ciphertext), the index stays.
    const next = `${TEST_ENCRYPTION_KEYS},${generateKey('k3')}`;
    const rotated = parseKeyring(next, 'k3');
    configureFieldEncryption(rotated);
    await reencryptAll(app.db.db, rotated, 'rotate');
    expect(await bidx(id)).toBe(expected);
    expect(await fillBlindIndexes(app.db.db, rotated, blindIndexKey(TEST_HASH_KEY))).toBe(0);
    configureFieldEncryption(testKeyring);
    expect(await eraseCustomer(app.db.db, TEST_HASH_KEY, id, 'test', 'asked')).toBe('erased');
    expect(await bidx(id)).toBeNull();
  });
});

describe('migration 0013 on a database with data (PGlite)', () => {
  it('moves date-typed birth dates to text with their birth month, ready for start-up encryption', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'c360-mig-'));
    cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
    const journalFile = path.join(dir, 'meta/_journal.json');
    const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { idx: number; tag: string }[] };
    writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.filter((e) => e.tag < '0013') }));
    const handle = await openDb({ databaseUrl: undefined, pgliteDir: '', inMemory: true, databasePoolMax: 1 });
    try {
      await migratePglite(handle.db as unknown as PgliteDatabase, { migrationsFolder: dir });
      await handle.db.execute(sql`INSERT INTO customers (display_name, birth_date) VALUES ('Before', '1961-11-05'), ('NoBirth', NULL)`);
      await migrateDb(handle);
      const rows = await execRows<{ display_name: string; birth_date: string | null; birth_month: string | null; type: string }>(handle.db, sql`
        SELECT display_name, birth_date, birth_month::text AS birth_month, pg_typeof(birth_date)::text AS type FROM customers ORDER BY display_name`);
      expect(rows).toEqual([
        { display_name: 'Before', birth_date: '1961-11-05', birth_month: '1961-11-01', type: 'text' },
        { display_name: 'NoBirth', birth_date: null, birth_month: null, type: 'text' },
      ]);
      expect(await encryptRemainingPlaintext(handle.db, testKeyring, () => {})).toBe(1);
      const [after] = await execRows<{ birth_date: string }>(handle.db, sql`SELECT birth_date FROM customers WHERE display_name = 'Before'`);
      expect(decryptWith(testKeyring, 'customers.birth_date', after!.birth_date)).toBe('1961-11-05');
    } finally {
      await handle.close();
    }
  }, 180_000);
});
