/**
 * SQL of imports. A batch reaches PostgreSQL as parallel arrays, one per column (`unnest`), and every
 * kind of change of the batch is one set-based statement (insert customers, update customers, add
 * identities, upsert provenance, ...), all inside the batch's transaction. Lookups of a batch are one
 * statement too. Arrays in, rows out.
 */
import { hostname } from 'node:os';
import { sql, type SQL } from 'drizzle-orm';
import { execRows, type Executor } from '../../db/client';
import type { Entity } from './entities';

export interface RunCounters { rowsRead: number; stored: number; rejected: number }

export async function createRun(db: Executor, entity: string, source: string, fileName: string): Promise<string> {
  const [row] = await execRows<{ id: string }>(db, sql`INSERT INTO import_runs (entity, source, file_name, host, pid, heartbeat_at)
    VALUES (${entity}, ${source}, ${fileName}, ${hostname()}, ${process.pid}, now()) RETURNING id`);
  return row!.id;
}

/** A RUNNING run whose heartbeat is older than this belongs to a process that is gone (any host). */
export const RUN_STALE_AFTER_MS = 120_000;
/** How often a running import says it is alive (well under RUN_STALE_AFTER_MS). */
export const RUN_HEARTBEAT_MS = 15_000;

/** Heartbeat of this process's RUNNING runs. */
export async function heartbeatRuns(db: Executor): Promise<void> {
  await db.execute(sql`UPDATE import_runs SET heartbeat_at = now() WHERE status = 'RUNNING' AND host = ${hostname()} AND pid = ${process.pid}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Marks RUNNING runs whose process is gone INTERRUPTED: on this host, when their pid is no longer alive (at
 * once); on any host, when their heartbeat stopped RUN_STALE_AFTER_MS ago (several gateways or workers
 * import into one database; their pids cannot be checked from here). Returns the runs marked.
 */
export async function markStaleRuns(db: Executor): Promise<{ id: string; entity: string; fileName: string; startedAt: unknown }[]> {
  const running = await execRows<{ id: string; host: string | null; pid: number | null; stale: boolean }>(db, sql`
    SELECT id, host, pid, (coalesce(heartbeat_at, started_at) < now() - make_interval(secs => ${RUN_STALE_AFTER_MS / 1000})) AS stale
    FROM import_runs WHERE status = 'RUNNING'`);
  const here = hostname();
  const gone = running.filter((r) => r.stale || (r.host === here && r.pid !== null && r.pid !== process.pid && !alive(r.pid))).map((r) => r.id);
  if (!gone.length) return [];
  return execRows(db, sql`UPDATE import_runs SET status = 'INTERRUPTED', finished_at = now(),
      summary = coalesce(summary, '{}'::jsonb) || jsonb_build_object('interrupted', 'the importing process ended without finishing (killed or crashed); the batches it committed stay')
    WHERE status = 'RUNNING' AND id = ANY(${`{${gone.join(',')}}`}::uuid[])
    RETURNING id, entity, file_name AS "fileName", started_at AS "startedAt"`);
}

/** Tables each import writes, for refreshing their planner statistics while a large import runs. */
const WRITTEN: Record<Entity, string[]> = {
  customers: ['customers', 'customer_identities', 'customer_field_sources', 'customer_source_records', 'customer_search_words'],
  identities: ['customer_identities'],
  transactions: ['transactions', 'transaction_items'],
  interactions: ['interactions'],
  tags: ['customer_tags', 'customer_tag_events'],
  consents: ['consents'],
};

/** ANALYZE of the tables an import of `entity` writes (names from WRITTEN only). */
export async function analyzeWritten(db: Executor, entity: Entity): Promise<void> {
  await db.execute(sql.raw(`ANALYZE ${WRITTEN[entity].map((t) => `"${t}"`).join(', ')}`));
}

export async function finishRun(db: Executor, runId: string, status: 'COMPLETED' | 'FAILED', c: RunCounters, summary: unknown): Promise<void> {
  await db.execute(sql`UPDATE import_runs SET status = ${status}, rows_read = ${c.rowsRead}, stored = ${c.stored}, rejected = ${c.rejected},
    summary = ${JSON.stringify(summary)}::jsonb, finished_at = now() WHERE id = ${runId}::uuid`);
}

/** Progress of the run, committed with the batch it counts. */
export async function advanceRun(db: Executor, runId: string, c: RunCounters): Promise<void> {
  await db.execute(sql`UPDATE import_runs SET rows_read = ${c.rowsRead}, stored = ${c.stored}, rejected = ${c.rejected}, batches = batches + 1,
    heartbeat_at = now() WHERE id = ${runId}::uuid`);
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

const NEEDS_ESCAPE = /["\\]/;
const ESCAPE = /["\\]/g;
/**
 * A column of a batch as one array parameter (`unnest` turns parallel arrays into rows): the text of a
 * PostgreSQL array literal, cast on the server. Building the literal here costs one test per value (the
 * drivers' array serializers run two replacements per element, and each driver treats date, numeric
 * and jsonb arrays its own way); every element is quoted, backslash and quote escaped, null is NULL.
 */
export function arrayLiteral(values: readonly unknown[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i) out += ',';
    if (v === null || v === undefined) { out += 'NULL'; continue; }
    const t = String(v);
    out += NEEDS_ESCAPE.test(t) ? `"${t.replace(ESCAPE, '\\$&')}"` : `"${t}"`;
  }
  return `${out}}`;
}
const arr = (values: readonly unknown[], type: string): SQL => sql`${arrayLiteral(values)}::${sql.raw(type)}[]`;
/** `unnest(a, b, ...) AS alias(c1, c2, ...)` over the given columns. */
const rows = (alias: string, cols: Record<string, SQL>): SQL =>
  sql`unnest(${sql.join(Object.values(cols), sql`, `)}) AS ${sql.raw(alias)}(${sql.raw(Object.keys(cols).join(', '))})`;

// ---------------------------------------------------------------------------------------------
// Customers: everything identity resolution needs, in one statement

/**
 * A timestamp as JavaScript's toISOString() writes it (UTC, milliseconds, `Z`): survivorship compares
 * these strings, and parsing PostgreSQL's own format with Date costs more than the rest of the
 * resolution of a row.
 */
const isoMs = (col: SQL): SQL => sql`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A stored golden record; `updated_at` as toISOString() writes it. */
export interface ExistingCustomer {
  id: string; first_name: string | null; last_name: string | null; email: string | null; email_normalized: string | null; phone: string | null;
  phone_e164: string | null; birth_date: string | null; birth_date_bidx: string | null; gender: string | null; address_line1: string | null; address_line2: string | null;
  city: string | null; region: string | null; postal_code: string | null; country: string | null; lifecycle_stage: string; display_name: string; updated_at: string;
}
/**
 * Stored provenance of a field: [customer_id, field, source, updated_at (as toISOString() writes it),
 * rule]. A tuple, not an object: a batch brings ten of them per matched customer.
 */
export type StoredFieldSource = [customerId: string, field: string, source: string, updatedAt: string, rule: string];

export interface CustomerMatches {
  /** This source's external id -> owning customer. */
  identities: { externalId: string; customerId: string }[];
  /** Oldest customer per email / phone (the most established record wins a tie). */
  emails: { key: string; id: string }[];
  phones: { key: string; id: string }[];
  /** Digest of the stored version of each source record. */
  digests: { externalId: string; digest: string }[];
  /** Every customer any of the above points at, with its field provenance. */
  customers: ExistingCustomer[];
  sources: StoredFieldSource[];
  /** Whether the erasure blocklist has any entry (when not, new customers need no erasure check). */
  anyErasure: boolean;
}

/**
 * The oldest customer that satisfies `where`. The inner fence (OFFSET 0) makes the probe read the
 * customers with that email or phone by their index and sort those few; without it, `ORDER BY
 * created_at, id LIMIT 1` tempts the planner to walk the created_at index from the oldest customer
 * and test every row (measured: past the statement timeout for 5,000 emails on 27,000 customers).
 */
const oldest = (where: SQL): SQL => sql`SELECT c.id FROM (SELECT c.id, c.created_at FROM customers c WHERE ${where} OFFSET 0) c ORDER BY c.created_at, c.id LIMIT 1`;

/**
 * Identity matching of a whole batch as one statement: the batch's source keys, emails and phones are
 * looked up in their indexes, and the customers they point at come back with their provenance.
 *
 * Every lookup is a LATERAL probe per key (`OFFSET 0` / `LIMIT 1` keep the planner from flattening
 * it into a join): a batch costs a few thousand index probes however large the base is. As joins, the
 * planner hashed the whole index of the source (identities, source records) or of the matched
 * customers' provenance whenever its statistics lagged behind a growing table, which during a large
 * import is most of the time, and every batch then read the whole table again.
 */
export async function customerMatches(db: Executor, source: string, externalIds: string[], emails: string[], phones: string[]): Promise<CustomerMatches> {
  const [row] = await execRows<Record<keyof CustomerMatches, unknown>>(db, sql`WITH
    ids AS (SELECT k.external_id, ci.customer_id FROM ${rows('k', { external_id: arr(externalIds, 'text') })}
      CROSS JOIN LATERAL (SELECT ci.customer_id FROM customer_identities ci WHERE ci.source = ${source} AND ci.external_id = k.external_id LIMIT 1) ci),
    em AS (SELECT k.key, c.id FROM ${rows('k', { key: arr(emails, 'text') })}
      CROSS JOIN LATERAL (${oldest(sql`c.email_normalized = k.key`)}) c),
    ph AS (SELECT k.key, c.id FROM ${rows('k', { key: arr(phones, 'text') })}
      CROSS JOIN LATERAL (${oldest(sql`c.phone_e164 = k.key`)}) c),
    matched AS (SELECT customer_id AS id FROM ids UNION SELECT id FROM em UNION SELECT id FROM ph)
    SELECT
      (SELECT coalesce(json_agg(json_build_object('externalId', external_id, 'customerId', customer_id)), '[]') FROM ids) AS identities,
      (SELECT coalesce(json_agg(json_build_object('key', key, 'id', id)), '[]') FROM em) AS emails,
      (SELECT coalesce(json_agg(json_build_object('key', key, 'id', id)), '[]') FROM ph) AS phones,
      (SELECT coalesce(json_agg(json_build_object('externalId', k.external_id, 'digest', r.digest)), '[]')
         FROM ${rows('k', { external_id: arr(externalIds, 'text') })}
         CROSS JOIN LATERAL (SELECT r.fields->>'digest' AS digest FROM customer_source_records r WHERE r.source = ${source} AND r.external_id = k.external_id LIMIT 1) r) AS digests,
      (SELECT coalesce(json_agg(json_build_object('id', c.id, 'first_name', c.first_name, 'last_name', c.last_name, 'email', c.email,
          'email_normalized', c.email_normalized, 'phone', c.phone, 'phone_e164', c.phone_e164, 'birth_date', c.birth_date, 'birth_date_bidx', c.birth_date_bidx,
          'gender', c.gender, 'address_line1', c.address_line1, 'address_line2', c.address_line2, 'city', c.city, 'region', c.region,
          'postal_code', c.postal_code, 'country', c.country, 'lifecycle_stage', c.lifecycle_stage, 'display_name', c.display_name, 'updated_at', ${isoMs(sql`c.updated_at`)})), '[]')
         FROM matched m CROSS JOIN LATERAL (SELECT * FROM customers c WHERE c.id = m.id LIMIT 1) c) AS customers,
      (SELECT coalesce(json_agg(json_build_array(f.customer_id, f.field, f.source, ${isoMs(sql`f.updated_at`)}, f.rule)), '[]')
         FROM matched m CROSS JOIN LATERAL (SELECT * FROM customer_field_sources f WHERE f.customer_id = m.id OFFSET 0) f) AS sources,
      EXISTS (SELECT 1 FROM erasures) AS "anyErasure"`);
  const parse = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
  return {
    identities: parse(row!.identities), emails: parse(row!.emails), phones: parse(row!.phones), digests: parse(row!.digests),
    customers: parse(row!.customers), sources: parse(row!.sources), anyErasure: row!.anyErasure === true || row!.anyErasure === 't',
  };
}

export async function identitiesByKeys(db: Executor, keys: { source: string; externalId: string }[]): Promise<{ source: string; externalId: string; customerId: string }[]> {
  if (!keys.length) return [];
  // A LATERAL probe per key, as in customerMatches.
  return execRows(db, sql`SELECT k.source, k.external_id AS "externalId", ci.customer_id AS "customerId"
    FROM ${rows('k', { source: arr(keys.map((k) => k.source), 'text'), external_id: arr(keys.map((k) => k.externalId), 'text') })}
    CROSS JOIN LATERAL (SELECT ci.customer_id FROM customer_identities ci WHERE ci.source = k.source AND ci.external_id = k.external_id LIMIT 1) ci`);
}

export async function existingCustomerIds(db: Executor, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const found = await execRows<{ id: string }>(db, sql`SELECT id FROM customers WHERE id = ANY(${arr(ids, 'uuid')})`);
  return new Set(found.map((r) => r.id));
}

export async function erasedHashes(db: Executor, hashes: string[]): Promise<Set<string>> {
  if (!hashes.length) return new Set();
  const found = await execRows<{ h: string }>(db, sql`SELECT DISTINCT h FROM erasures e, unnest(e.blocked_hashes) h
    WHERE e.blocked_hashes && ${arr(hashes, 'text')} AND h = ANY(${arr(hashes, 'text')})`);
  return new Set(found.map((r) => r.h));
}

// ---------------------------------------------------------------------------------------------
// Customers: writes

/** A golden record as written: birth date already encrypted, its month and blind index derived. */
export interface CustomerRecord {
  id: string; first_name: string | null; last_name: string | null; display_name: string; email: string | null; phone: string | null;
  birth_date: string | null; birth_month: string | null; birth_date_bidx: string | null; gender: string | null; address_line1: string | null;
  address_line2: string | null; city: string | null; region: string | null; postal_code: string | null; country: string | null; lifecycle_stage: string | null;
}
export interface FieldSourceRow { customer_id: string; field: string; source: string; updated_at: string; rule: string }
export interface SourceRecordRow { customer_id: string; source: string; external_id: string; fields: string; source_updated_at: string | null }

const customerColumns = (rs: CustomerRecord[]) => ({
  id: arr(rs.map((r) => r.id), 'uuid'),
  first_name: arr(rs.map((r) => r.first_name), 'text'),
  last_name: arr(rs.map((r) => r.last_name), 'text'),
  display_name: arr(rs.map((r) => r.display_name), 'text'),
  email: arr(rs.map((r) => r.email), 'text'),
  phone: arr(rs.map((r) => r.phone), 'text'),
  birth_date: arr(rs.map((r) => r.birth_date), 'text'),
  birth_month: arr(rs.map((r) => r.birth_month), 'date'),
  birth_date_bidx: arr(rs.map((r) => r.birth_date_bidx), 'text'),
  gender: arr(rs.map((r) => r.gender), 'text'),
  address_line1: arr(rs.map((r) => r.address_line1), 'text'),
  address_line2: arr(rs.map((r) => r.address_line2), 'text'),
  city: arr(rs.map((r) => r.city), 'text'),
  region: arr(rs.map((r) => r.region), 'text'),
  postal_code: arr(rs.map((r) => r.postal_code), 'text'),
  country: arr(rs.map((r) => r.country), 'text'),
  lifecycle_stage: arr(rs.map((r) => r.lifecycle_stage), 'text'),
});
/** Email and phone arrive normalized: the display and the normalized column hold the same value. */
const CUSTOMER_COLS = sql.raw(`first_name, last_name, display_name, email, email_normalized, phone, phone_e164, birth_date, birth_month, birth_date_bidx,
  gender, address_line1, address_line2, city, region, postal_code, country`);
const CUSTOMER_VALUES = sql.raw(`r.first_name, r.last_name, r.display_name, r.email, r.email, r.phone, r.phone, r.birth_date, r.birth_month, r.birth_date_bidx,
  r.gender, r.address_line1, r.address_line2, r.city, r.region, r.postal_code, r.country`);

export async function insertCustomers(db: Executor, records: CustomerRecord[]): Promise<void> {
  if (!records.length) return;
  await db.execute(sql`INSERT INTO customers (id, ${CUSTOMER_COLS}, lifecycle_stage)
    SELECT r.id, ${CUSTOMER_VALUES}, coalesce(r.lifecycle_stage, 'PROSPECT') FROM ${rows('r', customerColumns(records))}`);
}

export async function updateCustomers(db: Executor, records: CustomerRecord[]): Promise<void> {
  if (!records.length) return;
  await db.execute(sql`UPDATE customers c SET (${CUSTOMER_COLS}, lifecycle_stage, updated_at) = (${CUSTOMER_VALUES}, coalesce(r.lifecycle_stage, c.lifecycle_stage), now())
    FROM ${rows('r', customerColumns(records))} WHERE c.id = r.id`);
}

export async function insertIdentities(db: Executor, ids: { customer_id: string; source: string; external_id: string }[]): Promise<number> {
  if (!ids.length) return 0;
  const [r] = await execRows<{ n: number | string }>(db, sql`WITH ins AS (INSERT INTO customer_identities (customer_id, source, external_id)
    SELECT i.customer_id, i.source, i.external_id FROM ${rows('i', {
      customer_id: arr(ids.map((i) => i.customer_id), 'uuid'), source: arr(ids.map((i) => i.source), 'text'), external_id: arr(ids.map((i) => i.external_id), 'text'),
    })}
    ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) AS n FROM ins`);
  return Number(r?.n ?? 0);
}

/** One customer's provenance entries as rows for upsertFieldSources (merges, API writes). */
export function fieldSourceRows(customerId: string, sources: readonly { field: string; source: string; updatedAt: string; rule: string }[]): FieldSourceRow[] {
  return sources.map((s) => ({ customer_id: customerId, field: s.field, source: s.source, updated_at: s.updatedAt, rule: s.rule }));
}

export async function upsertFieldSources(db: Executor, fs: FieldSourceRow[]): Promise<void> {
  if (!fs.length) return;
  await db.execute(sql`INSERT INTO customer_field_sources (customer_id, field, source, updated_at, rule)
    SELECT f.customer_id, f.field, f.source, f.updated_at, f.rule FROM ${rows('f', {
      customer_id: arr(fs.map((f) => f.customer_id), 'uuid'), field: arr(fs.map((f) => f.field), 'text'), source: arr(fs.map((f) => f.source), 'text'),
      updated_at: arr(fs.map((f) => f.updated_at), 'timestamptz'), rule: arr(fs.map((f) => f.rule), 'text'),
    })}
    ON CONFLICT (customer_id, field) DO UPDATE SET source = EXCLUDED.source, updated_at = EXCLUDED.updated_at, rule = EXCLUDED.rule`);
}

export async function upsertSourceRecords(db: Executor, recs: SourceRecordRow[]): Promise<void> {
  if (!recs.length) return;
  await db.execute(sql`INSERT INTO customer_source_records (customer_id, source, external_id, fields, source_updated_at)
    SELECT r.customer_id, r.source, r.external_id, r.fields, r.source_updated_at FROM ${rows('r', {
      customer_id: arr(recs.map((r) => r.customer_id), 'uuid'), source: arr(recs.map((r) => r.source), 'text'), external_id: arr(recs.map((r) => r.external_id), 'text'),
      fields: arr(recs.map((r) => r.fields), 'jsonb'), source_updated_at: arr(recs.map((r) => r.source_updated_at), 'timestamptz'),
    })}
    ON CONFLICT (source, external_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, fields = EXCLUDED.fields,
      source_updated_at = EXCLUDED.source_updated_at, imported_at = now()`);
}

// ---------------------------------------------------------------------------------------------
// Records that belong to a customer

/** Rate to the base currency per (currency, day), as rateToBase (commerce) computes it, for a whole batch in one statement. */
export async function ratesToBase(db: Executor, base: string, pairs: { currency: string; day: string }[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!pairs.length) return out;
  const found = await execRows<{ currency: string; day: string; rate: string | null }>(db, sql`
    SELECT k.currency, k.day::text AS day, CASE WHEN k.currency = ${base} THEN 1::numeric ELSE coalesce(
      (SELECT r.rate FROM currency_rates r WHERE r.currency = k.currency AND r.base_currency = ${base} AND r.valid_from <= k.day ORDER BY r.valid_from DESC LIMIT 1),
      (SELECT a.rate / b.rate FROM
        (SELECT rate FROM currency_rates WHERE currency = k.currency AND base_currency = 'USD' AND valid_from <= k.day ORDER BY valid_from DESC LIMIT 1) a,
        (SELECT rate FROM currency_rates WHERE currency = ${base} AND base_currency = 'USD' AND valid_from <= k.day ORDER BY valid_from DESC LIMIT 1) b)) END::text AS rate
    FROM ${rows('k', { currency: arr(pairs.map((p) => p.currency), 'text'), day: arr(pairs.map((p) => p.day), 'date') })}`);
  for (const r of found) if (r.rate !== null) out.set(`${r.currency}|${r.day}`, r.rate);
  return out;
}

export async function tagIdsByKeys(db: Executor, keys: string[]): Promise<Map<string, string>> {
  if (!keys.length) return new Map();
  const found = await execRows<{ key: string; id: string }>(db, sql`SELECT key, id FROM tag_definitions WHERE key = ANY(${arr(keys, 'text')})`);
  return new Map(found.map((r) => [r.key, r.id]));
}

/** Source keys of the batch that are already recorded for a customer other than the one the batch gives. */
export async function foreignSourceKeys(db: Executor, table: 'transactions' | 'interactions', source: string, keys: { externalId: string; customerId: string }[]): Promise<Set<string>> {
  if (!keys.length) return new Set();
  const found = await execRows<{ external_id: string }>(db, sql`SELECT k.external_id FROM ${rows('k', {
    external_id: arr(keys.map((k) => k.externalId), 'text'), customer_id: arr(keys.map((k) => k.customerId), 'uuid'),
  })} CROSS JOIN LATERAL (SELECT t.customer_id FROM ${sql.identifier(table)} t WHERE t.source = ${source} AND t.external_id = k.external_id LIMIT 1) t
    WHERE t.customer_id <> k.customer_id`);
  return new Set(found.map((r) => r.external_id));
}

export interface TransactionRow {
  id: string; customer_id: string; external_id: string; occurred_at: string; type: string; status: string; channel: string | null;
  store: string | null; currency: string; amount: string; rate: string;
}

/**
 * Inserts new transactions and updates changed ones (on source + external id). A row whose source key
 * already belongs to another customer is left alone (the caller finds it with foreignSourceKeys).
 * Returns how many were inserted and how many changed.
 */
export async function upsertTransactions(db: Executor, source: string, ts: TransactionRow[]): Promise<{ inserted: number; updated: number }> {
  if (!ts.length) return { inserted: 0, updated: 0 };
  const [r] = await execRows<{ inserted: number | string; updated: number | string }>(db, sql`WITH up AS (
    INSERT INTO transactions (id, customer_id, source, external_id, occurred_at, type, status, channel, store, currency, amount, amount_base)
    SELECT r.id, r.customer_id, ${source}, r.external_id, r.occurred_at, r.type, r.status, r.channel, r.store, r.currency, r.amount, round(r.amount * r.rate, 4)
    FROM ${rows('r', {
      id: arr(ts.map((t) => t.id), 'uuid'), customer_id: arr(ts.map((t) => t.customer_id), 'uuid'), external_id: arr(ts.map((t) => t.external_id), 'text'),
      occurred_at: arr(ts.map((t) => t.occurred_at), 'timestamptz'), type: arr(ts.map((t) => t.type), 'text'), status: arr(ts.map((t) => t.status), 'text'),
      channel: arr(ts.map((t) => t.channel), 'text'), store: arr(ts.map((t) => t.store), 'text'), currency: arr(ts.map((t) => t.currency), 'text'),
      amount: arr(ts.map((t) => t.amount), 'numeric'), rate: arr(ts.map((t) => t.rate), 'numeric'),
    })}
    ON CONFLICT (source, external_id) DO UPDATE SET occurred_at = EXCLUDED.occurred_at, type = EXCLUDED.type, status = EXCLUDED.status,
      channel = EXCLUDED.channel, store = EXCLUDED.store, currency = EXCLUDED.currency, amount = EXCLUDED.amount, amount_base = EXCLUDED.amount_base, updated_at = now()
    WHERE transactions.customer_id = EXCLUDED.customer_id
      AND (transactions.occurred_at, transactions.type, transactions.status, transactions.channel, transactions.store, transactions.currency, transactions.amount, transactions.amount_base)
      IS DISTINCT FROM (EXCLUDED.occurred_at, EXCLUDED.type, EXCLUDED.status, EXCLUDED.channel, EXCLUDED.store, EXCLUDED.currency, EXCLUDED.amount, EXCLUDED.amount_base)
    RETURNING (xmax = 0) AS inserted)
    SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM up`);
  return { inserted: Number(r?.inserted ?? 0), updated: Number(r?.updated ?? 0) };
}

export interface ItemRow { external_id: string; position: number; sku: string; product_name: string; category: string | null; quantity: number; unit_price: string }

/**
 * Line items of the batch's transactions, replaced only where they differ. `digests` is the canonical
 * text of each transaction's new items (itemsDigest); the stored items are compared as the same text,
 * so a re-run writes nothing.
 */
export async function replaceItems(db: Executor, source: string, txs: { externalId: string; customerId: string; digest: string }[], items: ItemRow[]): Promise<void> {
  if (!txs.length) return;
  await db.execute(sql`WITH
    want AS (SELECT t.id, t.customer_id, w.external_id, w.digest FROM ${rows('w', {
      external_id: arr(txs.map((t) => t.externalId), 'text'), customer_id: arr(txs.map((t) => t.customerId), 'uuid'), digest: arr(txs.map((t) => t.digest), 'text'),
    })} CROSS JOIN LATERAL (SELECT t.id, t.customer_id FROM transactions t WHERE t.source = ${source} AND t.external_id = w.external_id LIMIT 1) t
      WHERE t.customer_id = w.customer_id),
    cur AS (SELECT w.*, coalesce((
      SELECT string_agg(concat_ws('|', ti.sku, ti.product_name, coalesce(ti.category, ''), ti.quantity::text, ti.unit_price::text), '~' ORDER BY ti.position)
      FROM transaction_items ti WHERE ti.transaction_id = w.id), '') AS stored FROM want w),
    changed AS (SELECT * FROM cur WHERE digest IS DISTINCT FROM stored),
    -- By the transaction id index, and only where items are stored (a first import deletes nothing).
    del AS (DELETE FROM transaction_items ti WHERE ti.transaction_id = ANY(ARRAY(SELECT id FROM changed WHERE stored <> '')))
    INSERT INTO transaction_items (transaction_id, customer_id, position, sku, product_name, category, quantity, unit_price)
    SELECT c.id, c.customer_id, i.position, i.sku, i.product_name, i.category, i.quantity, i.unit_price
    FROM changed c JOIN ${rows('i', {
      external_id: arr(items.map((i) => i.external_id), 'text'), position: arr(items.map((i) => i.position), 'int'), sku: arr(items.map((i) => i.sku), 'text'),
      product_name: arr(items.map((i) => i.product_name), 'text'), category: arr(items.map((i) => i.category), 'text'), quantity: arr(items.map((i) => i.quantity), 'int'),
      unit_price: arr(items.map((i) => i.unit_price), 'numeric'),
    })} ON i.external_id = c.external_id`);
}

/** The stored interactions of these source keys, with their encrypted texts (reused when the clear text is unchanged). */
export async function interactionsBySourceKeys(db: Executor, source: string, externalIds: string[]): Promise<{ externalId: string; id: string; customerId: string; subject: string | null; summary: string | null }[]> {
  if (!externalIds.length) return [];
  return execRows(db, sql`SELECT k.external_id AS "externalId", x.id, x.customer_id AS "customerId", x.subject, x.summary
    FROM ${rows('k', { external_id: arr(externalIds, 'text') })}
    CROSS JOIN LATERAL (SELECT x.id, x.customer_id, x.subject, x.summary FROM interactions x WHERE x.source = ${source} AND x.external_id = k.external_id LIMIT 1) x`);
}

export interface InteractionRow {
  id: string; customer_id: string; external_id: string; channel: string; type: string; direction: string; subject: string | null; summary: string | null;
  sentiment: string | null; status: string; agent: string | null; occurred_at: string;
}

/** Subject and summary arrive encrypted (an unchanged text keeps its stored ciphertext, so the comparison below sees no change). */
export async function upsertInteractions(db: Executor, source: string, xs: InteractionRow[]): Promise<{ inserted: number; updated: number }> {
  if (!xs.length) return { inserted: 0, updated: 0 };
  const [r] = await execRows<{ inserted: number | string; updated: number | string }>(db, sql`WITH up AS (
    INSERT INTO interactions (id, customer_id, source, external_id, channel, type, direction, subject, summary, sentiment, status, agent, occurred_at)
    SELECT r.id, r.customer_id, ${source}, r.external_id, r.channel, r.type, r.direction, r.subject, r.summary, r.sentiment, r.status, r.agent, r.occurred_at
    FROM ${rows('r', {
      id: arr(xs.map((x) => x.id), 'uuid'), customer_id: arr(xs.map((x) => x.customer_id), 'uuid'), external_id: arr(xs.map((x) => x.external_id), 'text'),
      channel: arr(xs.map((x) => x.channel), 'text'), type: arr(xs.map((x) => x.type), 'text'), direction: arr(xs.map((x) => x.direction), 'text'),
      subject: arr(xs.map((x) => x.subject), 'text'), summary: arr(xs.map((x) => x.summary), 'text'), sentiment: arr(xs.map((x) => x.sentiment), 'text'),
      status: arr(xs.map((x) => x.status), 'text'), agent: arr(xs.map((x) => x.agent), 'text'), occurred_at: arr(xs.map((x) => x.occurred_at), 'timestamptz'),
    })}
    ON CONFLICT (source, external_id) DO UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, direction = EXCLUDED.direction, subject = EXCLUDED.subject,
      summary = EXCLUDED.summary, sentiment = EXCLUDED.sentiment, status = EXCLUDED.status, agent = EXCLUDED.agent, occurred_at = EXCLUDED.occurred_at, updated_at = now()
    WHERE interactions.customer_id = EXCLUDED.customer_id
      AND (interactions.channel, interactions.type, interactions.direction, interactions.subject, interactions.summary, interactions.sentiment, interactions.status,
      interactions.agent, interactions.occurred_at) IS DISTINCT FROM (EXCLUDED.channel, EXCLUDED.type, EXCLUDED.direction, EXCLUDED.subject, EXCLUDED.summary,
      EXCLUDED.sentiment, EXCLUDED.status, EXCLUDED.agent, EXCLUDED.occurred_at)
    RETURNING (xmax = 0) AS inserted)
    SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM up`);
  return { inserted: Number(r?.inserted ?? 0), updated: Number(r?.updated ?? 0) };
}

export interface TagRow { customer_id: string; tag_id: string; value: string | null; assigned_at: string | null; expires_at: string | null }

/** Current tags upserted (source IMPORT, actor = the file's source); an ADDED or CHANGED event for each real change. */
export async function applyTags(db: Executor, actor: string, tags: TagRow[]): Promise<{ inserted: number; updated: number }> {
  if (!tags.length) return { inserted: 0, updated: 0 };
  // A MULTIPLE tag keeps one assignment per value (value_key = value); a SINGLE tag has one (value_key '').
  const [r] = await execRows<{ inserted: number | string; updated: number | string }>(db, sql`WITH s AS (
      SELECT r.*, CASE WHEN d.cardinality = 'MULTIPLE' THEN coalesce(r.value, '') ELSE '' END AS value_key
      FROM ${rows('r', {
        customer_id: arr(tags.map((t) => t.customer_id), 'uuid'), tag_id: arr(tags.map((t) => t.tag_id), 'uuid'), value: arr(tags.map((t) => t.value), 'text'),
        assigned_at: arr(tags.map((t) => t.assigned_at), 'timestamptz'), expires_at: arr(tags.map((t) => t.expires_at), 'timestamptz'),
      })}
      JOIN tag_definitions d ON d.id = r.tag_id),
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

export interface ConsentRow { customer_id: string; purpose: string; status: string; source: string; recorded_at: string }

/** Consent history is append-only: a decision already recorded (same purpose, status, time and source) is not added twice. */
export async function applyConsents(db: Executor, cs: ConsentRow[]): Promise<number> {
  if (!cs.length) return 0;
  const [r] = await execRows<{ n: number | string }>(db, sql`WITH ins AS (
    INSERT INTO consents (customer_id, purpose, status, source, recorded_at)
    SELECT r.customer_id, r.purpose, r.status, r.source, r.recorded_at
    FROM ${rows('r', {
      customer_id: arr(cs.map((c) => c.customer_id), 'uuid'), purpose: arr(cs.map((c) => c.purpose), 'text'), status: arr(cs.map((c) => c.status), 'text'),
      source: arr(cs.map((c) => c.source), 'text'), recorded_at: arr(cs.map((c) => c.recorded_at), 'timestamptz'),
    })}
    WHERE NOT EXISTS (SELECT 1 FROM consents c WHERE c.customer_id = r.customer_id AND c.purpose = r.purpose AND c.status = r.status
        AND c.recorded_at = r.recorded_at AND c.source = r.source)
    RETURNING 1) SELECT count(*) AS n FROM ins`);
  return Number(r?.n ?? 0);
}
