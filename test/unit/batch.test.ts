import { describe, expect, it, vi } from 'vitest';
import { batchByArgs, byCustomer, groupByKeys, orderByKeys, pagedCacheKey, pagedLoader, type PagedKey } from '../../src/lib/batch';

interface Row { id: string; v: number }

describe('orderByKeys', () => {
  const rows: Row[] = [{ id: 'b', v: 2 }, { id: 'a', v: 1 }, { id: 'c', v: 3 }];

  it('returns rows in key order, not row order', () => {
    expect(orderByKeys(['c', 'a', 'b'], rows, (r) => r.id).map((r) => r?.v)).toEqual([3, 1, 2]);
  });

  it('returns null for missing keys', () => {
    expect(orderByKeys(['a', 'zz', 'c'], rows, (r) => r.id)).toEqual([rows[1], null, rows[2]]);
  });

  it('gives duplicate keys the same row', () => {
    const out = orderByKeys(['a', 'a'], rows, (r) => r.id);
    expect(out).toHaveLength(2);
    expect(out[0]).toBe(rows[1]);
    expect(out[1]).toBe(rows[1]);
  });

  it('returns an empty list for no keys', () => {
    expect(orderByKeys([], rows, (r) => r.id)).toEqual([]);
  });
});

describe('groupByKeys', () => {
  const rows: Row[] = [{ id: 'a', v: 1 }, { id: 'b', v: 2 }, { id: 'a', v: 3 }];

  it('groups rows per key in key order, keeping row order inside a group', () => {
    expect(groupByKeys(['b', 'a'], rows, (r) => r.id)).toEqual([[rows[1]], [rows[0], rows[2]]]);
  });

  it('returns an empty list for missing keys', () => {
    expect(groupByKeys(['x', 'b'], rows, (r) => r.id)).toEqual([[], [rows[1]]]);
  });

  it('gives duplicate keys the same group', () => {
    const [first, second] = groupByKeys(['a', 'a'], rows, (r) => r.id);
    expect(first).toHaveLength(2);
    expect(second).toBe(first);
  });
});

describe('batchByArgs', () => {
  const key = (customerId: string, limit: number): PagedKey<{ limit: number }> =>
    ({ customerId, args: { limit }, argsKey: JSON.stringify({ limit }) });

  it('fetches once per distinct argsKey with the distinct customer ids of that group', async () => {
    const fetch = vi.fn(async (ids: string[], args: { limit: number }) =>
      new Map(ids.map((id) => [id, `${id}@${args.limit}`])));
    const out = await batchByArgs([key('c1', 10), key('c2', 10), key('c1', 5), key('c1', 10)], fetch, () => 'empty');
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(fetch).toHaveBeenCalledWith(['c1', 'c2'], { limit: 10 });
    expect(fetch).toHaveBeenCalledWith(['c1'], { limit: 5 });
    expect(out).toEqual(['c1@10', 'c2@10', 'c1@5', 'c1@10']);
  });

  it('returns a fresh empty value for customers the fetch did not return', async () => {
    const out = await batchByArgs([key('c1', 10), key('c2', 10)], async () => new Map([['c2', ['x']]]), () => [] as string[]);
    expect(out).toEqual([[], ['x']]);
  });

  it('does not fetch for no keys', async () => {
    const fetch = vi.fn(async () => new Map<string, string>());
    expect(await batchByArgs([], fetch, () => '')).toEqual([]);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('builds cache keys that differ by arguments and by customer', () => {
    expect(pagedCacheKey(key('c1', 10))).not.toBe(pagedCacheKey(key('c1', 5)));
    expect(pagedCacheKey(key('c1', 10))).not.toBe(pagedCacheKey(key('c2', 10)));
    expect(pagedCacheKey(key('c1', 10))).toBe(pagedCacheKey(key('c1', 10)));
  });
});

describe('pagedLoader', () => {
  const key = (customerId: string, limit: number): PagedKey<{ limit: number }> =>
    ({ customerId, args: { limit }, argsKey: JSON.stringify({ limit }) });

  it('loads the keys of one tick in one fetch per argument set, and serves a repeated key from its cache', async () => {
    const fetch = vi.fn(async (ids: string[], args: { limit: number }) =>
      byCustomer(ids.filter((id) => id !== 'c3').map((customerId) => ({ customerId, page: `${customerId}@${args.limit}` }))));
    const loader = pagedLoader(new Object(), fetch, () => null);
    const out = await Promise.all([loader.load(key('c1', 10)), loader.load(key('c2', 10)), loader.load(key('c3', 10)), loader.load(key('c1', 5))]);
    expect(out.map((p) => p?.page ?? null)).toEqual(['c1@10', 'c2@10', null, 'c1@5']);
    expect(fetch).toHaveBeenCalledTimes(2);
    expect((await loader.load(key('c2', 10)))?.page).toBe('c2@10');
    expect(fetch).toHaveBeenCalledTimes(2);
  });
});
