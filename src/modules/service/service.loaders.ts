import DataLoader from 'dataloader';
import type { SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { batchByArgs, orderByKeys, pagedCacheKey, type PagedKey } from '../../lib/batch';
import type { InteractionRow } from './service.mappers';
import * as repo from './service.repository';

export type InteractionPageKey = PagedKey<repo.InteractionPageArgs>;

export function createServiceLoaders(db: Db, rowScope?: SQL) {
  return {
    interactionById: new DataLoader<string, InteractionRow | null>(async (ids) =>
      orderByKeys(ids, await repo.interactionsByIds(db, ids, rowScope), (r) => r.id)),
    interactionPage: new DataLoader<InteractionPageKey, repo.InteractionPageRows, string>(
      (keys) => batchByArgs(
        keys,
        async (ids, args) => new Map((await repo.interactionPages(db, ids, args)).map((p) => [p.customerId, p])),
        () => ({ customerId: '', totalCount: 0, rows: [] }),
      ),
      { cacheKeyFn: pagedCacheKey },
    ),
  };
}
