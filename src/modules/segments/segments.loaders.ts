import type { Db } from '../../db/client';
import { batched, groupByKeys, orderByKeys } from '../../lib/batch';
import type { SegmentRow } from './segments.mappers';
import * as repo from './segments.repository';

export function createSegmentLoaders(db: Db) {
  return {
    segmentById: batched<string, SegmentRow | null>(db, async (ids) =>
      orderByKeys(ids, await repo.segmentsByIds(db, ids), (r) => r.id)),
    segmentsByCustomerId: batched<string, SegmentRow[]>(db, async (ids) =>
      groupByKeys(ids, await repo.segmentsByCustomerIds(db, ids), (r) => r.customerId).map((rows) => rows.map((r) => r.segment))),
    segmentSizeById: batched<string, number>(db, async (ids) =>
      orderByKeys(ids, await repo.sizesBySegmentIds(db, ids), (r) => r.segmentId).map((r) => r?.size ?? 0)),
  };
}
