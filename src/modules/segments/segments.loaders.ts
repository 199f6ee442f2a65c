import type { Db } from '../../db/client';
import { batched, groupByKeys, orderByKeys } from '../../lib/batch';
import type { SegmentRow } from './segments.mappers';
import * as repo from './segments.repository';

/** The segment loaders as factories: src/loaders.ts makes each one on its first use in a request. */
export const segmentLoaders = {
  segmentById: (db: Db) => batched<string, SegmentRow | null>(db, async (ids) =>
    orderByKeys(ids, await repo.segmentsByIds(db, ids), (r) => r.id)),
  segmentsByCustomerId: (db: Db) => batched<string, SegmentRow[]>(db, async (ids) =>
    groupByKeys(ids, await repo.segmentsByCustomerIds(db, ids), (r) => r.customerId).map((rows) => rows.map((r) => r.segment))),
  segmentSizeById: (db: Db) => batched<string, number>(db, async (ids) =>
    orderByKeys(ids, await repo.sizesBySegmentIds(db, ids), (r) => r.segmentId).map((r) => r?.size ?? 0)),
};
