import { GraphQLError } from 'graphql';
import { sql } from 'drizzle-orm';
import type { Config } from '../../config';
import { execRows, type Db, type Executor } from '../../db/client';
import { badUserInput, notFound, userError, type UserError, type UserErrorCode } from '../../errors';
import { tryGlobalId } from '../../lib/global-id';
import { cursorScope, cursorSealer, openCursor, pageSize, timePage, toConnection, type Connection } from '../../lib/pagination';
import type { CreateSegmentInput, CustomerFilter, SegmentKind, UpdateSegmentInput } from '../../__generated__/resolvers-types';
import { compileCustomerFilter, isBehavioural } from '../profile';
import { explainCustomerFilter } from '../profile';
import type { Logger } from '../../logger';
import type { SegmentMembershipChangeRow, SegmentRow } from './segments.mappers';
import * as repo from './segments.repository';
import { profilingAllowed } from '../tags';

type FilterConfig = Pick<Config, 'defaultPhoneRegion' | 'filterCostLimit' | 'segmentRefreshTimeoutMs'>;

/**
 * Stored filters are the CustomerFilter input as JSON. DateTime bounds (`from`/`to` of DateTimeRange
 * and TimeWindow, the only inputs with those names) come back as strings and are revived as Dates.
 */
export function filterFromJson(json: unknown): CustomerFilter {
  return JSON.parse(JSON.stringify(json), (k, v: unknown) =>
    ((k === 'from' || k === 'to') && typeof v === 'string' ? new Date(v) : v)) as CustomerFilter;
}

// ---------------------------------------------------------------------------------------------
// Reads

export async function getSegment(db: Db, globalId: string): Promise<SegmentRow> {
  const id = tryGlobalId(globalId, 'Segment');
  if (!id) throw badUserInput('id is not a valid Segment id', 'id');
  const [row] = await repo.segmentsByIds(db, [id]);
  if (!row) throw notFound('Segment');
  return row;
}

export async function listSegments(db: Db, args: { kind?: SegmentKind | null; includeArchived?: boolean | null; first?: number | null; after?: string | null }): Promise<Connection<SegmentRow>> {
  const first = pageSize(args.first);
  const scope = cursorScope('segments', null, { kind: args.kind ?? null, includeArchived: Boolean(args.includeArchived) });
  let after: { name: string; id: string } | null = null;
  if (args.after) {
    const [name, id] = openCursor(args.after, scope, 2);
    if (typeof name !== 'string' || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) throw badUserInput('after is not a valid cursor for this list', 'after');
    after = { name, id };
  }
  const seal = cursorSealer(scope);
  const { rows, totalCount } = await repo.listSegments(db, { kind: args.kind ?? null, includeArchived: Boolean(args.includeArchived), after, limit: first + 1 });
  return toConnection(rows, first, args.after, (r) => seal([r.sortName, r.id]), totalCount);
}

