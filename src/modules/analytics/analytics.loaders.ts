import DataLoader from 'dataloader';
import type { Db } from '../../db/client';
import { batchByArgs, pagedCacheKey, type PagedKey } from '../../lib/batch';
import type { TimelineEventRow } from './analytics.mappers';
import * as repo from './analytics.repository';

export type TimelinePageKey = PagedKey<repo.TimelineArgs>;

export function createAnalyticsLoaders(db: Db) {
  return {
    timelinePage: new DataLoader<TimelinePageKey, TimelineEventRow[], string>(
      (keys) => batchByArgs(keys, (ids, args) => repo.timelinePages(db, ids, args), () => []),
      { cacheKeyFn: pagedCacheKey },
    ),
  };
}
