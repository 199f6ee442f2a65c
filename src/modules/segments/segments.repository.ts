import { sql, type SQL } from 'drizzle-orm';
import { execRows, toDate, toDateOrNull, type Db, type Executor } from '../../db/client';
import type { SegmentMembershipChangeRow, SegmentRow } from './segments.mappers';
import { uuidIn } from '../../lib/sql';

/** SQL of the segments domain. Arrays in, rows out; nothing here knows GraphQL or viewers. */

const columns = sql.raw(`s.id, s.name, s.description, s.kind, s.filter, s.version, s.created_by, s.created_at, s.updated_at, s.refreshed_at, s.archived_at`);
interface RawSegment {
  id: string; name: string; description: string; kind: string; filter: unknown; version: number; created_by: string;
  created_at: unknown; updated_at: unknown; refreshed_at: unknown; archived_at: unknown;
}
const mapSegment = (r: RawSegment): SegmentRow => ({
  id: r.id, name: r.name, description: r.description, kind: r.kind,
  // postgres.js under Drizzle's execute returns jsonb as text; PGlite parses it.
  filter: typeof r.filter === 'string' ? JSON.parse(r.filter) : r.filter ?? null,
  version: Number(r.version), createdBy: r.created_by, createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at),
  refreshedAt: toDateOrNull(r.refreshed_at), archivedAt: toDateOrNull(r.archived_at),
});

export async function segmentsByIds(db: Pick<Executor, 'execute'>, ids: readonly string[], opts: { forUpdate?: 'wait' | 'skip-locked' } = {}): Promise<SegmentRow[]> {
  if (ids.length === 0) return [];
  const lock = opts.forUpdate === 'wait' ? sql` FOR UPDATE` : opts.forUpdate === 'skip-locked' ? sql` FOR UPDATE SKIP LOCKED` : sql``;
  const rows = await execRows<RawSegment>(db, sql`SELECT ${columns} FROM segments s WHERE s.id = ANY(${sql.param([...ids])}::uuid[])${lock}`);
  return rows.map(mapSegment);
}

export async function activeSegmentByName(db: Pick<Executor, 'execute'>, name: string): Promise<SegmentRow | null> {
  const rows = await execRows<RawSegment>(db, sql`SELECT ${columns} FROM segments s WHERE lower(s.name) = lower(${name}) AND s.archived_at IS NULL`);
  return rows[0] ? mapSegment(rows[0]) : null;
}

export interface SegmentListQuery { kind: string | null; includeArchived: boolean; after: { name: string; id: string } | null; limit: number }

