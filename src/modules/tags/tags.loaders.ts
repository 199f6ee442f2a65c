import DataLoader from 'dataloader';
import type { Db } from '../../db/client';
import { groupByKeys, orderByKeys } from '../../lib/batch';
import type { CustomerRelation } from '../../lib/prefetch';
import type { Loaders } from '../../loaders';
import type { CustomerTagRow, TagChangeRow, TagDefinitionRow } from './tags.mappers';
import * as repo from './tags.repository';

export function createTagLoaders(db: Db) {
  return {
    tagDefinitionById: new DataLoader<string, TagDefinitionRow | null>(async (ids) =>
      orderByKeys(ids, await repo.tagDefinitionsByIds(db, ids), (r) => r.id)),
    tagsByCustomerId: new DataLoader<string, CustomerTagRow[]>(async (ids) =>
      groupByKeys(ids, await repo.tagsByCustomerIds(db, ids), (r) => r.customerId)),
    tagChangeById: new DataLoader<string, TagChangeRow | null>(async (ids) =>
      orderByKeys(ids, await repo.tagChangesByIds(db, ids), (r) => r.id)),
  };
}

/** Look-ahead batching of Customer.tags (see src/lib/prefetch.ts). */
export const tagRelations: CustomerRelation<Loaders>[] = [
  {
    field: 'tags',
    plan(ids) {
      return {
        query: repo.tagsByCustomerIdsQuery(ids),
        prime(rows, loaders) {
          const lists = groupByKeys(ids, repo.mapCustomerTags(rows as repo.CustomerTagDbRow[]), (r) => r.customerId);
          ids.forEach((id, i) => loaders.tagsByCustomerId.prime(id, lists[i] ?? []));
        },
      };
    },
  },
];
