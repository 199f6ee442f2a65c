/**
 * SQL of merges. The tables a merge repoints are discovered from the catalog (every base table with a
 * `customer_id` column), so a table added by a later feature is moved and restored without a change here.
 */
import { sql, type SQL } from 'drizzle-orm';
import { execRows, toDate, toDateOrNull, type Executor } from '../../db/client';

export interface CustomerTable {
  name: string;
  /** Unique indexes (primary key included) that contain customer_id: their other columns. */
  uniques: { columns: string[]; primary: boolean }[];
  /** Tables this one references with a foreign key (among customer tables). */
  parents: string[];
}

/**
 * Customer-keyed tables derived from the customers row itself by triggers (drizzle/0020: the words of
 * the display name). A merge neither moves nor restores them: deleting, inserting and updating the
 * customers rows rebuilds them.
 */
const DERIVED_FROM_CUSTOMER = new Set(['customer_search_words']);

/** Every customer-keyed table, parents before children (foreign keys), `customer_metrics` (maintained by triggers) last. */
export async function customerTables(db: Executor): Promise<CustomerTable[]> {
  const tables = await execRows<{ name: string }>(db, sql`SELECT c.table_name AS name FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
    WHERE c.table_schema = current_schema() AND c.column_name = 'customer_id' ORDER BY 1`);
  const names = tables.map((t) => t.name).filter((n) => !DERIVED_FROM_CUSTOMER.has(n));
  const uniques = await execRows<{ table: string; cols: string[]; primary: boolean }>(db, sql`
    SELECT c.relname AS "table", array_agg(a.attname::text ORDER BY k.ord) AS cols, i.indisprimary AS primary
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
    WHERE i.indisunique AND n.nspname = current_schema() AND c.relname = ANY(${sql.param(names)}::text[]) AND i.indpred IS NULL
    GROUP BY c.relname, i.indexrelid, i.indisprimary
    HAVING bool_and(k.attnum > 0)`);
  const fks = await execRows<{ child: string; parent: string }>(db, sql`
    SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE k.contype = 'f' AND n.nspname = current_schema() AND c.relname = ANY(${sql.param(names)}::text[]) AND p.relname = ANY(${sql.param(names)}::text[]) AND c.relname <> p.relname`);
  const out = names.map((name) => ({
    name,
    uniques: uniques.filter((u) => u.table === name && u.cols.includes('customer_id')).map((u) => ({ columns: u.cols.map(String), primary: u.primary })),
    parents: fks.filter((f) => f.child === name).map((f) => f.parent),
  }));
  // Topological order: a table after the tables it references.
  const ordered: CustomerTable[] = [];
  const seen = new Set<string>();
  const visit = (t: CustomerTable, path: Set<string>) => {
    if (seen.has(t.name) || path.has(t.name)) return;
    path.add(t.name);
    for (const p of t.parents) { const pt = out.find((x) => x.name === p); if (pt) visit(pt, path); }
    seen.add(t.name);
    ordered.push(t);
  };
  for (const t of out) visit(t, new Set());
  return [...ordered.filter((t) => t.name !== 'customer_metrics'), ...ordered.filter((t) => t.name === 'customer_metrics')];
}

const id = (name: string) => sql.identifier(name);
const uuids = (ids: readonly string[]) => sql`${sql.param([...ids])}::uuid[]`;

/** Every row of the customers and of every customer table, as JSON, in one statement. */
export async function snapshot(db: Executor, tables: CustomerTable[], ids: readonly string[]): Promise<Record<string, unknown[]>> {
  const parts: SQL[] = [sql`'customers', (SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.id), '[]'::jsonb) FROM customers c WHERE c.id = ANY(${uuids(ids)}))`];
  for (const t of tables) parts.push(sql`${t.name}::text, (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]'::jsonb) FROM ${id(t.name)} x WHERE x.customer_id = ANY(${uuids(ids)}))`);
  const [row] = await execRows<{ s: unknown }>(db, sql`SELECT jsonb_build_object(${sql.join(parts, sql`, `)}) AS s`);
  const s = typeof row?.s === 'string' ? JSON.parse(row.s) : row?.s;
  return s as Record<string, unknown[]>;
}