/** A page by (lower(name), id) plus the total count of the arguments, in one statement. */
export async function listSegments(db: Db, q: SegmentListQuery): Promise<{ rows: (SegmentRow & { sortName: string })[]; totalCount: number }> {
  const where = sql.join([
    sql`true`,
    ...(q.kind ? [sql`s.kind = ${q.kind}`] : []),
    ...(q.includeArchived ? [] : [sql`s.archived_at IS NULL`]),
  ], sql` AND `);
  const keyset = q.after ? sql` AND (lower(s.name), s.id) > (${q.after.name}, ${q.after.id}::uuid)` : sql``;
  const rows = await execRows<RawSegment & { sort_name: string; total: number }>(db, sql`
    SELECT ${columns}, lower(s.name) AS sort_name, (SELECT count(*)::int FROM segments s WHERE ${where}) AS total
    FROM segments s WHERE ${where}${keyset} ORDER BY lower(s.name), s.id LIMIT ${q.limit}`);
  let totalCount = rows[0] ? Number(rows[0].total) : null;
  if (totalCount === null) {
    const [c] = await execRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM segments s WHERE ${where}`);
    totalCount = Number(c?.n ?? 0);
  }
  return { rows: rows.map((r) => ({ ...mapSegment(r), sortName: r.sort_name })), totalCount };
}

/** Segments (not archived) of many customers at once, by name: one statement for all parents. */
export async function segmentsByCustomerIds(db: Db, customerIds: readonly string[]): Promise<{ customerId: string; segment: SegmentRow }[]> {
  if (customerIds.length === 0) return [];
  const rows = await execRows<RawSegment & { customer_id: string }>(db, sql`
    SELECT m.customer_id, ${columns} FROM segment_memberships m JOIN segments s ON s.id = m.segment_id
    WHERE ${uuidIn('m.customer_id', customerIds)} AND s.archived_at IS NULL
    ORDER BY m.customer_id, lower(s.name), s.id`);
  return rows.map((r) => ({ customerId: r.customer_id, segment: mapSegment(r) }));
}

export async function sizesBySegmentIds(db: Db, ids: readonly string[]): Promise<{ segmentId: string; size: number }[]> {
  if (ids.length === 0) return [];
  const rows = await execRows<{ segment_id: string; n: number }>(db, sql`
    SELECT segment_id, count(*)::int AS n FROM segment_memberships WHERE segment_id = ANY(${sql.param([...ids])}::uuid[]) GROUP BY segment_id`);
  return rows.map((r) => ({ segmentId: r.segment_id, size: Number(r.n) }));
}

export async function membershipChanges(db: Db, segmentId: string, after: { key: string; id: string } | null, limit: number): Promise<SegmentMembershipChangeRow[]> {
  const rows = await execRows<{ id: string; segment_id: string; customer_id: string; action: 'ENTERED' | 'EXITED'; segment_version: number; occurred_at: unknown; occurred_key: string }>(db, sql`
    SELECT id, segment_id, customer_id, action, segment_version, occurred_at,
      to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_key
    FROM segment_membership_events WHERE segment_id = ${segmentId}::uuid
      ${after ? sql`AND (occurred_at, id) < (${after.key}::timestamptz, ${after.id}::uuid)` : sql``}
    ORDER BY occurred_at DESC, id DESC LIMIT ${limit}`);
  return rows.map((r) => ({
    id: r.id, segmentId: r.segment_id, customerId: r.customer_id, action: r.action, segmentVersion: Number(r.segment_version),
    occurredAt: toDate(r.occurred_at), occurredKey: r.occurred_key,
  }));
}

export async function sizeHistory(db: Db, segmentId: string, from: string, to: string): Promise<{ day: string; size: number }[]> {
  const rows = await execRows<{ day: string; size: number }>(db, sql`
    SELECT day::text AS day, size FROM segment_size_snapshots
    WHERE segment_id = ${segmentId}::uuid AND day BETWEEN ${from}::date AND ${to}::date ORDER BY day`);
  return rows.map((r) => ({ day: r.day, size: Number(r.size) }));
}

export interface SegmentInsert { name: string; description: string; kind: string; filter: unknown; createdBy: string }

export async function insertSegment(tx: Executor, v: SegmentInsert): Promise<SegmentRow> {
  const rows = await execRows<RawSegment>(tx, sql`
    INSERT INTO segments AS s (name, description, kind, filter, created_by)
    VALUES (${v.name}, ${v.description}, ${v.kind}, ${v.filter === null ? null : JSON.stringify(v.filter)}::jsonb, ${v.createdBy})
    RETURNING ${columns}`);
  return mapSegment(rows[0]!);
}

/** Changes name/description/filter; a new filter bumps the version. */
export async function updateSegment(tx: Executor, id: string, v: { name?: string; description?: string; filter?: unknown }): Promise<SegmentRow> {
  const sets: SQL[] = [sql`updated_at = now()`];
  if (v.name !== undefined) sets.push(sql`name = ${v.name}`);
  if (v.description !== undefined) sets.push(sql`description = ${v.description}`);
  if (v.filter !== undefined) sets.push(sql`filter = ${JSON.stringify(v.filter)}::jsonb, version = s.version + 1`);
  const rows = await execRows<RawSegment>(tx, sql`UPDATE segments AS s SET ${sql.join(sets, sql`, `)} WHERE s.id = ${id}::uuid RETURNING ${columns}`);
  return mapSegment(rows[0]!);
}

export async function archiveSegment(tx: Executor, id: string): Promise<SegmentRow> {
  const rows = await execRows<RawSegment>(tx, sql`
    UPDATE segments AS s SET archived_at = coalesce(s.archived_at, now()), updated_at = now() WHERE s.id = ${id}::uuid RETURNING ${columns}`);
  return mapSegment(rows[0]!);
}

interface SegmentRef { id: string; name: string; version: number }

/** The entry/exit bookkeeping shared by both statements: history row and outbox event per changed customer. */
const bookkeeping = (seg: SegmentRef, changed: string, action: 'ENTERED' | 'EXITED') => sql`
  hist AS (INSERT INTO segment_membership_events (customer_id, segment_id, action, segment_version)
    SELECT customer_id, ${seg.id}::uuid, ${action}, ${seg.version}::int FROM ${sql.raw(changed)}),
  outbox AS (INSERT INTO automation_events (type, customer_id, payload)
    SELECT ${`SEGMENT_${action}`}, customer_id,
      jsonb_build_object('segmentId', ${seg.id}::text, 'segmentName', ${seg.name}::text, 'segmentVersion', ${seg.version}::int)
    FROM ${sql.raw(changed)})`;

/**
 * One statement: every candidate (`SELECT <customer id> AS id ...`) that is not yet a member enters,
 * with its history row and outbox event. Returns how many entered.
 */
export async function enterMembers(tx: Executor, seg: SegmentRef, candidates: SQL): Promise<number> {
  const rows = await execRows<{ n: number }>(tx, sql`
    WITH cand AS (${candidates}),
    entered AS (INSERT INTO segment_memberships (customer_id, segment_id, segment_version)
      SELECT c.id, ${seg.id}::uuid, ${seg.version}::int FROM cand c
      WHERE NOT EXISTS (SELECT 1 FROM segment_memberships x WHERE x.customer_id = c.id AND x.segment_id = ${seg.id}::uuid)
      ON CONFLICT DO NOTHING RETURNING customer_id),
    ${bookkeeping(seg, 'entered', 'ENTERED')}
    SELECT count(*)::int AS n FROM entered`);
  return Number(rows[0]?.n ?? 0);
}

/** One statement: members for which `leaves` (over `m`, the membership row) holds exit, with history and events. */
export async function exitMembers(tx: Executor, seg: SegmentRef, leaves: SQL): Promise<number> {
  const rows = await execRows<{ n: number }>(tx, sql`
    WITH exited AS (DELETE FROM segment_memberships m WHERE m.segment_id = ${seg.id}::uuid AND ${leaves} RETURNING m.customer_id),
    ${bookkeeping(seg, 'exited', 'EXITED')}
    SELECT count(*)::int AS n FROM exited`);
  return Number(rows[0]?.n ?? 0);
}

/** Today's (UTC) size, overwritten by later refreshes of the same day; marks the segment refreshed. */
export async function snapshotSize(tx: Executor, segmentId: string): Promise<void> {
  await execRows(tx, sql`
    WITH snap AS (INSERT INTO segment_size_snapshots (segment_id, day, size)
      SELECT ${segmentId}::uuid, (now() AT TIME ZONE 'UTC')::date, count(*)::int FROM segment_memberships WHERE segment_id = ${segmentId}::uuid
      ON CONFLICT (segment_id, day) DO UPDATE SET size = excluded.size, taken_at = now() RETURNING 1)
    UPDATE segments SET refreshed_at = now() WHERE id = ${segmentId}::uuid`);
}

export async function existingCustomerIds(db: Pick<Executor, 'execute'>, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await execRows<{ id: string }>(db, sql`SELECT id FROM customers WHERE id = ANY(${sql.param([...ids])}::uuid[])`);
  return new Set(rows.map((r) => r.id));
}

/** Ids of segments due for a refresh: never refreshed, or not since `olderThanMs`. */
export async function dueSegmentIds(db: Db, olderThanMs: number): Promise<string[]> {
  const rows = await execRows<{ id: string }>(db, sql`
    SELECT id FROM segments WHERE archived_at IS NULL
      AND (refreshed_at IS NULL OR refreshed_at < now() - make_interval(secs => ${olderThanMs / 1000}::float8))
    ORDER BY refreshed_at NULLS FIRST, id`);
  return rows.map((r) => r.id);
}

/**
 * Member ids of a segment in customer-id order, one page after `afterCustomerId` (for exports:
 * keyset on the (segment_id, customer_id) index, so pages stay stable while members change).
 */
export async function memberIdsPage(db: Db, segmentId: string, afterCustomerId: string | null, limit: number): Promise<string[]> {
  const rows = await execRows<{ customer_id: string }>(db, sql`
    SELECT customer_id FROM segment_memberships WHERE segment_id = ${segmentId}::uuid
      ${afterCustomerId ? sql`AND customer_id > ${afterCustomerId}::uuid` : sql``}
    ORDER BY customer_id LIMIT ${limit}`);
  return rows.map((r) => r.customer_id);
}

/** Streams every member id of a segment, page by page (the import/export module's entry point). */
export async function* streamMemberIds(db: Db, segmentId: string, pageSize = 1000): AsyncGenerator<string[]> {
  let after: string | null = null;
  for (;;) {
    const page = await memberIdsPage(db, segmentId, after, pageSize);
    if (page.length) yield page;
    if (page.length < pageSize) return;
    after = page.at(-1)!;
  }
}
