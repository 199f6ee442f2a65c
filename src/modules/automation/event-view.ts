import { toGlobalId } from '../../lib/global-id';
import type { CustomerEventRow, CustomerEventType } from './automation.mappers';

/** The public shape of an event: the same in webhook bodies and in the `CustomerEvent` GraphQL type. */
export interface CustomerEventView {
  id: string;
  type: CustomerEventType;
  customerId: string;
  occurredAt: string;
  tagKey: string | null;
  tagCategory: string | null;
  value: string | null;
  previousValue: string | null;
  source: string | null;
  segmentId: string | null;
  segmentName: string | null;
  segmentVersion: number | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function eventView(e: CustomerEventRow): CustomerEventView {
  const p = e.payload;
  const segmentId = str(p.segmentId);
  return {
    id: e.id,
    type: e.type,
    customerId: toGlobalId('Customer', e.customerId),
    occurredAt: e.occurredAt.toISOString(),
    tagKey: str(p.tagKey),
    tagCategory: str(p.tagCategory),
    value: str(p.value),
    previousValue: str(p.previousValue),
    source: str(p.source),
    segmentId: segmentId ? toGlobalId('Segment', segmentId) : null,
    segmentName: str(p.segmentName),
    segmentVersion: typeof p.segmentVersion === 'number' ? p.segmentVersion : null,
  };
}
