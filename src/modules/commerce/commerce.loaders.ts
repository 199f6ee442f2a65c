import type { SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { batched, byCustomer, groupByKeys, orderByKeys, pagedLoader, type PagedKey } from '../../lib/batch';
import { cursorScope, timePage } from '../../lib/pagination';
import { pagedRelation, type CustomerRelation } from '../../lib/prefetch';
import type { Loaders } from '../../loaders';
import type { TransactionItemRow, TransactionRow } from './commerce.mappers';
import * as repo from './commerce.repository';

export type TransactionPageKey = PagedKey<repo.PageArgs>;

const emptyPage = (): repo.TransactionPageRows => ({ customerId: '', totalCount: 0, rows: [] });

/**
 * `Customer.transactions(first, after, from, to)` of customer `customerId` -> page shape and loader
 * arguments (resolver and prefetch agree). Cursors belong to that customer's list with those bounds.
 */
export function transactionPageRequest(customerId: string, a: { first?: number | null; after?: string | null; from?: Date | null; to?: Date | null }) {
  const page = timePage(cursorScope('Customer.transactions', customerId, { from: a.from ?? null, to: a.to ?? null }), a.first, a.after);
  const args: repo.PageArgs = { limit: page.fetch, after: page.after, from: a.from ?? null, to: a.to ?? null };
  return { page, args, argsKey: JSON.stringify(args) };
}

/** The commerce loaders as factories: src/loaders.ts makes each one on its first use in a request. */
export const commerceLoaders = {
  transactionById: (db: Db, rowScope?: SQL) => batched<string, TransactionRow | null>(db, async (ids) =>
    orderByKeys(ids, await repo.transactionsByIds(db, ids, rowScope), (r) => r.id)),
  itemsByTransactionId: (db: Db) => batched<string, TransactionItemRow[]>(db, async (ids) =>
    groupByKeys(ids, await repo.itemsByTransactionIds(db, ids), (r) => r.transactionId)),
  transactionPage: (db: Db) => pagedLoader<repo.PageArgs, repo.TransactionPageRows>(db,
    async (ids, args) => byCustomer(await repo.transactionPages(db, ids, args)), emptyPage),
  metricsByCustomerId: (db: Db) => batched<string, repo.MetricsDbRow | null>(db, async (ids) =>
    orderByKeys(ids, await repo.metricsByCustomerIds(db, ids), (r) => r.customerId)),
};

/** Look-ahead batching of the commerce relations of Customer (see src/lib/prefetch.ts). */
export const commerceRelations: CustomerRelation<Loaders>[] = [
  pagedRelation({
    field: 'transactions',
    request: transactionPageRequest,
    query: repo.transactionPagesQuery,
    pages: (rows) => byCustomer(repo.mapTransactionPages(rows as repo.TransactionPageDbRow[])),
    loader: (l: Loaders) => l.transactionPage,
    empty: emptyPage,
  }),
  {
    field: 'metrics',
    plan(ids) {
      return {
        query: repo.metricsQuery(ids),
        prime(rows, loaders) {
          const byId = new Map(repo.mapMetrics(rows as repo.MetricsRawRow[]).map((m) => [m.customerId, m]));
          for (const id of ids) loaders.metricsByCustomerId.prime(id, byId.get(id) ?? null);
        },
      };
    },
  },
];