/** Customers ids that exist, locked for the merge, with whether they were erased. */
export async function lockCustomers(db: Executor, ids: readonly string[]): Promise<{ id: string; erased: boolean }[]> {
  return execRows(db, sql`SELECT c.id, EXISTS (SELECT 1 FROM erasures e WHERE e.customer_id = c.id) AS erased
    FROM customers c WHERE c.id = ANY(${uuids(ids)}) ORDER BY c.id FOR UPDATE`);
}

/**
 * Moves every related row of `losers` to `survivor`. Rows that would collide with a row of the survivor
 * (or of an earlier loser) on a unique key containing customer_id (the same tag twice, the metrics row)
 * are dropped first: the survivor's row wins. All tables move in one statement, so composite foreign
 * keys (items -> transactions) hold at its end.
 */
export async function repoint(db: Executor, tables: CustomerTable[], survivor: string, losers: readonly string[]): Promise<void> {
  const order = [survivor, ...losers];
  for (const t of tables) {
    for (const u of t.uniques) {
      const others = u.columns.filter((c) => c !== 'customer_id');
      const same = others.map((c) => sql` AND s.${id(c)} IS NOT DISTINCT FROM l.${id(c)}`);
      await db.execute(sql`DELETE FROM ${id(t.name)} l WHERE l.customer_id = ANY(${uuids(losers)}) AND EXISTS (
        SELECT 1 FROM ${id(t.name)} s WHERE s.customer_id = ANY(${uuids(order)})
          AND array_position(${uuids(order)}, s.customer_id) < array_position(${uuids(order)}, l.customer_id)${sql.join(same, sql``)})`);
    }
  }
  const moves = tables.map((t, i) => sql`${sql.raw(`m${i}`)} AS (UPDATE ${id(t.name)} SET customer_id = ${survivor}::uuid WHERE customer_id = ANY(${uuids(losers)}) RETURNING 1)`);
  if (!moves.length) return;
  await db.execute(sql`WITH ${sql.join(moves, sql`, `)} SELECT ${sql.join(tables.map((_, i) => sql`(SELECT count(*) FROM ${sql.raw(`m${i}`)})`), sql` + `)}`);
}

export async function customerColumns(db: Executor): Promise<string[]> {
  const rows = await execRows<{ c: string }>(db, sql`SELECT column_name AS c FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'customers' ORDER BY ordinal_position`);
  return rows.map((r) => r.c);
}

/** Restores rows of a snapshot: the table's current rows with the same key (customer_id aside) go, the snapshot rows come back. */
export async function restoreTable(db: Executor, t: CustomerTable, ids: readonly string[], rows: unknown[]): Promise<void> {
  const json = JSON.stringify(rows);
  const pk = t.uniques.find((u) => u.primary)?.columns.filter((c) => c !== 'customer_id');
  const match = pk && pk.length
    ? sql.join(pk.map((c) => sql`x.${id(c)} IS NOT DISTINCT FROM r.${id(c)}`), sql` AND `)
    // One row per customer (metrics): every current row of these customers is replaced.
    : pk ? sql`true` : sql`(to_jsonb(x) - 'customer_id') = (to_jsonb(r) - 'customer_id')`;
  await db.execute(sql`DELETE FROM ${id(t.name)} x USING jsonb_populate_recordset(null::${id(t.name)}, ${json}::jsonb) r
    WHERE x.customer_id = ANY(${uuids(ids)}) AND ${match}`);
  await db.execute(sql`INSERT INTO ${id(t.name)} SELECT * FROM jsonb_populate_recordset(null::${id(t.name)}, ${json}::jsonb)`);
}

