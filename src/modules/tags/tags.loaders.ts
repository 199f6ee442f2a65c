import DataLoader from 'dataloader';
import type { Db } from '../../db/client';
import { groupByKeys, orderByKeys } from '../../lib/batch';
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
