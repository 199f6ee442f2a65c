import type { Connection, Edge } from '../../lib/pagination';

export interface InteractionRow {
  __typename?: 'Interaction';
  id: string;
  customerId: string;
  source: string;
  externalId: string;
  channel: string;
  type: string;
  direction: string;
  subject: string | null;
  summary: string | null;
  sentiment: string | null;
  status: string;
  agent: string | null;
  occurredAt: Date;
  /** occurred_at with microseconds, for cursors. */
  occurredKey: string;
}

export type InteractionMapper = InteractionRow;
export type InteractionEdgeMapper = Edge<InteractionRow>;
export type InteractionConnectionMapper = Connection<InteractionRow>;
