import type { Db } from '../../db/client';
import { batched, groupByKeys, orderByKeys } from '../../lib/batch';
import type { FieldSourceRow } from './ingest.mappers';
import * as repo from './merge.repository';

/** The ingest loaders as factories: src/loaders.ts makes each one on its first use in a request. */
export const ingestLoaders = {
  /** Provenance of every field of many customers: one statement per request. */
  fieldSourcesByCustomerId: (db: Db) => batched<string, FieldSourceRow[]>(db, async (ids) =>
    groupByKeys(ids, await repo.fieldSourcesByCustomerIds(db, ids), (r) => r.customerId)),
  mergeById: (db: Db) => batched<string, repo.MergeRow | null>(db, async (ids) =>
    orderByKeys(ids, await repo.mergesByIds(db, ids), (r) => r.id)),
};
