/**
 * SQL of imports. Every batch: its resolved rows go into `import_staging` (one statement), set-based
 * statements move them into the target tables, and the staging rows are deleted, all inside the
 * batch's transaction. Arrays in, rows out.
 */
import { sql } from 'drizzle-orm';
import { execRows, type Executor } from '../../db/client';

export interface RunCounters { rowsRead: number; stored: number; rejected: number }

export async function createRun(db: Executor, entity: string, source: string, fileName: string): Promise<string> {
  const [row] = await execRows<{ id: string }>(db, sql`INSERT INTO import_runs (entity, source, file_name) VALUES (${entity}, ${source}, ${fileName}) RETURNING id`);
  return row!.id;
}

export async function finishRun(db: Executor, runId: string, status: 'COMPLETED' | 'FAILED', c: RunCounters, summary: unknown): Promise<void> {
  await db.execute(sql`UPDATE import_runs SET status = ${status}, rows_read = ${c.rowsRead}, stored = ${c.stored}, rejected = ${c.rejected},
    summary = ${JSON.stringify(summary)}::jsonb, finished_at = now() WHERE id = ${runId}::uuid`);
}

/** Progress of the run, committed with the batch it counts. */
export async function advanceRun(db: Executor, runId: string, c: RunCounters): Promise<void> {
  await db.execute(sql`UPDATE import_runs SET rows_read = ${c.rowsRead}, stored = ${c.stored}, rejected = ${c.rejected}, batches = batches + 1
    WHERE id = ${runId}::uuid`);
}

export async function stage(db: Executor, runId: string, batch: number, rows: { row_no: number }[]): Promise<void> {
  if (!rows.length) return;
  await db.execute(sql`INSERT INTO import_staging (run_id, batch, row_no, payload)
    SELECT ${runId}::uuid, ${batch}, (r->>'row_no')::int, r FROM jsonb_array_elements(${JSON.stringify(rows)}::jsonb) r`);
}

export async function clearStage(db: Executor, runId: string, batch: number): Promise<void> {
  await db.execute(sql`DELETE FROM import_staging WHERE run_id = ${runId}::uuid AND batch = ${batch}`);
}

/**
 * Serializes imports of one kind (two imports of customers must not both create the same person). One
 * lock per batch, not one per key: thousands of advisory locks in one transaction would eat PostgreSQL's
 * shared lock table. Mutations lock per key (lockSourceKey); a mutation racing an import on the same new
 * source key is resolved by the unique index on identities (the import's insert does nothing).
 */