export async function restoreCustomers(db: Executor, columns: string[], survivorRow: unknown, loserRows: unknown[]): Promise<void> {
  if (loserRows.length) await db.execute(sql`INSERT INTO customers SELECT * FROM jsonb_populate_recordset(null::customers, ${JSON.stringify(loserRows)}::jsonb)`);
  const sets = columns.filter((c) => c !== 'id').map((c) => sql`${id(c)} = r.${id(c)}`);
  await db.execute(sql`UPDATE customers c SET ${sql.join(sets, sql`, `)} FROM jsonb_populate_record(null::customers, ${JSON.stringify(survivorRow)}::jsonb) r WHERE c.id = r.id`);
}

export async function deleteCustomers(db: Executor, ids: readonly string[]): Promise<void> {
  await db.execute(sql`DELETE FROM customers WHERE id = ANY(${uuids(ids)})`);
}

export interface MergeRow { id: string; survivorId: string; mergedIds: string[]; snapshot: unknown; mergedBy: string; mergedAt: Date; unmergedBy: string | null; unmergedAt: Date | null }

export async function insertMerge(db: Executor, survivor: string, losers: readonly string[], snap: unknown, by: string): Promise<string> {
  const [r] = await execRows<{ id: string }>(db, sql`INSERT INTO customer_merges (survivor_id, merged_ids, snapshot, merged_by)
    VALUES (${survivor}::uuid, ${uuids(losers)}, ${JSON.stringify(snap)}::jsonb, ${by}) RETURNING id`);
  return r!.id;
}

export async function mergeForUpdate(db: Executor, mergeId: string): Promise<{ id: string; survivor_id: string; merged_ids: string[]; snapshot: unknown; unmerged_at: unknown; merged_at: unknown } | null> {
  const [r] = await execRows<{ id: string; survivor_id: string; merged_ids: string[]; snapshot: unknown; unmerged_at: unknown; merged_at: unknown }>(db, sql`
    SELECT id, survivor_id, merged_ids, snapshot, unmerged_at, merged_at FROM customer_merges WHERE id = ${mergeId}::uuid FOR UPDATE`);
  return r ?? null;
}

/** Later merges, not undone, that involve any of these customers (they must be undone first). */
export async function laterMerges(db: Executor, mergeId: string, ids: readonly string[]): Promise<string[]> {
  const rows = await execRows<{ id: string }>(db, sql`SELECT m.id FROM customer_merges m, customer_merges me WHERE me.id = ${mergeId}::uuid
    AND m.id <> me.id AND m.unmerged_at IS NULL AND m.merged_at >= me.merged_at
    AND (m.survivor_id = ANY(${uuids(ids)}) OR m.merged_ids && ${uuids(ids)})`);
  return rows.map((r) => r.id);
}

export async function markUnmerged(db: Executor, mergeId: string, by: string): Promise<void> {
  await db.execute(sql`UPDATE customer_merges SET unmerged_at = now(), unmerged_by = ${by} WHERE id = ${mergeId}::uuid`);
}

export async function mergesByIds(db: Executor, ids: readonly string[]): Promise<MergeRow[]> {
  if (!ids.length) return [];
  const rows = await execRows<{ id: string; survivor_id: string; merged_ids: string[]; merged_by: string; merged_at: unknown; unmerged_by: string | null; unmerged_at: unknown }>(db, sql`
    SELECT id, survivor_id, merged_ids, merged_by, merged_at, unmerged_by, unmerged_at FROM customer_merges WHERE id = ANY(${uuids(ids)})`);
  return rows.map((r) => ({ id: r.id, survivorId: r.survivor_id, mergedIds: r.merged_ids, snapshot: null, mergedBy: r.merged_by, mergedAt: toDate(r.merged_at), unmergedBy: r.unmerged_by, unmergedAt: toDateOrNull(r.unmerged_at) }));
}

