import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execRows, requestDb, type Db } from '../../../src/db/client';
import { decryptField, isEncrypted } from '../../../src/lib/crypto';
import { eraseCustomer } from '../../../src/modules/admin/gdpr.service';
import { arrayLiteral } from '../../../src/modules/ingest/import.repository';
import { ImportInterrupted } from '../../../src/modules/ingest/import.service';
import { createSeeder } from '../../factories/index';
import { TEST_HASH_KEY } from '../../helpers/app';
import { createTestDb, type TestDb } from '../../helpers/db';
import { dumpAll, fixture, importFile, logicalState, readReport, resetCustomerData, tmp } from './helpers';

// One migrated database for the file (migrations are slow on a busy machine); every test starts from empty customer data.
let db: TestDb;
beforeAll(async () => { db = await createTestDb(); }, 300_000);
afterAll(async () => { await db.destroy(); });
beforeEach(async () => { await resetCustomerData(db.db); });

const q = async <T>(query: ReturnType<typeof sql>) => execRows<T>(db.db, query);
const identities = async () => (await q<{ k: string }>(sql`SELECT source || ':' || external_id AS k FROM customer_identities ORDER BY 1`)).map((r) => r.k);
/** The stored row, with `birth` = the birth date decrypted (the column holds ciphertext). */
const customerByExt = async (ext: string) => {
  const [c] = await q<Record<string, unknown> & { id: string; birth_date: string | null }>(sql`SELECT c.* FROM customers c
    JOIN customer_identities i ON i.customer_id = c.id WHERE i.external_id = ${ext}`);
  return c && { ...c, birth: decryptField('customers.birth_date', c.birth_date) };
};

