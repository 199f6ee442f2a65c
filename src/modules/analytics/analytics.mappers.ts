import type { Edge, PageInfoShape } from '../../lib/pagination';
import type { TransactionRow } from '../commerce';
import type { InteractionRow } from '../service';
import type { TagChangeRow } from '../tags';

export interface MetricsRow {
  customerId: string;
  orderCount: number;
  totalSpent: string;
  averageOrderValue: string;
  firstPurchaseAt: Date | null;
  lastPurchaseAt: Date | null;
}
export type TimelineEventRow =
  | (TransactionRow & { __typename: 'Transaction' })
  | (InteractionRow & { __typename: 'Interaction' })
  | (TagChangeRow & { __typename: 'TagChange' });

export type CustomerMetricsMapper = MetricsRow;
export type TimelineEdgeMapper = Edge<TimelineEventRow>;
export interface TimelineConnectionMapper { edges: TimelineEdgeMapper[]; pageInfo: PageInfoShape }
