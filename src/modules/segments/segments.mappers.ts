import type { segments } from '../../db/schema/index';
import type { Connection, Edge } from '../../lib/pagination';

export type SegmentRow = typeof segments.$inferSelect;
export interface SegmentMembershipChangeRow {
  id: string;
  segmentId: string;
  customerId: string;
  action: 'ENTERED' | 'EXITED';
  segmentVersion: number;
  occurredAt: Date;
  /** occurred_at with microseconds, for cursors. */
  occurredKey: string;
}

export type SegmentMapper = SegmentRow;
export type SegmentEdgeMapper = Edge<SegmentRow>;
export type SegmentConnectionMapper = Connection<SegmentRow>;
export type SegmentMembershipChangeMapper = SegmentMembershipChangeRow;
export type SegmentMembershipChangeEdgeMapper = Edge<SegmentMembershipChangeRow>;
export type SegmentMembershipChangeConnectionMapper = Omit<Connection<SegmentMembershipChangeRow>, 'totalCount'>;
