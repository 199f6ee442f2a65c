import DataLoader from 'dataloader';
import type { Db } from '../../db/client';
import { groupByKeys, orderByKeys } from '../../lib/batch';
import type { FieldSourceRow } from './ingest.mappers';
import * as repo from './merge.repository';

export function createIngestLoaders(db: Db) {
  return {
    /** Provenance of every field of many customers: one statement per request. */
    fieldSourcesByCustomerId: new DataLoader<string, FieldSourceRow[]>(async (ids) =>
      groupByKeys(ids, await repo.fieldSourcesByCustomerIds(db, ids), (r) => r.customerId)),
    mergeById: new DataLoader<string, repo.MergeRow | null>(async (ids) =>
      orderByKeys(ids, await repo.mergesByIds(db, ids), (r) => r.id)),
  };
}
