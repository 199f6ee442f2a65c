import DataLoader from 'dataloader';
import type { Db } from '../../db/client';
import { groupByKeys, orderByKeys } from '../../lib/batch';
import type { SegmentRow } from './segments.mappers';
import * as repo from './segments.repository';

export function createSegmentLoaders(db: Db) {
  return {
    segmentById: new DataLoader<string, SegmentRow | null>(async (ids) =>
      orderByKeys(ids, await repo.segmentsByIds(db, ids), (r) => r.id)),
    segmentsByCustomerId: new DataLoader<string, SegmentRow[]>(async (ids) =>
      groupByKeys(ids, await repo.segmentsByCustomerIds(db, ids), (r) => r.customerId).map((rows) => rows.map((r) => r.segment))),
    segmentSizeById: new DataLoader<string, number>(async (ids) =>
      orderByKeys(ids, await repo.sizesBySegmentIds(db, ids), (r) => r.segmentId).map((r) => r?.size ?? 0)),
  };
}
