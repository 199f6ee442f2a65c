import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decodeCursor, encodeCursor, pageSize, timePage, toConnection,
} from '../../src/lib/pagination';

/** The error a call throws, for asserting GraphQL error codes; fails the test when nothing is thrown. */
function thrownBy(fn: () => unknown): GraphQLError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GraphQLError);
    return e as GraphQLError;
  }
  throw new Error('expected the call to throw');
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const UUID = '0b6f3c52-1d4e-4b8a-9c3e-2f1a5d7e9b10';

describe('pageSize', () => {
  it('defaults to 20 when first is null or undefined', () => {
    expect(pageSize(undefined)).toBe(DEFAULT_PAGE_SIZE);
    expect(pageSize(null)).toBe(20);
  });

  it('accepts the bounds 0 and 100', () => {
    expect(pageSize(0)).toBe(0);
    expect(pageSize(MAX_PAGE_SIZE)).toBe(100);
  });

  it.each([101, 1000, -1, 1.5, Number.NaN])('rejects %d with BAD_USER_INPUT naming the field', (first) => {
    const err = thrownBy(() => pageSize(first, 'first'));
    expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });
});

describe('encodeCursor / decodeCursor', () => {
  it('round-trips the sort values', () => {
    const cursor = encodeCursor('customers:NAME_ASC', ['Ada Lovelace', UUID]);
    expect(decodeCursor(cursor, 'customers:NAME_ASC', 2)).toEqual(['Ada Lovelace', UUID]);
  });

  it('round-trips numbers and nulls', () => {
    expect(decodeCursor(encodeCursor('k', [1, null, 'x']), 'k', 3)).toEqual([1, null, 'x']);
  });

  it('produces an opaque url-safe string', () => {
    expect(encodeCursor('k', ['a/b+c?', 'é'])).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['random base64', b64('hello world')],
    ['not base64 at all', '!!!***'],
    ['an empty string', ''],
    ['a JSON object', b64({ kind: 'k', values: ['a'] })],
    ['another kind', encodeCursor('tx', ['a', 'b'])],
    ['too few values', encodeCursor('k', ['a'])],
    ['too many values', encodeCursor('k', ['a', 'b', 'c'])],
    ['a nested value', b64(['k', ['a'], 'b'])],
    ['a boolean value', b64(['k', true, 'b'])],
    ['more than 1000 characters', encodeCursor('k', ['a'.repeat(1000), 'b'])],
  ])('rejects %s with BAD_USER_INPUT', (_label, cursor) => {
    const err = thrownBy(() => decodeCursor(cursor, 'k', 2));
    expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('names the given field in the error', () => {
    expect(thrownBy(() => decodeCursor('x', 'k', 1, 'before')).extensions).toMatchObject({ field: 'before' });
  });
});

describe('timePage', () => {
  const KEY = '2025-06-01T12:00:00.000000Z';

  it('fetches one row more than the page and decodes its own cursors', () => {
    const page = timePage('tx', 5, undefined);
    expect(page).toMatchObject({ limit: 5, fetch: 6, after: null });
    const cursor = page.cursorOf({ occurredKey: KEY, id: UUID });
    expect(timePage('tx', 5, cursor).after).toEqual({ key: KEY, id: UUID });
  });

  it.each([
    ['a cursor of another list', encodeCursor('ix', [KEY, UUID])],
    ['a non-uuid id', encodeCursor('tx', [KEY, 'not-a-uuid'])],
    ['an uppercase uuid', encodeCursor('tx', [KEY, UUID.toUpperCase()])],
    ['a timestamp without microseconds', encodeCursor('tx', ['2025-06-01T12:00:00Z', UUID])],
    ['a number as timestamp', encodeCursor('tx', [1, UUID])],
    ['random base64', b64('garbage')],
  ])('rejects %s with BAD_USER_INPUT', (_label, cursor) => {
    expect(thrownBy(() => timePage('tx', 5, cursor)).extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('rejects a well-shaped but impossible timestamp with BAD_USER_INPUT', () => {
    const cursor = encodeCursor('tx', ['2025-13-45T99:99:99.000000Z', UUID]);
    expect(thrownBy(() => timePage('tx', 5, cursor)).extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('rejects a page size over 100', () => {
    expect(thrownBy(() => timePage('tx', 101, undefined)).extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});

describe('toConnection', () => {
  const rows = ['a', 'b', 'c'];

  it('cuts the extra row and reports that more follow', () => {
    const conn = toConnection(rows, 2, null, (r) => `c-${r}`, 10);
    expect(conn.edges).toEqual([{ cursor: 'c-a', node: 'a' }, { cursor: 'c-b', node: 'b' }]);
    expect(conn.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: 'c-a', endCursor: 'c-b' });
    expect(conn.totalCount).toBe(10);
  });

  it('reports the last page and a previous page after a cursor', () => {
    const conn = toConnection(rows, 3, 'cursor', (r) => r, 3);
    expect(conn.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true, endCursor: 'c' });
  });

  it('has null cursors on an empty page', () => {
    expect(toConnection([], 5, undefined, String, 0).pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
  });
});
