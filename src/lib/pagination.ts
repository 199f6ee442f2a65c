import type { GraphQLResolveInfo } from 'graphql';
import { GraphQLError } from 'graphql';
import { badUserInput, withHttpStatus } from '../errors';
import { cursorSealer, openCursor } from './cursor';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** `first` defaults to 20 and must be 0..100 (contract in ARCHITECTURE.md). */
export function pageSize(first: number | null | undefined, field = 'first'): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw badUserInput(`${field} must be between 0 and ${MAX_PAGE_SIZE}`, field);
  }
  return first;
}

/**
 * Cursors carry the sort key values of the row, so pages stay correct when rows are inserted between
 * requests (keyset pagination, never OFFSET). They are sealed (src/lib/cursor.ts): opaque, authenticated,
 * and bound to their connection, parent and arguments; any other cursor is BAD_USER_INPUT.
 */
export { cursorScope, cursorSealer, openCursor, sealCursor, type CursorValue } from './cursor';

export interface PageInfoShape {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}
export interface Edge<T> { cursor: string; node: T }
export interface Connection<T> { edges: Edge<T>[]; pageInfo: PageInfoShape; totalCount: number }

/** Builds a connection from `first + 1` fetched rows (the extra row only tells that more follow). */
export function toConnection<T>(
  rows: readonly T[],
  first: number,
  after: string | null | undefined,
  cursorOf: (row: T) => string,
  totalCount: number,
): Connection<T> {
  const page = rows.slice(0, first);
  // Cursors are sealed only when read (a 360 view pages several child lists per customer and rarely
  // asks for their edge cursors), once per edge: endCursor is the same string as the last edge's cursor.
  const sealed: (string | undefined)[] = [];
  const cursorAt = (i: number) => (sealed[i] ??= cursorOf(page[i]!));
  const edges: Edge<T>[] = page.map((node, i) => ({ node, get cursor() { return cursorAt(i); } }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: Boolean(after),
      get startCursor() { return page.length ? cursorAt(0) : null; },
      get endCursor() { return page.length ? cursorAt(page.length - 1) : null; },
    },
    totalCount,
  };
}


const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TS_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * A cursor timestamp (UTC, microseconds) that PostgreSQL will accept: right shape AND a real instant
 * (`2025-13-45T99:99:99.000000Z` has the shape but would fail the `::timestamptz` cast).
 */
export function isTimestampKey(v: unknown): v is string {
  if (typeof v !== 'string' || !TS_KEY.test(v)) return false;
  const ms = Date.parse(`${v.slice(0, 23)}Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === v.slice(0, 19);
}

/** Position in a time-ordered child list (newest first): the row's timestamp (µs) and id. */
export interface TimePosition { key: string; id: string }

/**
 * Page arguments of a time-ordered child connection (transactions, interactions, timeline, logs):
 * `fetch` = first + 1 rows, and the validated keyset position from `after`. `scope` is the cursor
 * scope (`cursorScope(field, parent, args)`): a cursor of another list or parent is refused.
 */
export function timePage(scope: string, first: number | null | undefined, after: string | null | undefined) {
  const limit = pageSize(first);
  let position: TimePosition | null = null;
  if (after) {
    const [key, id] = openCursor(after, scope, 2);
    if (!isTimestampKey(key) || typeof id !== 'string' || !UUID.test(id)) {
      throw badUserInput('after is not a valid cursor for this list', 'after');
    }
    position = { key, id };
  }
  let seal: ((values: readonly string[]) => string) | undefined;
  return { limit, fetch: limit + 1, after: position, cursorOf: (row: { occurredKey: string; id: string }) => (seal ??= cursorSealer(scope))([row.occurredKey, row.id]) };
}

/** True when `info`'s field is the only field selected at the root of its operation. */
function soleRootField(info: GraphQLResolveInfo): boolean {
  if (info.path.prev !== undefined) return false;
  const roots = info.operation.selectionSet.selections;
  return roots.length === 1 && roots[0]!.kind === 'Field';
}

const REFUSED_INPUT: ReadonlySet<unknown> = new Set(['BAD_USER_INPUT', 'QUERY_TOO_COMPLEX']);

/**
 * Runs a root connection resolver. Arguments it refuses (a cursor of another list, `first: 1000`, a
 * filter over the cost budget) on the only root field of the operation refuse the whole request, so
 * it answers HTTP 400; next to other root fields the error stays at its path and the rest of the
 * response is kept (HTTP 200).
 */
export async function rootConnection<T>(info: GraphQLResolveInfo, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof GraphQLError && REFUSED_INPUT.has(e.extensions.code) && soleRootField(info)) throw withHttpStatus(e, 400);
    throw e;
  }
}