describe('importing a messy customer file', () => {
  it('stores every valid row, reports every bad row with its reason, and rows read = stored + rejected', async () => {
    const errors = path.join(tmp(), 'customers.errors.csv');
    const s = await importFile(db.db, 'customers', fixture('customers-messy.csv'), { errorsFile: errors });
    expect(s).toMatchObject({ rowsRead: 17, stored: 11, rejected: 6, created: 8, encoding: 'utf-8', delimiter: ',', format: 'csv' });
    expect(s.rowsRead).toBe(s.stored + s.rejected);
    expect(await identities()).toEqual(['crm:C-001', 'crm:C-003', 'crm:C-004', 'crm:C-006', 'crm:C-007', 'crm:C-008', 'crm:C-009', 'crm:C-013', 'crm:C-014', 'crm:C-015']);
    const report = readReport(errors);
    expect(report.map((r) => [r.row, r.field])).toEqual([['2', 'email'], ['5', 'birth_date'], ['11', 'external_id'], ['12', 'phone'], ['13', 'country'], ['14', '(row)']]);
    expect(report.map((r) => r.reason)).toEqual([
      'is not a valid email address (got "grace@example")', 'is not a date (got "31/02/1990")', 'is required',
      'is not a valid phone number (national numbers are read as US; got "12345")', 'is not a known country (got "Narnia")', 'expected 12 fields, found 4',
    ]);
    // Line numbers count the quoted newline of the first record; the original values come along.
    expect(report[0]).toMatchObject({ line: '4' });
    expect(JSON.parse(report[0]!.original)).toMatchObject({ 'Customer ID': 'C-002', 'E-Mail': 'grace@example' });
    expect(s.ignoredHeaders).toEqual(['Loyalty Level']);
    expect(s.columns.find((c) => c.column === 'email')).toEqual({ column: 'email', filled: 15, invalid: 1, filledPct: 88.2, invalidPct: 6.7 });
  });

  it('standardizes values: BOM, CRLF, quoted newlines, case, E.164 phones, dates, genders (男/女) and country names', async () => {
    await importFile(db.db, 'customers', fixture('customers-messy.csv'));
    expect(await customerByExt('C-003')).toMatchObject({ phone_e164: '+442079460958', birth: '1912-06-23', gender: 'MALE', country: 'GB' });
    expect(await customerByExt('C-004')).toMatchObject({ phone_e164: '+8613800138000', birth: '1990-05-01', gender: 'FEMALE', country: 'CN' });
    // A national number is read in the row's country: "415 555 0199" of a German row is a number in Büchen (04155), not in San Francisco.
    expect(await customerByExt('C-008')).toMatchObject({ first_name: 'Smith, Jr.', phone_e164: '+494155550199', country: 'DE', gender: 'MALE' });
    expect(await customerByExt('C-013')).toMatchObject({ first_name: 'Quote "Q"', birth: '1970-01-05', gender: 'FEMALE', city: 'Köln' });
    expect(await customerByExt('C-014')).toMatchObject({ phone_e164: '+14155550111' });
    const ada = await customerByExt('C-001');
    expect(ada).toMatchObject({ email_normalized: 'ada@example.com', address_line1: '12 Main St Apt 4', country: 'GB', postal_code: 'N1 9GU' });
  });

  it('resolves identities by email and phone but never by a blocked placeholder', async () => {
    const s = await importFile(db.db, 'customers', fixture('customers-messy.csv'));
    const ada = await customerByExt('C-001');
    expect((await customerByExt('C-009'))!.id).toBe(ada!.id); // same email, other case
    expect((await customerByExt('C-015'))!.id).toBe(ada!.id); // same phone, other format
    expect((await customerByExt('C-006'))!.id).not.toBe((await customerByExt('C-007'))!.id); // both test@test.com
    expect(s.matchedBy).toMatchObject({ email: 1, phone: 1 });
    const [sources] = await q<{ n: number }>(sql`SELECT count(*)::int AS n FROM customer_field_sources WHERE customer_id = ${ada!.id}::uuid AND source = 'crm'`);
    expect(sources!.n).toBeGreaterThan(5);
  });

  it('with only external_id as match rule, an email does not merge records', async () => {
    await importFile(db.db, 'customers', fixture('customers-messy.csv'), { resolution: { matchRules: ['external_id'], blockedValues: [], sourcePriority: ['crm'] } });
    expect((await customerByExt('C-009'))!.id).not.toBe((await customerByExt('C-001'))!.id);
  });

  it('is idempotent: re-running the same file changes nothing at all', async () => {
    await importFile(db.db, 'customers', fixture('customers-messy.csv'));
    const before = await dumpAll(db.db);
    const again = await importFile(db.db, 'customers', fixture('customers-messy.csv'));
    expect(again).toMatchObject({ created: 0, updated: 0, stored: 11, rejected: 6 });
    const after = await dumpAll(db.db);
    expect(after).toEqual(before);
  });

  it('recovers from an interrupted run: the re-run reaches the state of an uninterrupted one', async () => {
    await importFile(db.db, 'customers', fixture('customers-messy.csv'), { batchSize: 3 });
    const uninterrupted = await logicalState(db.db);
    await resetCustomerData(db.db);
    await expect(importFile(db.db, 'customers', fixture('customers-messy.csv'), { batchSize: 3, stopAfterBatches: 2 })).rejects.toBeInstanceOf(ImportInterrupted);
    const [partial] = await q<{ n: number }>(sql`SELECT count(*)::int AS n FROM customer_identities`);
    expect(partial!.n).toBeGreaterThan(0);
    expect(partial!.n).toBeLessThan(10);
    await importFile(db.db, 'customers', fixture('customers-messy.csv'), { batchSize: 3 });
    expect(await logicalState(db.db)).toEqual(uninterrupted);
  });

  it('a dry run writes nothing but reports the same figures', async () => {
    const s = await importFile(db.db, 'customers', fixture('customers-messy.csv'), { dryRun: true });
    expect(s).toMatchObject({ dryRun: true, rowsRead: 17, stored: 11, rejected: 6, created: 8, runId: null });
    const [n] = await q<{ c: number; r: number }>(sql`SELECT (SELECT count(*)::int FROM customers) AS c, (SELECT count(*)::int FROM import_runs) AS r`);
    expect(n).toEqual({ c: 0, r: 0 });
  });

  it('detects Latin-1 and semicolons, and reads headers through --map style mappings', async () => {
    const errors = path.join(tmp(), 'e.csv');
    const s = await importFile(db.db, 'customers', fixture('customers-latin1.csv'), { mapping: { external_id: 'Kundennummer' }, defaultPhoneRegion: 'DE', errorsFile: errors });
    expect(s).toMatchObject({ delimiter: ';', rowsRead: 2, stored: 1, rejected: 1 });
    expect(s.encoding).not.toBe('utf-8');
    expect(await customerByExt('K-1')).toMatchObject({ first_name: 'Jürgen', last_name: 'Müller', phone_e164: '+49301234567', birth: '1970-03-05', gender: 'MALE', country: 'DE', postal_code: '10115' });
    expect(readReport(errors)).toMatchObject([{ row: '2', field: 'birth_date' }]);
  });

  it('survivorship: a more trusted source wins a field, a less trusted one only fills empty fields', async () => {
    const dir = tmp();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dir, 'shop.csv'), 'external_id,first_name,email,city\nS-1,Adeline,ada@example.com,Paris\n');
    writeFileSync(path.join(dir, 'crm.csv'), 'external_id,first_name,email,city,postal_code\nC-1,Ada,ada@example.com,London,\n');
    writeFileSync(path.join(dir, 'pos.csv'), 'external_id,first_name,email,postal_code\nP-1,A.,ada@example.com,N1 9GU\n');
    await importFile(db.db, 'customers', path.join(dir, 'shop.csv'), { source: 'shop' });
    await importFile(db.db, 'customers', path.join(dir, 'crm.csv'), { source: 'crm' });
    await importFile(db.db, 'customers', path.join(dir, 'pos.csv'), { source: 'pos' });
    const c = await customerByExt('S-1');
    expect(c).toMatchObject({ first_name: 'Ada', city: 'London', postal_code: 'N1 9GU' });
    const sources = await q<{ field: string; source: string; rule: string }>(sql`SELECT field, source, rule FROM customer_field_sources WHERE customer_id = ${c!.id as string}::uuid ORDER BY field`);
    expect(sources).toEqual([
      { field: 'city', source: 'crm', rule: 'SOURCE_PRIORITY' },
      { field: 'email', source: 'shop', rule: 'FIRST_VALUE' },
      { field: 'firstName', source: 'crm', rule: 'SOURCE_PRIORITY' },
      { field: 'postalCode', source: 'pos', rule: 'MOST_COMPLETE' },
    ]);
    expect(await identities()).toEqual(['crm:C-1', 'pos:P-1', 'shop:S-1']);
  });

  it('does not re-create an erased customer', async () => {
    const dir = tmp();
    const { writeFileSync } = await import('node:fs');
    const file = path.join(dir, 'c.csv');
    writeFileSync(file, 'external_id,first_name,email\nE-1,Eve,eve@example.com\nE-2,Other,other@example.com\n');
    await importFile(db.db, 'customers', file);
    const eve = await customerByExt('E-1');
    expect(await eraseCustomer(db.db, TEST_HASH_KEY, eve!.id as string, 'test', 'asked')).toBe('erased');
    writeFileSync(file, 'external_id,first_name,email\nE-9,Eve,eve@example.com\nE-2,Other,other@example.com\n');
    const errors = path.join(dir, 'e.csv');
    const s = await importFile(db.db, 'customers', file, { errorsFile: errors });
    expect(s).toMatchObject({ stored: 1, rejected: 1, created: 0 });
    expect(readReport(errors)[0]).toMatchObject({ row: '1', reason: 'this person asked to be erased; an import cannot re-create them' });
    const [n] = await q<{ n: number }>(sql`SELECT count(*)::int AS n FROM customers WHERE email_normalized = 'eve@example.com'`);
    expect(n!.n).toBe(0);
  });
});

