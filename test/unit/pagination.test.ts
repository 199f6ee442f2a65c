import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, cursorScope, pageSize, sealCursor, timePage, toConnection,
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

describe('timePage', () => {
  const KEY = '2025-06-01T12:00:00.000000Z';
  const TX = cursorScope('Customer.transactions', UUID, { from: null, to: null });

  it('fetches one row more than the page and decodes its own cursors', () => {
    const page = timePage(TX, 5, undefined);
    expect(page).toMatchObject({ limit: 5, fetch: 6, after: null });
    const cursor = page.cursorOf({ occurredKey: KEY, id: UUID });
    expect(timePage(TX, 5, cursor).after).toEqual({ key: KEY, id: UUID });
  });

  // Sealed with the server's key: the checks after decryption still hold (defence in depth).
  it.each([
    ['a cursor of another list', sealCursor(cursorScope('Customer.interactions', UUID, { from: null, to: null }), [KEY, UUID])],
    ['a cursor of another customer', sealCursor(cursorScope('Customer.transactions', UUID.replace('0b', '1b'), { from: null, to: null }), [KEY, UUID])],
    ['a cursor of other bounds', sealCursor(cursorScope('Customer.transactions', UUID, { from: new Date(0), to: null }), [KEY, UUID])],
    ['a non-uuid id', sealCursor(TX, [KEY, 'not-a-uuid'])],
    ['an uppercase uuid', sealCursor(TX, [KEY, UUID.toUpperCase()])],
    ['a timestamp without microseconds', sealCursor(TX, ['2025-06-01T12:00:00Z', UUID])],
    ['a number as timestamp', sealCursor(TX, [1, UUID])],
    ['a well-shaped but impossible timestamp', sealCursor(TX, ['2025-13-45T99:99:99.000000Z', UUID])],
    ['random base64', b64('garbage')],
  ])('rejects %s with BAD_USER_INPUT', (_label, cursor) => {
    expect(thrownBy(() => timePage(TX, 5, cursor)).extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('rejects a page size over 100', () => {
    expect(thrownBy(() => timePage(TX, 101, undefined)).extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
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

  it('computes each cursor once: endCursor is the cursor of the last edge', () => {
    let calls = 0;
    const conn = toConnection(rows, 2, null, (r) => `${r}-${++calls}`, 3);
    expect(conn.edges.map((e) => e.cursor)).toEqual(['a-1', 'b-2']);
    expect([conn.pageInfo.startCursor, conn.pageInfo.endCursor, conn.edges[1]!.cursor]).toEqual(['a-1', 'b-2', 'b-2']);
  });

  it('has null cursors on an empty page', () => {
    expect(toConnection([], 5, undefined, String, 0).pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
  });
});
