import DataLoader from 'dataloader';
import type { SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { batchByArgs, groupByKeys, orderByKeys, pagedCacheKey, type PagedKey } from '../../lib/batch';
import type { TransactionItemRow, TransactionRow } from './commerce.mappers';
import * as repo from './commerce.repository';

export type TransactionPageKey = PagedKey<repo.PageArgs>;

export function createCommerceLoaders(db: Db, rowScope?: SQL) {
  return {
    transactionById: new DataLoader<string, TransactionRow | null>(async (ids) =>
      orderByKeys(ids, await repo.transactionsByIds(db, ids, rowScope), (r) => r.id)),
    itemsByTransactionId: new DataLoader<string, TransactionItemRow[]>(async (ids) =>
      groupByKeys(ids, await repo.itemsByTransactionIds(db, ids), (r) => r.transactionId)),
    transactionPage: new DataLoader<TransactionPageKey, repo.TransactionPageRows, string>(
      (keys) => batchByArgs(
        keys,
        async (ids, args) => new Map((await repo.transactionPages(db, ids, args)).map((p) => [p.customerId, p])),
        () => ({ customerId: '', totalCount: 0, rows: [] }),
      ),
      { cacheKeyFn: pagedCacheKey },
    ),
    metricsByCustomerId: new DataLoader<string, repo.MetricsDbRow | null>(async (ids) =>
      orderByKeys(ids, await repo.metricsByCustomerIds(db, ids), (r) => r.customerId)),
  };
}
