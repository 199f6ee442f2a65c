/**
 * Helpers for DataLoader batch functions: one query per batch, then results in key order.
 * Missing keys get `null` (single) or `[]` (lists); duplicate keys get the same value.
 */
import DataLoader from 'dataloader';
import { statsOf } from '../db/client';

/** Keys per batch, for the DataLoader batch-size histogram of /metrics (summed per request). */
export function noteBatch(db: object, size: number): void {
  statsOf(db)?.batchSizes?.push(size);
}

/**
 * A per-request DataLoader over `db` (the request's Db): each batch's size is noted for /metrics.
 * Every loader of the project is made here.
 */
export function batched<K, V, C = K>(db: object, load: DataLoader.BatchLoadFn<K, V>, options?: DataLoader.Options<K, V, C>): DataLoader<K, V, C> {
  const stats = statsOf(db);
  const fn: DataLoader.BatchLoadFn<K, V> = stats?.batchSizes
    ? (keys) => { stats.batchSizes?.push(keys.length); return load(keys); }
    : load;
  return new DataLoader<K, V, C>(fn, options);
}

export function orderByKeys<K, R>(keys: readonly K[], rows: readonly R[], keyOf: (r: R) => K): (R | null)[] {
  const map = new Map<K, R>();
  for (const r of rows) map.set(keyOf(r), r);
  return keys.map((k) => map.get(k) ?? null);
}

export function groupByKeys<K, R>(keys: readonly K[], rows: readonly R[], keyOf: (r: R) => K): R[][] {
  const map = new Map<K, R[]>();
  for (const r of rows) {
    const k = keyOf(r);
    const list = map.get(k);
    if (list) list.push(r);
    else map.set(k, [r]);
  }
  return keys.map((k) => map.get(k) ?? []);
}

/**
 * For paginated children: keys carry the customer id plus the field arguments. Keys with the same
 * arguments are fetched together in one statement; a query normally has one argument set per field.
 */
export interface PagedKey<A> { customerId: string; args: A; argsKey: string }

export async function batchByArgs<A, R>(
  keys: readonly PagedKey<A>[],
  fetch: (customerIds: string[], args: A) => Promise<Map<string, R>>,
  empty: () => R,
): Promise<R[]> {
  const groups = new Map<string, { args: A; ids: Set<string> }>();
  for (const k of keys) {
    let g = groups.get(k.argsKey);
    if (!g) {
      g = { args: k.args, ids: new Set() };
      groups.set(k.argsKey, g);
    }
    g.ids.add(k.customerId);
  }
  const results = new Map<string, Map<string, R>>();
  await Promise.all([...groups].map(async ([argsKey, g]) => {
    results.set(argsKey, await fetch([...g.ids], g.args));
  }));
  return keys.map((k) => results.get(k.argsKey)?.get(k.customerId) ?? empty());
}

export const pagedCacheKey = <A>(k: PagedKey<A>): string => `${k.argsKey}|${k.customerId}`;

/** The loader of a paginated child list: `batchByArgs` over `fetch`, cached per (arguments, customer). */
export function pagedLoader<A, R>(
  db: object,
  fetch: (customerIds: string[], args: A) => Promise<Map<string, R>>,
  empty: () => R,
): DataLoader<PagedKey<A>, R, string> {
  return batched<PagedKey<A>, R, string>(db, (keys) => batchByArgs(keys, fetch, empty), { cacheKeyFn: pagedCacheKey });
}

/** Pages of several customers -> by customer id (the shape `pagedLoader` fetches). */
export const byCustomer = <P extends { customerId: string }>(pages: readonly P[]): Map<string, P> =>
  new Map(pages.map((p) => [p.customerId, p]));
