import DataLoader from 'dataloader';
import type { SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { groupByKeys, orderByKeys } from '../../lib/batch';
import type { ConsentRow, CustomerRow, IdentityRow } from './profile.mappers';
import * as repo from './profile.repository';

export function createProfileLoaders(db: Db, rowScope?: SQL) {
  return {
    customerById: new DataLoader<string, CustomerRow | null>(async (ids) =>
      orderByKeys(ids, await repo.customersByIds(db, ids, rowScope), (r) => r.id)),
    customerByExternalId: new DataLoader<repo.ExternalKey, CustomerRow | null, string>(
      async (keys) => orderByKeys(
        keys.map(externalKey),
        await repo.customersByExternalIds(db, keys, rowScope),
        (r) => externalKey(r),
      ),
      { cacheKeyFn: externalKey },
    ),
    identitiesByCustomerId: new DataLoader<string, IdentityRow[]>(async (ids) =>
      groupByKeys(ids, await repo.identitiesByCustomerIds(db, ids), (r) => r.customerId)),
    consentsByCustomerId: new DataLoader<string, ConsentRow[]>(async (ids) =>
      groupByKeys(ids, await repo.currentConsentsByCustomerIds(db, ids), (r) => r.customerId)),
    consentHistoryByCustomerId: new DataLoader<string, ConsentRow[]>(async (ids) =>
      groupByKeys(ids, await repo.consentHistoryByCustomerIds(db, ids), (r) => r.customerId)),
  };
}

const externalKey = (k: repo.ExternalKey): string => JSON.stringify([k.source, k.externalId]);