export async function membershipChanges(db: Db, segmentId: string, first: number | null | undefined, after: string | null | undefined): Promise<Omit<Connection<SegmentMembershipChangeRow>, 'totalCount'>> {
  const page = timePage(cursorScope('Segment.membershipChanges', segmentId), first, after);
  const rows = await repo.membershipChanges(db, segmentId, page.after, page.fetch);
  const { totalCount: _t, ...conn } = toConnection(rows, page.limit, after, page.cursorOf, 0);
  return conn;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
export async function sizeHistory(db: Db, globalId: string, from: string | null | undefined, to: string | null | undefined): Promise<{ day: string; size: number }[]> {
  const seg = await getSegment(db, globalId);
  const end = to ?? new Date().toISOString().slice(0, 10);
  const start = from ?? new Date(Date.parse(`${end}T00:00:00Z`) - 30 * 86_400_000).toISOString().slice(0, 10);
  if (!DAY.test(start) || !DAY.test(end)) throw badUserInput('from and to are dates (YYYY-MM-DD)', 'from');
  if (start > end) throw badUserInput('from is after to', 'from');
  if (Date.parse(end) - Date.parse(start) > 3660 * 86_400_000) throw badUserInput('at most ten years per request', 'from');
  return repo.sizeHistory(db, seg.id, start, end);
}

// ---------------------------------------------------------------------------------------------
// Writes

export interface SegmentResult { segment: SegmentRow | null; userErrors: UserError[] }
export interface RefreshResult { segment: SegmentRow | null; entered: number; exited: number; userErrors: UserError[] }
export interface MembersResult { segment: SegmentRow | null; changed: number; userErrors: UserError[] }

const MAX_NAME = 200;
const MAX_DESCRIPTION = 2000;
const MAX_MEMBERS_PER_CALL = 1000;

function errorCode(e: GraphQLError): UserErrorCode {
  const c = e.extensions.code;
  return c === 'NOT_FOUND' || c === 'CONFLICT' || c === 'FORBIDDEN' ? c : 'BAD_USER_INPUT';
}

/** A filter a segment may store: it compiles, does not refer to the segment itself, and is affordable. */
async function validateFilter(db: Db, config: FilterConfig, filter: CustomerFilter, selfId: string | null, errors: UserError[]): Promise<void> {
  const field = ['input', 'filter'];
  try {
    compileCustomerFilter(filter, config);
    if (selfId && referencedSegments(filter).includes(selfId)) {
      errors.push(userError(field, 'a segment cannot be defined by its own membership'));
      return;
    }
    if (isBehavioural(filter)) {
      const e = await explainCustomerFilter(db, config, filter);
      if (!e.withinBudget) errors.push(userError(field, `this filter is estimated to cost ${Math.round(e.estimatedCost)} (budget ${e.budget}); narrow it`));
    }
  } catch (e) {
    if (e instanceof GraphQLError) errors.push(userError([...field, ...String(e.extensions.field ?? '').split('.').slice(1).filter(Boolean)], e.message, errorCode(e)));
    else throw e;
  }
}

function referencedSegments(f: CustomerFilter): string[] {
  const own = [...(f.segment?.in ?? []), ...(f.segment?.notIn ?? [])].map((g) => tryGlobalId(g, 'Segment')).filter((x): x is string => Boolean(x));
  return [...own, ...(f.and ?? []).flatMap(referencedSegments), ...(f.or ?? []).flatMap(referencedSegments), ...(f.not ? referencedSegments(f.not) : [])];
}

function cleanName(name: string | null | undefined, errors: UserError[]): string | undefined {
  if (name === undefined || name === null) return undefined;
  const n = name.trim().replace(/\s+/g, ' ');
  if (!n || n.length > MAX_NAME) errors.push(userError(['input', 'name'], `name must be 1-${MAX_NAME} characters`));
  return n;
}

function cleanDescription(d: string | null | undefined, errors: UserError[]): string | undefined {
  if (d === undefined || d === null) return undefined;
  const t = d.trim();
  if (t.length > MAX_DESCRIPTION) errors.push(userError(['input', 'description'], `description must be at most ${MAX_DESCRIPTION} characters`));
  return t;
}

/** The unique index is the arbiter; this turns its violation into a CONFLICT user error. */
const isUniqueViolation = (e: unknown): boolean => {
  for (let x = e, i = 0; x && typeof x === 'object' && i < 5; x = (x as { cause?: unknown }).cause, i++) {
    if ((x as { code?: unknown }).code === '23505') return true;
  }
  return false;
};
const nameTaken = () => userError(['input', 'name'], 'a segment with this name exists', 'CONFLICT');

export async function createSegment(db: Db, config: FilterConfig, actor: string, input: CreateSegmentInput): Promise<SegmentResult> {
  const errors: UserError[] = [];
  const name = cleanName(input.name, errors) ?? '';
  const description = cleanDescription(input.description, errors) ?? '';
  if (input.kind === 'DYNAMIC' && !input.filter) errors.push(userError(['input', 'filter'], 'a DYNAMIC segment needs a filter'));
  if (input.kind === 'STATIC' && input.filter) errors.push(userError(['input', 'filter'], 'a STATIC segment takes no filter; add members instead'));
  if (input.kind === 'DYNAMIC' && input.filter) await validateFilter(db, config, input.filter, null, errors);
  if (!errors.length && await repo.activeSegmentByName(db, name)) errors.push(nameTaken());
  if (errors.length) return { segment: null, userErrors: errors };
  try {
    const segment = await db.transaction(async (tx) => {
      const seg = await repo.insertSegment(tx, { name, description, kind: input.kind, filter: input.kind === 'DYNAMIC' ? input.filter : null, createdBy: actor });
      if (seg.kind === 'DYNAMIC') await recompute(tx, config, seg);
      await repo.snapshotSize(tx, seg.id);
      return seg;
    });
    return { segment, userErrors: [] };
  } catch (e) {
    if (isUniqueViolation(e)) return { segment: null, userErrors: [nameTaken()] };
    throw e;
  }
}

export async function updateSegment(db: Db, config: FilterConfig, input: UpdateSegmentInput): Promise<SegmentResult> {
  const errors: UserError[] = [];
  const id = tryGlobalId(input.id, 'Segment');
  if (!id) return { segment: null, userErrors: [userError(['input', 'id'], 'id is not a valid Segment id')] };
  const [current] = await repo.segmentsByIds(db, [id]);
  if (!current) return { segment: null, userErrors: [userError(['input', 'id'], 'segment not found', 'NOT_FOUND')] };
  if (current.archivedAt) return { segment: null, userErrors: [userError(['input', 'id'], 'the segment is archived', 'CONFLICT')] };
  const name = cleanName(input.name, errors);
  const description = cleanDescription(input.description, errors);
  if (input.filter && current.kind === 'STATIC') errors.push(userError(['input', 'filter'], 'a STATIC segment takes no filter'));
  if (input.filter === null) errors.push(userError(['input', 'filter'], 'filter cannot be removed from a DYNAMIC segment'));
  if (input.filter && current.kind === 'DYNAMIC') await validateFilter(db, config, input.filter, current.id, errors);
  if (!errors.length && name !== undefined && name.toLowerCase() !== current.name.toLowerCase() && await repo.activeSegmentByName(db, name)) errors.push(nameTaken());
  if (errors.length) return { segment: null, userErrors: errors };
  const filterChanged = Boolean(input.filter) && JSON.stringify(input.filter) !== JSON.stringify(current.filter);
  try {
    const segment = await db.transaction(async (tx) => {
      await repo.segmentsByIds(tx, [id], { forUpdate: 'wait' });
      const seg = await repo.updateSegment(tx, id, { name, description, ...(filterChanged ? { filter: input.filter } : {}) });
      if (filterChanged) {
        await recompute(tx, config, seg);
        await repo.snapshotSize(tx, seg.id);
      }
      return seg;
    });
    return { segment, userErrors: [] };
  } catch (e) {
    if (isUniqueViolation(e)) return { segment: null, userErrors: [nameTaken()] };
    throw e;
  }
}

/** Archive (soft delete): membership and history stay for the record; refreshes and lists skip it. */
export async function archiveSegment(db: Db, globalId: string): Promise<SegmentResult> {
  const id = tryGlobalId(globalId, 'Segment');
  if (!id) return { segment: null, userErrors: [userError(['id'], 'id is not a valid Segment id')] };
  const [current] = await repo.segmentsByIds(db, [id]);
  if (!current) return { segment: null, userErrors: [userError(['id'], 'segment not found', 'NOT_FOUND')] };
  return { segment: await repo.archiveSegment(db, id), userErrors: [] };
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Set-based refresh of a DYNAMIC segment: one statement for exits, one for entries. */
async function recompute(tx: Tx, config: FilterConfig, seg: SegmentRow): Promise<{ entered: number; exited: number }> {
  // A refresh scans the whole base: it gets its own statement_timeout (transaction-local), not the request's.
  await tx.execute(sql`SELECT set_config('statement_timeout', ${String(config.segmentRefreshTimeoutMs)}, true)`);
  // Customers who object to profiling are never members of a DYNAMIC segment (src/modules/tags/profiling-consent.ts).
  const where = sql`(${compileCustomerFilter(filterFromJson(seg.filter), config) ?? sql`true`}) AND ${profilingAllowed(sql`customers.id`)}`;
  const ref = { id: seg.id, name: seg.name, version: seg.version };
  const exited = await repo.exitMembers(tx, ref, sql`NOT EXISTS (SELECT 1 FROM customers WHERE customers.id = m.customer_id AND ${where})`);
  const entered = await repo.enterMembers(tx, ref, sql`SELECT customers.id FROM customers WHERE ${where}`);
  return { entered, exited };
}

/**
 * The given customers leave every DYNAMIC segment they are members of now (an objection to profiling),
 * with EXITED history and SEGMENT_EXITED events; one statement per such segment. The daily size is
 * recorded at the segment's next refresh. Returns how many memberships ended.
 */
export async function exitDynamicSegments(tx: Executor, customerIds: readonly string[]): Promise<number> {
  const ids = sql`${sql.param([...customerIds])}::uuid[]`;
  const segs = await execRows<{ id: string; name: string; version: number }>(tx, sql`
    SELECT s.id, s.name, s.version FROM segments s
    WHERE s.kind = 'DYNAMIC' AND s.archived_at IS NULL
      AND EXISTS (SELECT 1 FROM segment_memberships m WHERE m.segment_id = s.id AND m.customer_id = ANY(${ids}))
    ORDER BY s.id FOR UPDATE OF s`);
  let n = 0;
  for (const s of segs) n += await repo.exitMembers(tx, { id: s.id, name: s.name, version: Number(s.version) }, sql`m.customer_id = ANY(${ids})`);
  return n;
}

/**
 * Refreshes one segment in its own transaction. The row lock serializes refreshes of the same
 * segment; with `skipLocked` (the scheduled job) a segment another instance is refreshing is skipped.
 * STATIC segments only get their daily size recorded.
 */
export async function refreshSegmentById(db: Db, config: FilterConfig, id: string, opts: { skipLocked?: boolean; olderThanMs?: number } = {}): Promise<{ segment: SegmentRow; entered: number; exited: number } | null> {
  return db.transaction(async (tx) => {
    const [seg] = await repo.segmentsByIds(tx, [id], { forUpdate: opts.skipLocked ? 'skip-locked' : 'wait' });
    if (!seg || seg.archivedAt) return null;
    // Another instance may have refreshed it between our due check and the lock.
    if (opts.olderThanMs !== undefined && seg.refreshedAt && Date.now() - seg.refreshedAt.getTime() < opts.olderThanMs) return null;
    const counts = seg.kind === 'DYNAMIC' ? await recompute(tx, config, seg) : { entered: 0, exited: 0 };
    await repo.snapshotSize(tx, seg.id);
    return { segment: seg, ...counts };
  });
}

export async function refreshSegment(db: Db, config: FilterConfig, globalId: string): Promise<RefreshResult> {
  const id = tryGlobalId(globalId, 'Segment');
  if (!id) return { segment: null, entered: 0, exited: 0, userErrors: [userError(['id'], 'id is not a valid Segment id')] };
  const [current] = await repo.segmentsByIds(db, [id]);
  if (!current) return { segment: null, entered: 0, exited: 0, userErrors: [userError(['id'], 'segment not found', 'NOT_FOUND')] };
  if (current.archivedAt) return { segment: current, entered: 0, exited: 0, userErrors: [userError(['id'], 'the segment is archived', 'CONFLICT')] };
  const r = await refreshSegmentById(db, config, id);
  return { segment: r?.segment ?? current, entered: r?.entered ?? 0, exited: r?.exited ?? 0, userErrors: [] };
}

/** Refreshes every segment not refreshed within `olderThanMs` (the scheduled job and the CLI). */
export async function refreshDueSegments(db: Db, config: FilterConfig, logger: Logger, olderThanMs: number): Promise<{ refreshed: number; entered: number; exited: number }> {
  const totals = { refreshed: 0, entered: 0, exited: 0 };
  for (const id of await repo.dueSegmentIds(db, olderThanMs)) {
    try {
      const r = await refreshSegmentById(db, config, id, { skipLocked: true, olderThanMs });
      if (!r) continue;
      totals.refreshed++;
      totals.entered += r.entered;
      totals.exited += r.exited;
    } catch (e) {
      // One broken definition (e.g. a filter over a dropped tag) must not stop the others.
      logger.error({ err: e, segmentId: id }, 'segment refresh failed');
    }
  }
  return totals;
}

async function editMembers(db: Db, segmentGlobalId: string, customerGlobalIds: readonly string[], mode: 'add' | 'remove'): Promise<MembersResult> {
  const errors: UserError[] = [];
  const id = tryGlobalId(segmentGlobalId, 'Segment');
  if (!id) return { segment: null, changed: 0, userErrors: [userError(['segmentId'], 'segmentId is not a valid Segment id')] };
  const [seg] = await repo.segmentsByIds(db, [id]);
  if (!seg) return { segment: null, changed: 0, userErrors: [userError(['segmentId'], 'segment not found', 'NOT_FOUND')] };
  if (seg.kind !== 'STATIC') errors.push(userError(['segmentId'], 'members of a DYNAMIC segment follow its filter; only STATIC segments are edited'));
  if (seg.archivedAt) errors.push(userError(['segmentId'], 'the segment is archived', 'CONFLICT'));
  if (customerGlobalIds.length > MAX_MEMBERS_PER_CALL) errors.push(userError(['customerIds'], `at most ${MAX_MEMBERS_PER_CALL} customers per call`));
  const ids: string[] = [];
  customerGlobalIds.slice(0, MAX_MEMBERS_PER_CALL).forEach((g, i) => {
    const c = tryGlobalId(g, 'Customer');
    if (!c) errors.push(userError(['customerIds', String(i)], `${g} is not a valid Customer id`));
    else ids.push(c);
  });
  if (!errors.length && mode === 'add') {
    const existing = await repo.existingCustomerIds(db, ids);
    customerGlobalIds.forEach((g, i) => {
      const c = tryGlobalId(g, 'Customer');
      if (c && !existing.has(c)) errors.push(userError(['customerIds', String(i)], 'customer not found', 'NOT_FOUND'));
    });
  }
  if (errors.length) return { segment: null, changed: 0, userErrors: errors };
  const unique = [...new Set(ids)];
  const changed = await db.transaction(async (tx) => {
    const [locked] = await repo.segmentsByIds(tx, [id], { forUpdate: 'wait' });
    const ref = { id, name: locked!.name, version: locked!.version };
    const n = mode === 'add'
      ? await repo.enterMembers(tx, ref, sql`SELECT customers.id FROM customers WHERE customers.id = ANY(${sql.param(unique)}::uuid[])`)
      : await repo.exitMembers(tx, ref, sql`m.customer_id = ANY(${sql.param(unique)}::uuid[])`);
    await repo.snapshotSize(tx, id);
    return n;
  });
  return { segment: seg, changed, userErrors: [] };
}

export const addSegmentMembers = (db: Db, segmentId: string, customerIds: readonly string[]) => editMembers(db, segmentId, customerIds, 'add');
export const removeSegmentMembers = (db: Db, segmentId: string, customerIds: readonly string[]) => editMembers(db, segmentId, customerIds, 'remove');

export { memberIdsPage, streamMemberIds } from './segments.repository';
