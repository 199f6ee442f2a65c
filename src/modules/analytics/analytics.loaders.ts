import type { Db } from '../../db/client';
import { pagedLoader, type PagedKey } from '../../lib/batch';
import { cursorScope, timePage } from '../../lib/pagination';
import { pagedRelation, type CustomerRelation } from '../../lib/prefetch';
import type { Loaders } from '../../loaders';
import type { TimelineEventRow } from './analytics.mappers';
import * as repo from './analytics.repository';

export type TimelinePageKey = PagedKey<repo.TimelineArgs>;


/**
 * `Customer.timeline(first, after, from, to)` of customer `customerId` -> page shape and loader
 * arguments (resolver and prefetch agree). Cursors belong to that customer's timeline with those bounds.
 */
export function timelinePageRequest(customerId: string, a: { first?: number | null; after?: string | null; from?: Date | null; to?: Date | null }) {
  const page = timePage(cursorScope('Customer.timeline', customerId, { from: a.from ?? null, to: a.to ?? null }), a.first, a.after);
  const args: repo.TimelineArgs = { limit: page.fetch, after: page.after, from: a.from ?? null, to: a.to ?? null };
  return { page, args, argsKey: JSON.stringify(args) };
}

/** The analytics loaders as factories: src/loaders.ts makes each one on its first use in a request. */
export const analyticsLoaders = {
  timelinePage: (db: Db) => pagedLoader<repo.TimelineArgs, TimelineEventRow[]>(db, (ids, args) => repo.timelinePages(db, ids, args), () => []),
};

/** Look-ahead batching of the timeline (see src/lib/prefetch.ts). */
export const analyticsRelations: CustomerRelation<Loaders>[] = [
  pagedRelation({
    field: 'timeline',
    request: timelinePageRequest,
    query: repo.timelinePagesQuery,
    pages: (rows) => repo.mapTimelinePages(rows as repo.TimelineDbRow[]),
    loader: (l: Loaders) => l.timelinePage,
    empty: (): TimelineEventRow[] => [],
  }),
];
