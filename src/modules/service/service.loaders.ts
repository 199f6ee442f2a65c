import type { SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { batched, byCustomer, orderByKeys, pagedLoader, type PagedKey } from '../../lib/batch';
import { cursorScope, timePage } from '../../lib/pagination';
import { pagedRelation, type CustomerRelation } from '../../lib/prefetch';
import type { Loaders } from '../../loaders';
import type { InteractionRow } from './service.mappers';
import * as repo from './service.repository';

export type InteractionPageKey = PagedKey<repo.InteractionPageArgs>;

const emptyPage = (): repo.InteractionPageRows => ({ customerId: '', totalCount: 0, rows: [] });

/**
 * `Customer.interactions(first, after, channel, from, to)` of customer `customerId` -> page shape and
 * loader arguments (resolver and prefetch agree). Cursors belong to that customer's list with those filters.
 */
export function interactionPageRequest(customerId: string, a: { first?: number | null; after?: string | null; channel?: string | null; from?: Date | null; to?: Date | null }) {
  const page = timePage(cursorScope('Customer.interactions', customerId, { channel: a.channel ?? null, from: a.from ?? null, to: a.to ?? null }), a.first, a.after);
  const args: repo.InteractionPageArgs = { limit: page.fetch, after: page.after, channel: a.channel ?? null, from: a.from ?? null, to: a.to ?? null };
  return { page, args, argsKey: JSON.stringify(args) };
}

/** The service loaders as factories: src/loaders.ts makes each one on its first use in a request. */
export const serviceLoaders = {
  interactionById: (db: Db, rowScope?: SQL) => batched<string, InteractionRow | null>(db, async (ids) =>
    orderByKeys(ids, await repo.interactionsByIds(db, ids, rowScope), (r) => r.id)),
  interactionPage: (db: Db) => pagedLoader<repo.InteractionPageArgs, repo.InteractionPageRows>(db,
    async (ids, args) => byCustomer(await repo.interactionPages(db, ids, args)), emptyPage),
};

/** Look-ahead batching of the service relations of Customer (see src/lib/prefetch.ts). */
export const serviceRelations: CustomerRelation<Loaders>[] = [
  pagedRelation({
    field: 'interactions',
    request: interactionPageRequest,
    query: repo.interactionPagesQuery,
    pages: (rows) => byCustomer(repo.mapInteractionPages(rows as repo.InteractionPageDbRow[])),
    loader: (l: Loaders) => l.interactionPage,
    empty: emptyPage,
  }),
];
