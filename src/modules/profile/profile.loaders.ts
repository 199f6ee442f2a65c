import type { SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { batched, groupByKeys, orderByKeys } from '../../lib/batch';
import type { CustomerRelation } from '../../lib/prefetch';
import type { Loaders } from '../../loaders';
import type { ConsentRow, CustomerRow, IdentityRow } from './profile.mappers';
import * as repo from './profile.repository';

/** The profile loaders as factories: src/loaders.ts makes each one on its first use in a request. */
export const profileLoaders = {
  customerById: (db: Db, rowScope?: SQL) => batched<string, CustomerRow | null>(db, async (ids) =>
    orderByKeys(ids, await repo.customersByIds(db, ids, rowScope), (r) => r.id)),
  customerByExternalId: (db: Db, rowScope?: SQL) => batched<repo.ExternalKey, CustomerRow | null, string>(db, 
    async (keys) => orderByKeys(
      keys.map(externalKey),
      await repo.customersByExternalIds(db, keys, rowScope),
      (r) => externalKey(r),
    ),
    { cacheKeyFn: externalKey },
  ),
  identitiesByCustomerId: (db: Db) => batched<string, IdentityRow[]>(db, async (ids) =>
    groupByKeys(ids, await repo.identitiesByCustomerIds(db, ids), (r) => r.customerId)),
  consentsByCustomerId: (db: Db) => batched<string, ConsentRow[]>(db, async (ids) =>
    groupByKeys(ids, await repo.currentConsentsByCustomerIds(db, ids), (r) => r.customerId)),
  consentHistoryByCustomerId: (db: Db) => batched<string, ConsentRow[]>(db, async (ids) =>
    groupByKeys(ids, await repo.consentHistoryByCustomerIds(db, ids), (r) => r.customerId)),
};

const externalKey = (k: repo.ExternalKey): string => JSON.stringify([k.source, k.externalId]);

/** Look-ahead batching of the profile relations of Customer (see src/lib/prefetch.ts). */
export const profileRelations: CustomerRelation<Loaders>[] = [
  {
    field: 'externalIds',
    plan(ids) {
      return {
        query: repo.identitiesByCustomerIdsQuery(ids),
        prime(rows, loaders) {
          const lists = groupByKeys(ids, rows as IdentityRow[], (r) => r.customerId);
          ids.forEach((id, i) => loaders.identitiesByCustomerId.prime(id, lists[i] ?? []));
        },
      };
    },
  },
];

/** The customer rows themselves, for a root field that fetches them together with their relations. */
export function customerRowsPart(ids: readonly string[], rowScope: SQL | undefined) {
  return {
    query: repo.customersByIdsQuery(ids, rowScope),
    prime(rows: unknown[], loaders: Loaders): void {
      const byId = orderByKeys(ids, repo.mapCustomers(rows as repo.RawCustomer[]), (r) => r.id);
      ids.forEach((id, i) => loaders.customerById.prime(id, byId[i] ?? null));
    },
  };
}