describe('batch parameters', () => {
  it('carry any text through the array literal unchanged, and null as null', async () => {
    const values = ['plain', 'Quote "Q"', 'back\\slash\\', 'Smith, Jr.', '{braces}', 'NULL', '', ' spaces ', 'Köln 女', 'line\nbreak\ttab', null];
    const rows = await q<{ v: string | null; n: number }>(sql`SELECT v, n::int AS n FROM unnest(${arrayLiteral(values)}::text[]) WITH ORDINALITY AS u(v, n) ORDER BY n`);
    expect(rows.map((r) => r.v)).toEqual(values);
  });
});

describe('statements per batch', () => {
  /** Statements `fn` runs through a counting view of the database (as a request's would be counted). */
  const statementsOf = async (fn: (counted: Db) => Promise<unknown>) => {
    const stats = { statements: 0 };
    await fn(requestDb(db.db, stats));
    return stats.statements;
  };
  const customersFile = (n: number, offset: number) => {
    const file = path.join(tmp(), `c${n}.csv`);
    writeFileSync(file, `external_id,first_name,email,phone,birth_date\n${Array.from({ length: n }, (_, i) =>
      `S-${offset + i},Name${i},s${offset + i}@example.com,+1415555${String(1000 + offset + i).padStart(4, '0')},1980-01-${String(1 + (i % 28)).padStart(2, '0')}`).join('\n')}\n`);
    return file;
  };

  it('refresh the written tables\' statistics as the import grows: at the first threshold, then at every doubling', async () => {
    // 50 rows in batches of 10, from 10 rows on: ANALYZE after 10, 20 and 40 stored rows.
    const n = await statementsOf((counted) => importFile(counted, 'customers', customersFile(50, 300), { batchSize: 10, statsRefreshFromRows: 10 }));
    expect(n).toBe(2 + 5 * 7 + 3);
    const [s] = await q<{ n: number }>(sql`SELECT count(*)::int AS n FROM customers WHERE email_normalized LIKE 's3__@example.com'`);
    expect(s!.n).toBe(50);
  });

  it('do not grow with the rows of a batch: one statement per kind of change', async () => {
    // One batch of 5 new customers and one of 50: the same statements (run bookkeeping included).
    const small = await statementsOf((counted) => importFile(counted, 'customers', customersFile(5, 0), { batchSize: 100 }));
    const large = await statementsOf((counted) => importFile(counted, 'customers', customersFile(50, 100), { batchSize: 100 }));
    expect(large).toBe(small);
    // Per batch: lock, lookup, new customers, identities, provenance, source records, progress; plus the run's start and end.
    expect(small).toBe(2 + 7);
    expect(await statementsOf((counted) => importFile(counted, 'customers', customersFile(50, 200), { batchSize: 20 }))).toBe(2 + 3 * 7);
    const txFile = path.join(tmp(), 't.csv');
    writeFileSync(txFile, `external_id,customer_external_id,occurred_at,currency,amount\n${Array.from({ length: 40 }, (_, i) => `T-${i},S-${100 + i},2025-03-01,USD,1${i}.00`).join('\n')}\n`);
    const tx = await statementsOf((counted) => importFile(counted, 'transactions', txFile, { batchSize: 100 }));
    // Per batch: lock, customer references, rates, upsert, progress.
    expect(tx).toBe(2 + 5);
  });
});

