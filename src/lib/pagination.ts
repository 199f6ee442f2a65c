import { badUserInput } from '../errors';

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
 * Cursors are opaque (base64url JSON) and carry the sort key values of the row, so pages stay
 * correct when rows are inserted between requests (keyset pagination, never OFFSET).
 * `k` names the ordering the cursor belongs to; a cursor from another ordering is rejected.
 */
export function encodeCursor(kind: string, values: readonly (string | number | null)[]): string {
  return Buffer.from(JSON.stringify([kind, ...values])).toString('base64url');
}

export function decodeCursor(cursor: string, kind: string, arity: number, field = 'after'): (string | number | null)[] {
  const fail = () => badUserInput(`${field} is not a valid cursor for this list`, field);
  if (cursor.length > 1000) throw fail();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw fail();
  }
  if (!Array.isArray(parsed) || parsed.length !== arity + 1 || parsed[0] !== kind) throw fail();
  const values = parsed.slice(1);
  if (!values.every((v) => v === null || typeof v === 'string' || typeof v === 'number')) throw fail();
  return values as (string | number | null)[];
}

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
  // Cursors are encoded only when read: a 360 view pages several child lists per customer and
  // rarely asks for their edge cursors.
  const edges: Edge<T>[] = page.map((node) => ({ node, get cursor() { return cursorOf(node); } }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: Boolean(after),
      get startCursor() { return page.length ? cursorOf(page[0]!) : null; },
      get endCursor() { return page.length ? cursorOf(page.at(-1)!) : null; },
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
 * Page arguments of a time-ordered child connection (transactions, interactions, timeline):
 * `fetch` = first + 1 rows, and the validated keyset position from `after`.
 */
export function timePage(kind: string, first: number | null | undefined, after: string | null | undefined) {
  const limit = pageSize(first);
  let position: TimePosition | null = null;
  if (after) {
    const [key, id] = decodeCursor(after, kind, 2);
    if (!isTimestampKey(key) || typeof id !== 'string' || !UUID.test(id)) {
      throw badUserInput('after is not a valid cursor for this list', 'after');
    }
    position = { key, id };
  }
  return { limit, fetch: limit + 1, after: position, cursorOf: (row: { occurredKey: string; id: string }) => encodeCursor(kind, [row.occurredKey, row.id]) };
}