export async function lockKeys(db: Executor, kind: string, keys: { source: string; externalId: string }[]): Promise<void> {
  if (!keys.length) return;
  await db.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`import\u001f${kind}`}, 0))`);
}

// ---------------------------------------------------------------------------------------------
// Lookups

export async function identitiesByKeys(db: Executor, keys: { source: string; externalId: string }[]): Promise<{ source: string; externalId: string; customerId: string }[]> {
  if (!keys.length) return [];
  return execRows(db, sql`SELECT ci.source, ci.external_id AS "externalId", ci.customer_id AS "customerId" FROM customer_identities ci
    WHERE (ci.source, ci.external_id) IN (SELECT * FROM unnest(${sql.param(keys.map((k) => k.source))}::text[], ${sql.param(keys.map((k) => k.externalId))}::text[]))`);
}

/** Oldest customer per email / phone (the most established record wins a tie). */
export async function customersByEmails(db: Executor, emails: string[]): Promise<{ key: string; id: string }[]> {
  if (!emails.length) return [];
  return execRows(db, sql`SELECT DISTINCT ON (email_normalized) email_normalized AS key, id FROM customers
    WHERE email_normalized = ANY(${sql.param(emails)}::text[]) ORDER BY email_normalized, created_at, id`);
}

export async function customersByPhones(db: Executor, phones: string[]): Promise<{ key: string; id: string }[]> {
  if (!phones.length) return [];
  return execRows(db, sql`SELECT DISTINCT ON (phone_e164) phone_e164 AS key, id FROM customers
    WHERE phone_e164 = ANY(${sql.param(phones)}::text[]) ORDER BY phone_e164, created_at, id`);
}

export interface ExistingCustomer {
  id: string; first_name: string | null; last_name: string | null; email: string | null; email_normalized: string | null; phone: string | null;
  phone_e164: string | null; birth_date: string | null; gender: string | null; address_line1: string | null; address_line2: string | null; city: string | null;
  region: string | null; postal_code: string | null; country: string | null; lifecycle_stage: string; display_name: string; updated_at: string;
  sources: { field: string; source: string; updated_at: string; rule: string }[] | null;
}

/** The stored version of source records (canonical JSON text of their clean fields). */
export async function sourceRecordsByKeys(db: Executor, source: string, externalIds: string[]): Promise<{ externalId: string; customerId: string; digest: string }[]> {
  if (!externalIds.length) return [];
  return execRows(db, sql`SELECT external_id AS "externalId", customer_id AS "customerId", fields->>'digest' AS digest FROM customer_source_records
    WHERE source = ${source} AND external_id = ANY(${sql.param(externalIds)}::text[])`);
}

export async function customersWithSources(db: Executor, ids: string[]): Promise<ExistingCustomer[]> {
  if (!ids.length) return [];
  return execRows(db, sql`SELECT c.id, c.first_name, c.last_name, c.email, c.email_normalized, c.phone, c.phone_e164, c.birth_date::text AS birth_date,
      c.gender, c.address_line1, c.address_line2, c.city, c.region, c.postal_code, c.country, c.lifecycle_stage, c.display_name,
      to_json(c.updated_at)#>>'{}' AS updated_at,
      (SELECT json_agg(json_build_object('field', f.field, 'source', f.source, 'updated_at', f.updated_at, 'rule', f.rule))
         FROM customer_field_sources f WHERE f.customer_id = c.id) AS sources
    FROM customers c WHERE c.id = ANY(${sql.param(ids)}::uuid[])`);
}

export async function existingCustomerIds(db: Executor, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await execRows<{ id: string }>(db, sql`SELECT id FROM customers WHERE id = ANY(${sql.param(ids)}::uuid[])`);
  return new Set(rows.map((r) => r.id));
}

export async function erasedHashes(db: Executor, hashes: string[]): Promise<Set<string>> {
  if (!hashes.length) return new Set();
  const rows = await execRows<{ h: string }>(db, sql`SELECT DISTINCT h FROM erasures e, unnest(e.blocked_hashes) h
    WHERE e.blocked_hashes && ${sql.param(hashes)}::text[] AND h = ANY(${sql.param(hashes)}::text[])`);
  return new Set(rows.map((r) => r.h));
}

export async function existingBySourceKey(db: Executor, table: 'transactions' | 'interactions', source: string, externalIds: string[]): Promise<{ externalId: string; id: string; customerId: string }[]> {
  if (!externalIds.length) return [];
  return execRows(db, sql`SELECT external_id AS "externalId", id, customer_id AS "customerId" FROM ${sql.identifier(table)}
    WHERE source = ${source} AND external_id = ANY(${sql.param(externalIds)}::text[])`);
}

/** Rate to the base currency per (currency, day), as rateToBase (commerce) computes it, for a whole batch in one statement. */
export async function ratesToBase(db: Executor, base: string, pairs: { currency: string; day: string }[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!pairs.length) return out;
  const rows = await execRows<{ currency: string; day: string; rate: string | null }>(db, sql`
    SELECT k.currency, k.day::text AS day, CASE WHEN k.currency = ${base} THEN 1::numeric ELSE coalesce(
      (SELECT r.rate FROM currency_rates r WHERE r.currency = k.currency AND r.base_currency = ${base} AND r.valid_from <= k.day ORDER BY r.valid_from DESC LIMIT 1),
      (SELECT a.rate / b.rate FROM
        (SELECT rate FROM currency_rates WHERE currency = k.currency AND base_currency = 'USD' AND valid_from <= k.day ORDER BY valid_from DESC LIMIT 1) a,
        (SELECT rate FROM currency_rates WHERE currency = ${base} AND base_currency = 'USD' AND valid_from <= k.day ORDER BY valid_from DESC LIMIT 1) b)) END::text AS rate
    FROM (SELECT u.currency, u.day::date AS day FROM unnest(${sql.param(pairs.map((p) => p.currency))}::text[], ${sql.param(pairs.map((p) => p.day))}::text[]) u(currency, day)) k`);
  for (const r of rows) if (r.rate !== null) out.set(`${r.currency}|${r.day}`, r.rate);
  return out;
}

export async function tagIdsByKeys(db: Executor, keys: string[]): Promise<Map<string, string>> {
  if (!keys.length) return new Map();
  const rows = await execRows<{ key: string; id: string }>(db, sql`SELECT key, id FROM tag_definitions WHERE key = ANY(${sql.param(keys)}::text[])`);
  return new Map(rows.map((r) => [r.key, r.id]));
}

// ---------------------------------------------------------------------------------------------
// Apply: staging -> target tables

const staged = (runId: string, batch: number) => sql`import_staging s WHERE s.run_id = ${runId}::uuid AND s.batch = ${batch}`;
const count = async (db: Executor, q: ReturnType<typeof sql>): Promise<number> => Number((await execRows<{ n: number | string }>(db, q))[0]?.n ?? 0);

const CUSTOMER_COLS = sql.raw(`first_name, last_name, display_name, email, email_normalized, phone, phone_e164, birth_date, birth_month, gender, address_line1, address_line2,
  city, region, postal_code, country`);
/**
 * Imports stage the birth date in clear; the clear month feeds filters and quality. The value itself is
 * encrypted by the start-up / db:migrate pass over legacy plaintext (src/modules/admin/keys.service.ts).
 */
const BIRTH_MONTH = sql.raw(`CASE WHEN r.birth_date ~ '^\\d{4}-\\d{2}-\\d{2}$' THEN date_trunc('month', r.birth_date::date)::date END`);

export async function applyCustomers(db: Executor, runId: string, batch: number): Promise<void> {
  await db.execute(sql`INSERT INTO customers (id, ${CUSTOMER_COLS}, lifecycle_stage)
    SELECT r.id, r.first_name, r.last_name, r.display_name, r.email, r.email_normalized, r.phone, r.phone_e164, r.birth_date, ${BIRTH_MONTH}, r.gender, r.address_line1,
      r.address_line2, r.city, r.region, r.postal_code, r.country, coalesce(r.lifecycle_stage, 'PROSPECT')
    FROM import_staging s, jsonb_populate_record(null::customers, s.payload->'record') r
    WHERE s.run_id = ${runId}::uuid AND s.batch = ${batch} AND s.payload->>'op' = 'insert'`);
  await db.execute(sql`UPDATE customers c SET (${CUSTOMER_COLS}, lifecycle_stage, updated_at) = (r.first_name, r.last_name, r.display_name, r.email,
      r.email_normalized, r.phone, r.phone_e164, r.birth_date, ${BIRTH_MONTH}, r.gender, r.address_line1, r.address_line2, r.city, r.region, r.postal_code, r.country,
      coalesce(r.lifecycle_stage, c.lifecycle_stage), now())
    FROM import_staging s, jsonb_populate_record(null::customers, s.payload->'record') r
    WHERE s.run_id = ${runId}::uuid AND s.batch = ${batch} AND s.payload->>'op' = 'update' AND c.id = r.id`);
  await db.execute(sql`INSERT INTO customer_identities (customer_id, source, external_id)
    SELECT (s.payload->'record'->>'id')::uuid, i.source, i.external_id
    FROM import_staging s, jsonb_to_recordset(s.payload->'identities') AS i(source text, external_id text)
    WHERE s.run_id = ${runId}::uuid AND s.batch = ${batch}
    ON CONFLICT DO NOTHING`);
  await db.execute(sql`INSERT INTO customer_field_sources (customer_id, field, source, updated_at, rule)
    SELECT (s.payload->'record'->>'id')::uuid, f.field, f.source, f.updated_at, f.rule
    FROM import_staging s, jsonb_to_recordset(s.payload->'sources') AS f(field text, source text, updated_at timestamptz, rule text)
    WHERE s.run_id = ${runId}::uuid AND s.batch = ${batch}
    ON CONFLICT (customer_id, field) DO UPDATE SET source = EXCLUDED.source, updated_at = EXCLUDED.updated_at, rule = EXCLUDED.rule`);
  await db.execute(sql`INSERT INTO customer_source_records (customer_id, source, external_id, fields, source_updated_at)
    SELECT (s.payload->'record'->>'id')::uuid, r.source, r.external_id, r.fields, r.source_updated_at
    FROM import_staging s, jsonb_to_recordset(s.payload->'source_records') AS r(source text, external_id text, fields jsonb, source_updated_at timestamptz)
    WHERE s.run_id = ${runId}::uuid AND s.batch = ${batch}
    ON CONFLICT (source, external_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, fields = EXCLUDED.fields,
      source_updated_at = EXCLUDED.source_updated_at, imported_at = now()`);
}

/** Returns how many transactions were inserted and how many changed. */
export async function applyTransactions(db: Executor, runId: string, batch: number, source: string): Promise<{ inserted: number; updated: number }> {
  const [r] = await execRows<{ inserted: number | string; updated: number | string }>(db, sql`WITH up AS (
    INSERT INTO transactions (id, customer_id, source, external_id, occurred_at, type, status, channel, store, currency, amount, amount_base)
    SELECT r.id, r.customer_id, ${source}, r.external_id, r.occurred_at, r.type, r.status, r.channel, r.store, r.currency, r.amount, round(r.amount * r.rate, 4)
    FROM import_staging s, jsonb_to_record(s.payload) AS r(id uuid, customer_id uuid, external_id text, occurred_at timestamptz, type text, status text,
      channel text, store text, currency text, amount numeric, rate numeric)
    WHERE s.run_id = ${runId}::uuid AND s.batch = ${batch}
    ON CONFLICT (source, external_id) DO UPDATE SET occurred_at = EXCLUDED.occurred_at, type = EXCLUDED.type, status = EXCLUDED.status,
      channel = EXCLUDED.channel, store = EXCLUDED.store, currency = EXCLUDED.currency, amount = EXCLUDED.amount, amount_base = EXCLUDED.amount_base, updated_at = now()
    WHERE (transactions.occurred_at, transactions.type, transactions.status, transactions.channel, transactions.store, transactions.currency, transactions.amount, transactions.amount_base)
      IS DISTINCT FROM (EXCLUDED.occurred_at, EXCLUDED.type, EXCLUDED.status, EXCLUDED.channel, EXCLUDED.store, EXCLUDED.currency, EXCLUDED.amount, EXCLUDED.amount_base)
    RETURNING (xmax = 0) AS inserted)
    SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM up`);
  // Line items are replaced only where they differ (compared as text in position order): a re-run writes nothing.
  await db.execute(sql`WITH want AS (
      SELECT (s.payload->>'id')::uuid AS id, (s.payload->>'customer_id')::uuid AS customer_id, s.payload->'items' AS items,
        (SELECT coalesce(string_agg(concat_ws('|', i->>'sku', i->>'productName', coalesce(i->>'category', ''), i->>'quantity', i->>'unitPrice'), '~' ORDER BY n), '')
           FROM jsonb_array_elements(s.payload->'items') WITH ORDINALITY AS x(i, n)) AS digest
      FROM ${staged(runId, batch)} AND jsonb_typeof(s.payload->'items') = 'array'),
    cur AS (
      SELECT w.id, coalesce((SELECT string_agg(concat_ws('|', ti.sku, ti.product_name, coalesce(ti.category, ''), ti.quantity::text, ti.unit_price::text), '~' ORDER BY ti.position)
        FROM transaction_items ti WHERE ti.customer_id = w.customer_id AND ti.transaction_id = w.id), '') AS digest FROM want w),
    changed AS (SELECT w.* FROM want w JOIN cur USING (id) WHERE w.digest IS DISTINCT FROM cur.digest),
    del AS (DELETE FROM transaction_items ti USING changed c WHERE ti.customer_id = c.customer_id AND ti.transaction_id = c.id)
    INSERT INTO transaction_items (transaction_id, customer_id, position, sku, product_name, category, quantity, unit_price)
    SELECT c.id, c.customer_id, x.n, x.i->>'sku', x.i->>'productName', x.i->>'category', (x.i->>'quantity')::int, (x.i->>'unitPrice')::numeric
    FROM changed c, jsonb_array_elements(c.items) WITH ORDINALITY AS x(i, n)`);
  return { inserted: Number(r?.inserted ?? 0), updated: Number(r?.updated ?? 0) };
}

export async function applyInteractions(db: Executor, runId: string, batch: number, source: string): Promise<{ inserted: number; updated: number }> {
  const [r] = await execRows<{ inserted: number | string; updated: number | string }>(db, sql`WITH up AS (
    INSERT INTO interactions (id, customer_id, source, external_id, channel, type, direction, subject, summary, sentiment, status, agent, occurred_at)
    SELECT r.id, r.customer_id, ${source}, r.external_id, r.channel, r.type, r.direction, r.subject, r.summary, r.sentiment, r.status, r.agent, r.occurred_at
    FROM import_staging s, jsonb_to_record(s.payload) AS r(id uuid, customer_id uuid, external_id text, channel text, type text, direction text, subject text,
      summary text, sentiment text, status text, agent text, occurred_at timestamptz)
    WHERE s.run_id = ${runId}::uuid AND s.batch = ${batch}
    ON CONFLICT (source, external_id) DO UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, direction = EXCLUDED.direction, subject = EXCLUDED.subject,
      summary = EXCLUDED.summary, sentiment = EXCLUDED.sentiment, status = EXCLUDED.status, agent = EXCLUDED.agent, occurred_at = EXCLUDED.occurred_at, updated_at = now()
    WHERE (interactions.channel, interactions.type, interactions.direction, interactions.subject, interactions.summary, interactions.sentiment, interactions.status,
      interactions.agent, interactions.occurred_at) IS DISTINCT FROM (EXCLUDED.channel, EXCLUDED.type, EXCLUDED.direction, EXCLUDED.subject, EXCLUDED.summary,
      EXCLUDED.sentiment, EXCLUDED.status, EXCLUDED.agent, EXCLUDED.occurred_at)
    RETURNING (xmax = 0) AS inserted)
    SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM up`);
  return { inserted: Number(r?.inserted ?? 0), updated: Number(r?.updated ?? 0) };
}

/** Current tags upserted (source IMPORT, actor = the file's source); an ADDED or CHANGED event for each real change. */
export async function applyTags(db: Executor, runId: string, batch: number, actor: string): Promise<{ inserted: number; updated: number }> {
  // A MULTIPLE tag keeps one assignment per value (value_key = value); a SINGLE tag has one (value_key '').
  const [r] = await execRows<{ inserted: number | string; updated: number | string }>(db, sql`WITH s AS (
      SELECT r.*, CASE WHEN d.cardinality = 'MULTIPLE' THEN coalesce(r.value, '') ELSE '' END AS value_key
      FROM import_staging s, jsonb_to_record(s.payload) AS r(customer_id uuid, tag_id uuid, value text, assigned_at timestamptz, expires_at timestamptz)
      JOIN tag_definitions d ON d.id = r.tag_id
      WHERE s.run_id = ${runId}::uuid AND s.batch = ${batch}),
    prev AS (SELECT ct.customer_id, ct.tag_id, ct.value_key, ct.value FROM customer_tags ct JOIN s USING (customer_id, tag_id, value_key)),
    up AS (
      INSERT INTO customer_tags (customer_id, tag_id, value_key, value, source, actor, assigned_at, expires_at)
      SELECT customer_id, tag_id, value_key, value, 'IMPORT', ${actor}, coalesce(assigned_at, now()), expires_at FROM s
      ON CONFLICT (customer_id, tag_id, value_key) DO UPDATE SET value = EXCLUDED.value, source = 'IMPORT', actor = EXCLUDED.actor, assigned_at = EXCLUDED.assigned_at,
        expires_at = EXCLUDED.expires_at
      WHERE (customer_tags.value, customer_tags.expires_at) IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.expires_at)
      RETURNING customer_id, tag_id, value_key, value, assigned_at),
    ev AS (
      INSERT INTO customer_tag_events (customer_id, tag_id, action, value, previous_value, source, actor, occurred_at)
      SELECT up.customer_id, up.tag_id, CASE WHEN prev.customer_id IS NULL THEN 'ADDED' ELSE 'CHANGED' END, up.value, prev.value, 'IMPORT', ${actor}, up.assigned_at
      FROM up LEFT JOIN prev USING (customer_id, tag_id, value_key)
      RETURNING action)
    SELECT count(*) FILTER (WHERE action = 'ADDED') AS inserted, count(*) FILTER (WHERE action = 'CHANGED') AS updated FROM ev`);
  return { inserted: Number(r?.inserted ?? 0), updated: Number(r?.updated ?? 0) };
}

/** Consent history is append-only: a decision already recorded (same purpose, status, time and source) is not added twice. */
export async function applyConsents(db: Executor, runId: string, batch: number): Promise<number> {
  return count(db, sql`WITH ins AS (
    INSERT INTO consents (customer_id, purpose, status, source, recorded_at)
    SELECT r.customer_id, r.purpose, r.status, r.source, r.recorded_at
    FROM import_staging s, jsonb_to_record(s.payload) AS r(customer_id uuid, purpose text, status text, source text, recorded_at timestamptz)
    WHERE s.run_id = ${runId}::uuid AND s.batch = ${batch}
      AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.customer_id = r.customer_id AND c.purpose = r.purpose AND c.status = r.status
        AND c.recorded_at = r.recorded_at AND c.source = r.source)
    RETURNING 1) SELECT count(*) AS n FROM ins`);
}

export async function applyIdentities(db: Executor, runId: string, batch: number): Promise<number> {
  return count(db, sql`WITH ins AS (
    INSERT INTO customer_identities (customer_id, source, external_id)
    SELECT r.customer_id, r.source, r.external_id
    FROM import_staging s, jsonb_to_record(s.payload) AS r(customer_id uuid, source text, external_id text)
    WHERE s.run_id = ${runId}::uuid AND s.batch = ${batch}
    ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) AS n FROM ins`);
}