describe('encryption at write', () => {
  const write = (name: string, text: string) => {
    const file = path.join(tmp(), name);
    writeFileSync(file, text);
    return file;
  };
  const interactionsFile = (summary: string) => write('ix.csv',
    `external_id,customer_external_id,channel,type,subject,summary,occurred_at\nX-1,C-001,email,COMPLAINT,"Late delivery, again","${summary}",2025-06-03T09:00:00Z\n`);

  it('stores no birth date, subject or summary in clear, not even in the source records', async () => {
    await importFile(db.db, 'customers', fixture('customers-messy.csv'));
    await importFile(db.db, 'interactions', interactionsFile('Parcel 4711 never arrived'), { source: 'helpdesk', customerSource: 'crm' });
    const births = await q<{ birth_date: string }>(sql`SELECT birth_date FROM customers WHERE birth_date IS NOT NULL`);
    expect(births.length).toBeGreaterThan(5);
    expect(births.every((b) => isEncrypted(b.birth_date))).toBe(true);
    expect(births.map((b) => decryptField('customers.birth_date', b.birth_date))).toEqual(expect.arrayContaining(['1985-12-10', '1912-06-23']));
    const [clear] = await q<{ n: number }>(sql`SELECT count(*)::int AS n FROM customers WHERE birth_date ~ '^[0-9]{4}-'`);
    expect(clear!.n).toBe(0);
    const records = await q<{ fields: string }>(sql`SELECT fields::text AS fields FROM customer_source_records`);
    expect(records.length).toBeGreaterThan(5);
    expect(records.some((r) => /1985-12-10|1912-06-23|[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(r.fields))).toBe(false);
    const [ix] = await q<{ subject: string; summary: string }>(sql`SELECT subject, summary FROM interactions`);
    expect([isEncrypted(ix!.subject), isEncrypted(ix!.summary)]).toEqual([true, true]);
    expect([decryptField('interactions.subject', ix!.subject), decryptField('interactions.summary', ix!.summary)]).toEqual(['Late delivery, again', 'Parcel 4711 never arrived']);
  });

  it('a re-run changes nothing: same ciphertexts, updated_at, history and counts', async () => {
    await importFile(db.db, 'customers', fixture('customers-messy.csv'));
    await importFile(db.db, 'interactions', interactionsFile('Parcel 4711 never arrived'), { source: 'helpdesk', customerSource: 'crm' });
    const before = await dumpAll(db.db);
    const customers = await importFile(db.db, 'customers', fixture('customers-messy.csv'));
    const interactions = await importFile(db.db, 'interactions', interactionsFile('Parcel 4711 never arrived'), { source: 'helpdesk', customerSource: 'crm' });
    expect([customers.created, customers.updated, interactions.created, interactions.updated]).toEqual([0, 0, 0, 0]);
    expect(await dumpAll(db.db)).toEqual(before);
  });

  it('keeps the stored ciphertext of an unchanged value and encrypts a changed one', async () => {
    await importFile(db.db, 'customers', fixture('customers-messy.csv'));
    await importFile(db.db, 'interactions', interactionsFile('Parcel 4711 never arrived'), { source: 'helpdesk', customerSource: 'crm' });
    const [ada] = await q<{ birth_date: string }>(sql`SELECT c.birth_date FROM customers c JOIN customer_identities i ON i.customer_id = c.id WHERE i.external_id = 'C-001'`);
    const [ixBefore] = await q<{ subject: string }>(sql`SELECT subject FROM interactions`);
    // The city changes, the birth date does not: the row is updated, its birth-date bytes stay.
    const s = await importFile(db.db, 'customers', write('c.csv', 'Customer ID,First Name,Date of Birth,City\nC-001,Ada,10.12.1985,Cambridge\n'));
    expect(s).toMatchObject({ updated: 1, created: 0 });
    const [adaAfter] = await q<{ birth_date: string; city: string }>(sql`SELECT c.birth_date, c.city FROM customers c JOIN customer_identities i ON i.customer_id = c.id WHERE i.external_id = 'C-001'`);
    expect(adaAfter).toEqual({ birth_date: ada!.birth_date, city: 'Cambridge' });
    const ix = await importFile(db.db, 'interactions', interactionsFile('Found at the neighbour'), { source: 'helpdesk', customerSource: 'crm' });
    expect(ix).toMatchObject({ updated: 1 });
    const [ixAfter] = await q<{ subject: string; summary: string }>(sql`SELECT subject, summary FROM interactions`);
    expect(ixAfter!.subject).toBe(ixBefore!.subject);
    expect(decryptField('interactions.summary', ixAfter!.summary)).toBe('Found at the neighbour');
  });
});

describe('importing records that belong to customers', () => {
  beforeEach(async () => {
    await importFile(db.db, 'customers', fixture('customers-messy.csv'), { batchSize: 100 });
  });

  it('transactions: one row per line item, decimal commas, per-row rejections, then an idempotent re-run', async () => {
    const errors = path.join(tmp(), 't.csv');
    const s = await importFile(db.db, 'transactions', fixture('transactions-items.csv'), { source: 'shop', customerSource: 'crm', errorsFile: errors });
    expect(s).toMatchObject({ rowsRead: 10, stored: 5, rejected: 5, created: 3, delimiter: ';' });
    // Cleaning rejects while reading; an unknown customer is found when its batch is applied: sort by row.
    expect(readReport(errors).map((r) => [r.row, r.field]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      ['4', 'customer_external_id'], ['5', 'currency'], ['6', 'amount'], ['7', 'occurred_at'], ['8', 'item.quantity'],
    ]);
    const tx = await q<{ external_id: string; amount: string; currency: string; items: number; amount_base: string }>(sql`SELECT t.external_id, t.amount::text, t.currency, t.amount_base::text,
      (SELECT count(*)::int FROM transaction_items i WHERE i.transaction_id = t.id) AS items FROM transactions t ORDER BY 1`);
    expect(tx.map((t) => [t.external_id, t.amount, t.currency, t.items])).toEqual([['O-1', '44.4800', 'EUR', 2], ['O-2', '1234.5000', 'EUR', 0], ['O-8', '42.0000', 'USD', 0]]);
    const [item] = await q<{ product_name: string }>(sql`SELECT product_name FROM transaction_items WHERE sku = 'SKU-1'`);
    expect(item!.product_name).toBe('Kaffeemühle');
    const before = await dumpAll(db.db);
    const again = await importFile(db.db, 'transactions', fixture('transactions-items.csv'), { source: 'shop', customerSource: 'crm' });
    expect(again).toMatchObject({ created: 0, updated: 0, stored: 5 });
    expect(await dumpAll(db.db)).toEqual(before);
  });

  it('transactions: replaces changed line items and refuses a source id that belongs to another customer', async () => {
    const dir = tmp();
    const file = path.join(dir, 't.csv');
    writeFileSync(file, 'external_id,customer_external_id,occurred_at,currency,item_sku,item_quantity,item_unit_price\nO-1,C-001,2025-03-01,USD,A,1,2.00\nO-1,C-001,2025-03-01,USD,B,1,3.00\n');
    expect(await importFile(db.db, 'transactions', file, { source: 'shop', customerSource: 'crm' })).toMatchObject({ created: 1, stored: 2 });
    writeFileSync(file, 'external_id,customer_external_id,occurred_at,currency,item_sku,item_quantity,item_unit_price\nO-1,C-001,2025-03-01,USD,A,1,2.00\nO-1,C-001,2025-03-01,USD,C,2,3.00\n');
    expect(await importFile(db.db, 'transactions', file, { source: 'shop', customerSource: 'crm' })).toMatchObject({ created: 0, updated: 1, stored: 2 });
    const items = await q<{ sku: string; quantity: number }>(sql`SELECT sku, quantity FROM transaction_items ORDER BY position`);
    expect(items).toEqual([{ sku: 'A', quantity: 1 }, { sku: 'C', quantity: 2 }]);
    const [m] = await q<{ total_spent: string }>(sql`SELECT m.total_spent::text FROM customer_metrics m JOIN customer_identities i ON i.customer_id = m.customer_id WHERE i.external_id = 'C-001'`);
    expect(m!.total_spent).toBe('8.0000');
    const errors = path.join(dir, 'e.csv');
    writeFileSync(file, 'external_id,customer_external_id,occurred_at,currency,amount\nO-1,C-003,2025-03-01,USD,5.00\nO-9,C-003,2025-03-02,USD,7.00\n');
    expect(await importFile(db.db, 'transactions', file, { source: 'shop', customerSource: 'crm', errorsFile: errors })).toMatchObject({ created: 1, stored: 1, rejected: 1 });
    expect(readReport(errors)).toMatchObject([{ row: '1', field: 'external_id', reason: 'this source id is already recorded for another customer' }]);
    const [o1] = await q<{ amount: string }>(sql`SELECT amount::text FROM transactions WHERE external_id = 'O-1'`);
    expect(o1!.amount).toBe('8.0000');
  });

  it('transactions from NDJSON with nested items and currency symbols; bad JSON is a rejected row', async () => {
    const errors = path.join(tmp(), 't.ndjson');
    const s = await importFile(db.db, 'transactions', fixture('transactions.ndjson'), { source: 'web', customerSource: 'crm', errorsFile: errors });
    expect(s).toMatchObject({ format: 'ndjson', rowsRead: 4, stored: 2, rejected: 2, created: 2 });
    const [m] = await q<{ order_count: number; total_spent: string }>(sql`SELECT m.order_count, m.total_spent::text FROM customer_metrics m
      JOIN customer_identities i ON i.customer_id = m.customer_id WHERE i.external_id = 'C-003'`);
    expect(m).toEqual({ order_count: 0, total_spent: '-2.5000' });
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(errors, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { row: number; field: string });
    expect(lines.map((l) => [l.row, l.field])).toEqual([[3, '(row)'], [4, 'items.0.quantity']]);
  });

  it('interactions, tags, consents and identities, each with its rejections', async () => {
    await createSeeder(db.db).tagDefinition('vip');
    const ix = await importFile(db.db, 'interactions', fixture('interactions.csv'), { source: 'helpdesk', customerSource: 'crm' });
    expect(ix).toMatchObject({ rowsRead: 3, stored: 1, rejected: 2, created: 1 });
    const tags = await importFile(db.db, 'tags', fixture('tags.csv'));
    expect(tags).toMatchObject({ rowsRead: 4, stored: 2, rejected: 2, created: 2 });
    const consents = await importFile(db.db, 'consents', fixture('consents.csv'));
    expect(consents).toMatchObject({ rowsRead: 4, stored: 2, rejected: 2, created: 2 });
    const ids = await importFile(db.db, 'identities', fixture('identities.csv'));
    expect(ids).toMatchObject({ rowsRead: 3, stored: 2, rejected: 1, created: 2 });
    const before = await dumpAll(db.db);
    for (const [entity, file] of [['interactions', 'interactions.csv'], ['tags', 'tags.csv'], ['consents', 'consents.csv'], ['identities', 'identities.csv']] as const) {
      const again = await importFile(db.db, entity, fixture(file), { source: entity === 'interactions' ? 'helpdesk' : 'crm', customerSource: 'crm' });
      expect(again.created + again.updated).toBe(0);
    }
    expect(await dumpAll(db.db)).toEqual(before);
    const [events] = await q<{ n: number }>(sql`SELECT count(*)::int AS n FROM customer_tag_events WHERE action = 'ADDED' AND source = 'IMPORT'`);
    expect(events!.n).toBe(2);
  });

  it('writes the error report next to the input by default', async () => {
    const { copyFileSync } = await import('node:fs');
    await createSeeder(db.db).tagDefinition('vip');
    const dir = tmp();
    copyFileSync(fixture('tags.csv'), path.join(dir, 'tags.csv'));
    await importFile(db.db, 'tags', path.join(dir, 'tags.csv'), { errorsFile: undefined });
    expect(existsSync(path.join(dir, 'tags.errors.csv'))).toBe(true);
    expect(readReport(path.join(dir, 'tags.errors.csv')).map((r) => r.reason).sort()).toEqual(['no customer with crm id C-404', 'no tag definition with key unknown_tag']);
  });
});
