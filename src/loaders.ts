import type { SQL } from 'drizzle-orm';
import type { Db } from './db/client';
import { analyticsLoaders } from './modules/analytics/analytics.loaders';
import { commerceLoaders } from './modules/commerce/commerce.loaders';
import { createCustomer360Loader } from './modules/profile/customer360.service';
import { ingestLoaders } from './modules/ingest/ingest.loaders';
import { profileLoaders } from './modules/profile/profile.loaders';
import { serviceLoaders } from './modules/service/service.loaders';
import { tagLoaders } from './modules/tags/tags.loaders';
import { segmentLoaders } from './modules/segments/segments.loaders';

/** How every loader is made: from the request's Db, its row scope, and the request's other loaders. */
const domainFactories = {
  ...profileLoaders,
  ...tagLoaders,
  ...commerceLoaders,
  ...serviceLoaders,
  ...analyticsLoaders,
  ...segmentLoaders,
  ...ingestLoaders,
};
const factories = {
  ...domainFactories,
  customer360: (db: Db, rowScope: SQL | undefined, self: Loaders) => createCustomer360Loader(db, rowScope, () => self),
};

type DomainLoaders = { readonly [K in keyof typeof domainFactories]: ReturnType<(typeof domainFactories)[K]> };
export type Loaders = DomainLoaders & { readonly customer360: ReturnType<typeof createCustomer360Loader> };

type Factory = (db: Db, rowScope: SQL | undefined, self: Loaders) => unknown;

/**
 * The loaders of one request. Each is made on first access and then kept on the instance: a request
 * uses a few of the ~30 (a lookup none, the full 360 about ten), and making all of them up front was
 * a tenth of the memory a lookup allocated (30 DataLoaders, their cache maps and closures, 28 KB),
 * which is garbage-collection work on every request.
 */
class RequestLoaders {
  constructor(readonly db: Db, readonly rowScope: SQL | undefined) {}
}
for (const [key, make] of Object.entries(factories) as [string, Factory][]) {
  Object.defineProperty(RequestLoaders.prototype, key, {
    get(this: RequestLoaders) {
      const loader = make(this.db, this.rowScope, this as unknown as Loaders);
      Object.defineProperty(this, key, { value: loader, enumerable: true });
      return loader;
    },
  });
}

/**
 * Per-request DataLoaders of every domain; never shared across requests (no cross-user cache).
 * `rowScope` limits the customers this request can reach at all: every entry point into a customer
 * (by id, external id, or a transaction/interaction id) applies it.
 */
export function createLoaders(db: Db, rowScope?: SQL): Loaders {
  return new RequestLoaders(db, rowScope) as unknown as Loaders;
}
