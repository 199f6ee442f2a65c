import type { SQL } from 'drizzle-orm';
import type { Db } from './db/client';
import { createAnalyticsLoaders } from './modules/analytics/analytics.loaders';
import { createCommerceLoaders } from './modules/commerce/commerce.loaders';
import { createCustomer360Loader } from './modules/profile/customer360.service';
import { createIngestLoaders } from './modules/ingest/ingest.loaders';
import { createProfileLoaders } from './modules/profile/profile.loaders';
import { createServiceLoaders } from './modules/service/service.loaders';
import { createTagLoaders } from './modules/tags/tags.loaders';
import { createSegmentLoaders } from './modules/segments/segments.loaders';

function createDomainLoaders(db: Db, rowScope?: SQL) {
  return {
    ...createProfileLoaders(db, rowScope),
    ...createTagLoaders(db),
    ...createCommerceLoaders(db, rowScope),
    ...createServiceLoaders(db, rowScope),
    ...createAnalyticsLoaders(db),
    ...createSegmentLoaders(db),
    ...createIngestLoaders(db),
  };
}

/**
 * Per-request DataLoaders of every domain; never shared across requests (no cross-user cache).
 * `rowScope` limits the customers this request can reach at all: every entry point into a customer
 * (by id, external id, or a transaction/interaction id) applies it.
 */
export function createLoaders(db: Db, rowScope?: SQL) {
  const loaders: Loaders = { ...createDomainLoaders(db, rowScope), customer360: createCustomer360Loader(db, rowScope, () => loaders) };
  return loaders;
}
export type Loaders = ReturnType<typeof createDomainLoaders> & { customer360: ReturnType<typeof createCustomer360Loader> };