export interface DuplicatePair { a: string; b: string; reasons: string[]; score: number }

/**
 * Likely duplicates: the same normalized email, the same E.164 phone, or a similar name (trigram
 * similarity) with the same birth date or postal code. Blocked placeholder values never pair anyone.
 * Birth dates are encrypted with a random IV, so they are compared by their blind index (a keyed
 * HMAC of the clear date, customers.birth_date_bidx), never by ciphertext.
 */
export async function duplicatePairs(db: Executor, opts: { blocked: string[]; customerId: string | null; minScore: number; limit: number }): Promise<DuplicatePair[]> {
  const only = opts.customerId ? sql` AND (a.id = ${opts.customerId}::uuid OR b.id = ${opts.customerId}::uuid)` : sql``;
  const live = sql`NOT EXISTS (SELECT 1 FROM erasures e WHERE e.customer_id IN (a.id, b.id))`;
  const rows = await execRows<{ a: string; b: string; reasons: string[]; score: number | string }>(db, sql`
    WITH pairs AS (
      SELECT a.id AS a, b.id AS b, 'SAME_EMAIL' AS reason, 0.7::float8 AS w FROM customers a JOIN customers b ON b.email_normalized = a.email_normalized AND a.id < b.id
        WHERE a.email_normalized IS NOT NULL AND NOT (a.email_normalized = ANY(${sql.param(opts.blocked)}::text[]))${only}
      UNION ALL
      SELECT a.id, b.id, 'SAME_PHONE', 0.6 FROM customers a JOIN customers b ON b.phone_e164 = a.phone_e164 AND a.id < b.id
        WHERE a.phone_e164 IS NOT NULL AND NOT (a.phone_e164 = ANY(${sql.param(opts.blocked)}::text[]))${only}
      UNION ALL
      SELECT a.id, b.id, 'SIMILAR_NAME', 0.5 * similarity(a.display_name, b.display_name) FROM customers a
        JOIN customers b ON a.id < b.id AND (b.birth_date_bidx = a.birth_date_bidx OR b.postal_code = a.postal_code)
        WHERE similarity(a.display_name, b.display_name) >= 0.5${only}
      UNION ALL
      SELECT a.id, b.id, 'SAME_BIRTH_DATE', 0.2 FROM customers a JOIN customers b ON b.birth_date_bidx = a.birth_date_bidx AND a.id < b.id
        WHERE similarity(a.display_name, b.display_name) >= 0.5${only}
    )
    SELECT p.a, p.b, array_agg(DISTINCT p.reason ORDER BY p.reason) AS reasons, 1 - exp(sum(ln(1 - least(p.w, 0.99)))) AS score
    FROM pairs p JOIN customers a ON a.id = p.a JOIN customers b ON b.id = p.b WHERE ${live}
    GROUP BY p.a, p.b HAVING 1 - exp(sum(ln(1 - least(p.w, 0.99)))) >= ${opts.minScore}
    ORDER BY score DESC, p.a, p.b LIMIT ${opts.limit}`);
  return rows.map((r) => ({ a: r.a, b: r.b, reasons: r.reasons, score: Math.round(Number(r.score) * 1000) / 1000 }));
}

export async function fieldSourcesByCustomerIds(db: Executor, ids: readonly string[]): Promise<{ customerId: string; field: string; source: string; updatedAt: Date; rule: string }[]> {
  if (!ids.length) return [];
  const rows = await execRows<{ customer_id: string; field: string; source: string; updated_at: unknown; rule: string }>(db, sql`
    SELECT customer_id, field, source, updated_at, rule FROM customer_field_sources WHERE customer_id = ANY(${uuids(ids)}) ORDER BY customer_id, field`);
  return rows.map((r) => ({ customerId: r.customer_id, field: r.field, source: r.source, updatedAt: toDate(r.updated_at), rule: r.rule }));
}

