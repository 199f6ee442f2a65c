import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRows, openDb, type DbHandle } from '../../../src/db/client';
import { migrateDb } from '../../../src/db/migrate';
import { decryptField } from '../../../src/lib/crypto';
import { decryptInteractionTexts } from '../../../src/modules/service/service.repository';
import { DemoDataGenerator, type CurrencyRateInput } from '../../../src/modules/ingest/demo-data';
import {
  SEED_TABLES, SeedTargetNotEmptyError, countCustomers, seedDemoData, type SeedOptions, type SeedSummary,
} from '../../../src/modules/ingest/seed.service';

const usingPostgres = Boolean(process.env.TEST_DATABASE_URL);
const OPTIONS: SeedOptions = { customers: 200, seed: 42, anchor: new Date('2025-06-01T00:00:00Z'), batchSize: 64 };

/** A fresh, migrated database: a new one on TEST_DATABASE_URL's server, or in-memory PGlite. */
async function freshDatabase(): Promise<{ handle: DbHandle; drop: () => Promise<void> }> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    const handle = await openDb({ databaseUrl: undefined, pgliteDir: '', inMemory: true, databasePoolMax: 1 });
    await migrateDb(handle);
    return { handle, drop: () => handle.close() };
  }
  const name = `seed_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  const handle = await openDb({ databaseUrl: target.toString(), pgliteDir: '', databasePoolMax: 4 });
  await migrateDb(handle);
  return {
    handle,
    async drop() {
      await handle.close();
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

let handle: DbHandle;
let drop: () => Promise<void>;
let summary: SeedSummary;

const count = async (query: ReturnType<typeof sql>): Promise<number> => {
  const [row] = await execRows<{ n: number | string }>(handle.db, query);
  return Number(row?.n);
};

/**
 * A digest of every seeded row, to compare two seeds byte for byte. Encrypted columns get a fresh IV
 * on every write, so they enter the digest decrypted.
 */
const fingerprint = async (): Promise<string> => {
  const secret = await execRows<{ id: string; birth_date: string | null; subject: string | null }>(handle.db, sql`
    SELECT id::text AS id, birth_date, NULL AS subject FROM customers UNION ALL SELECT id::text, NULL, subject FROM interactions ORDER BY id`);
  const clear = secret.map((r) => `${r.id}:${decryptField('customers.birth_date', r.birth_date)}:${decryptField('interactions.subject', r.subject)}`).join(',');
  const [row] = await execRows<{ digest: string }>(handle.db, sql`
    SELECT md5(string_agg(part, '|' ORDER BY part)) AS digest FROM (
      SELECT md5(${clear}) AS part
      UNION ALL SELECT md5(string_agg((to_jsonb(c) - 'birth_date')::text, ',' ORDER BY c.id)) FROM customers c
      UNION ALL SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM (
        SELECT id, customer_id, source, external_id, occurred_at, type, status, channel, store, currency, amount, amount_base
        FROM transactions) t
      UNION ALL SELECT md5(string_agg(i::text, ',' ORDER BY i.id)) FROM transaction_items i
      UNION ALL SELECT md5(string_agg(x::text, ',' ORDER BY x.id)) FROM (
        SELECT id, customer_id, external_id, channel, type, sentiment, status, occurred_at FROM interactions) x
      UNION ALL SELECT md5(string_agg(e::text, ',' ORDER BY e.id)) FROM (
        SELECT e.id, e.customer_id, d.key, e.action, e.value, e.occurred_at FROM customer_tag_events e JOIN tag_definitions d ON d.id = e.tag_id) e
      UNION ALL SELECT md5(string_agg(k::text, ',' ORDER BY k.id)) FROM consents k
    ) parts`);
  return row!.digest;
};

beforeAll(async () => {
  ({ handle, drop } = await freshDatabase());
  summary = await seedDemoData(handle, OPTIONS);
}, 120_000);

afterAll(async () => {
  await drop?.();
});

describe('seedDemoData', () => {
  it('writes the requested customers and reports the rows of every table', async () => {
    expect(summary.customers).toBe(200);
    expect(await countCustomers(handle)).toBe(200);
    const counts = await execRows<Record<string, number | string>>(handle.db, sql`
      SELECT (SELECT count(*) FROM customers) AS customers,
             (SELECT count(*) FROM customer_identities) AS customer_identities,
             (SELECT count(*) FROM consents) AS consents,
             (SELECT count(*) FROM customer_tags) AS customer_tags,
             (SELECT count(*) FROM customer_tag_events) AS customer_tag_events,
             (SELECT count(*) FROM transactions) AS transactions,
             (SELECT count(*) FROM transaction_items) AS transaction_items,
             (SELECT count(*) FROM interactions) AS interactions`);
    const actual = Object.fromEntries(Object.entries(counts[0]!).map(([k, v]) => [k, Number(v)]));
    const { tag_definitions: tagDefinitions, ...reported } = summary.rows;
    expect(actual).toEqual(reported);
    expect(tagDefinitions).toBe(16);
    expect(summary.totalRows).toBe(SEED_TABLES.reduce((a, t) => a + summary.rows[t], 0));
    // Roughly 10 transactions and 5 interactions per customer.
    expect(summary.rows.transactions / 200).toBeGreaterThan(6);
    expect(summary.rows.interactions / 200).toBeGreaterThan(3);
  });

  it('stores exactly the rows the generator produces (text, unicode, timestamps, money)', async () => {
    const tagIds = await execRows<{ id: string; key: string }>(handle.db, sql`SELECT id::text AS id, key FROM tag_definitions`);
    const rates = await execRows<CurrencyRateInput>(handle.db, sql`
      SELECT currency, base_currency AS "baseCurrency", valid_from::text AS "validFrom", rate::text AS rate FROM currency_rates`);
    const expected = new DemoDataGenerator({
      seed: 42, anchor: OPTIONS.anchor!, rates, tagIds: new Map(tagIds.map((t) => [t.key, t.id])),
    }).batch(0, 200);
    const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => (a.id < b.id ? -1 : 1));
    // Decimals and instants compared by value: numeric(18,4) prints trailing zeros, drivers differ on timestamps.
    const dec = (v: string | null | undefined) => (v === null || v === undefined ? null : Number(v).toFixed(4));

    const customers = await execRows<Record<string, string | null>>(handle.db, sql`
      SELECT id::text AS id, first_name, last_name, display_name, email, email_normalized, phone, phone_e164,
             birth_date, gender, address_line1, address_line2, city, region, postal_code, country,
             lifecycle_stage, (extract(epoch FROM created_at) * 1000)::bigint::text AS created_at,
             (extract(epoch FROM updated_at) * 1000)::bigint::text AS updated_at
      FROM customers ORDER BY id`);
    // Birth dates are stored encrypted (src/lib/crypto.ts); compare what they decrypt to.
    expect(customers.filter((c) => c.birth_date !== null).every((c) => c.birth_date!.startsWith('v1:'))).toBe(true);
    for (const c of customers) c.birth_date = decryptField('customers.birth_date', c.birth_date ?? null);
    expect(customers).toEqual(byId(expected.customers).map((c) => ({
      id: c.id, first_name: c.firstName, last_name: c.lastName, display_name: c.displayName, email: c.email,
      email_normalized: c.emailNormalized, phone: c.phone, phone_e164: c.phoneE164, birth_date: c.birthDate, gender: c.gender,
      address_line1: c.addressLine1, address_line2: c.addressLine2, city: c.city, region: c.region, postal_code: c.postalCode,
      country: c.country, lifecycle_stage: c.lifecycleStage, created_at: String(c.createdAt), updated_at: String(c.updatedAt),
    })));

    const transactions = await execRows<Record<string, string | null>>(handle.db, sql`
      SELECT id::text AS id, external_id, type, status, channel, store, currency, amount::text AS amount,
             amount_base::text AS amount_base, (extract(epoch FROM occurred_at) * 1000)::bigint::text AS occurred_at
      FROM transactions ORDER BY id`);
    expect(transactions.map((t) => ({ ...t, amount: dec(t.amount), amount_base: dec(t.amount_base) }))).toEqual(
      byId(expected.transactions).map((t) => ({
        id: t.id, external_id: t.externalId, type: t.type, status: t.status, channel: t.channel, store: t.store, currency: t.currency,
        amount: dec(t.amount), amount_base: dec(t.amountBase), occurred_at: String(t.occurredAt),
      })),
    );

    const interactions = await execRows<Record<string, string | null>>(handle.db, sql`
      SELECT id::text AS id, subject, summary, agent, sentiment, status FROM interactions ORDER BY id`);
    expect(interactions.every((i) => !i.summary || i.summary.startsWith('v1:'))).toBe(true);
    for (const i of interactions) Object.assign(i, decryptInteractionTexts({ subject: i.subject ?? null, summary: i.summary ?? null }));
    expect(interactions).toEqual(byId(expected.interactions).map((i) => ({
      id: i.id, subject: i.subject, summary: i.summary, agent: i.agent, sentiment: i.sentiment, status: i.status,
    })));

    const tags = await execRows<Record<string, string | null>>(handle.db, sql`
      SELECT customer_id::text AS customer_id, tag_id::text AS tag_id, value, source, actor, confidence::text AS confidence,
             (extract(epoch FROM expires_at) * 1000)::bigint::text AS expires_at
      FROM customer_tags ORDER BY customer_id, tag_id`);
    expect(tags.map((t) => ({ ...t, confidence: dec(t.confidence) }))).toEqual(
      [...expected.customerTags].sort((a, b) => (a.customerId + a.tagId < b.customerId + b.tagId ? -1 : 1)).map((t) => ({
        customer_id: t.customerId, tag_id: t.tagId, value: t.value, source: t.source, actor: t.actor, confidence: dec(t.confidence),
        expires_at: t.expiresAt === null ? null : String(t.expiresAt),
      })),
    );
  });

  it('attaches every item to a transaction of the same customer and every customer to a CRM identity', async () => {
    expect(await count(sql`
      SELECT count(*) AS n FROM transaction_items i
      LEFT JOIN transactions t ON t.id = i.transaction_id AND t.customer_id = i.customer_id
      WHERE t.id IS NULL`)).toBe(0);
    expect(await count(sql`
      SELECT count(*) AS n FROM customers c
      WHERE NOT EXISTS (SELECT 1 FROM customer_identities ci WHERE ci.customer_id = c.id AND ci.source = 'crm')`)).toBe(0);
    expect(await count(sql`SELECT count(*) AS n FROM transactions t WHERE NOT EXISTS (SELECT 1 FROM transaction_items i WHERE i.transaction_id = t.id)`)).toBe(0);
  });

  it('makes every order amount the sum of its items', async () => {
    expect(await count(sql`
      SELECT count(*) AS n FROM transactions t
      JOIN (SELECT transaction_id, sum(quantity * unit_price) AS total FROM transaction_items GROUP BY transaction_id) i
        ON i.transaction_id = t.id
      WHERE i.total <> t.amount`)).toBe(0);
  });

  it('converts amount_base with the rates of currency_rates', async () => {
    expect(await count(sql`
      SELECT count(*) AS n FROM transactions t
      JOIN currency_rates r ON r.currency = t.currency AND r.base_currency = 'USD'
      WHERE round(t.amount * r.rate, 4) <> t.amount_base`)).toBe(0);
  });

  it('dates activity between sign-up and the anchor', async () => {
    expect(await count(sql`
      SELECT count(*) AS n FROM transactions t JOIN customers c ON c.id = t.customer_id
      WHERE t.occurred_at < c.created_at OR t.occurred_at >= '2025-06-01T00:00:00Z'
         OR t.occurred_at < timestamptz '2025-06-01T00:00:00Z' - interval '730 days'`)).toBe(0);
    expect(await count(sql`
      SELECT count(*) AS n FROM interactions x JOIN customers c ON c.id = x.customer_id
      WHERE x.occurred_at < c.created_at OR x.occurred_at >= '2025-06-01T00:00:00Z'`)).toBe(0);
    expect(await count(sql`SELECT count(*) AS n FROM customers WHERE updated_at < created_at`)).toBe(0);
  });

  it('keeps lifecycle stages consistent with the purchases', async () => {
    expect(await count(sql`
      SELECT count(*) AS n FROM customers c
      WHERE (c.lifecycle_stage = 'PROSPECT') = EXISTS (
        SELECT 1 FROM transactions t WHERE t.customer_id = c.id AND t.type = 'ORDER' AND t.status = 'COMPLETED')`)).toBe(0);
    expect(await count(sql`SELECT count(DISTINCT lifecycle_stage) AS n FROM customers`)).toBeGreaterThanOrEqual(5);
  });

  it('records an ADDED event for every current tag, at its assignment time', async () => {
    expect(await count(sql`
      SELECT count(*) AS n FROM customer_tags ct
      WHERE NOT EXISTS (
        SELECT 1 FROM customer_tag_events e
        WHERE e.customer_id = ct.customer_id AND e.tag_id = ct.tag_id AND e.action = 'ADDED' AND e.occurred_at = ct.assigned_at)`)).toBe(0);
    expect(await count(sql`SELECT count(DISTINCT category) AS n FROM tag_definitions d JOIN customer_tags ct ON ct.tag_id = d.id`)).toBe(6);
  });

  it('refuses to seed a database that already has customers', async () => {
    await expect(seedDemoData(handle, { ...OPTIONS, customers: 5 })).rejects.toBeInstanceOf(SeedTargetNotEmptyError);
    expect(await countCustomers(handle)).toBe(200);
  });

  it('replaces the data with identical rows when seeding again with reset', async () => {
    const before = await fingerprint();
    const again = await seedDemoData(handle, { ...OPTIONS, reset: true, batchSize: 50 });
    expect(again.rows.tag_definitions).toBe(0);
    expect({ ...again.rows, tag_definitions: 16 }).toEqual(summary.rows);
    expect(await fingerprint()).toBe(before);
  }, 60_000);

  it.skipIf(!usingPostgres)('reports a COPY the server rejects, and leaves the previous data in place', async () => {
    await execRows(handle.db, sql`ALTER TABLE transactions ADD CONSTRAINT seed_test_reject CHECK (amount < 0) NOT VALID`);
    const before = await fingerprint();
    try {
      await expect(seedDemoData(handle, { ...OPTIONS, reset: true })).rejects.toThrow(/seed_test_reject/);
    } finally {
      await execRows(handle.db, sql`ALTER TABLE transactions DROP CONSTRAINT seed_test_reject`);
    }
    expect(await fingerprint()).toBe(before);
  }, 60_000);

  it.skipIf(!usingPostgres)('restores every index, key and foreign key after a bulk load', async () => {
    const schemaState = async () => execRows<{ def: string }>(handle.db, sql`
      SELECT def FROM (
        SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'public'
        UNION ALL
        SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace
      ) s ORDER BY def`);
    const before = await schemaState();
    const fp = await fingerprint();
    await seedDemoData(handle, { ...OPTIONS, reset: true, bulkLoad: true });
    expect(await schemaState()).toEqual(before);
    expect(await fingerprint()).toBe(fp);
  }, 60_000);
});
