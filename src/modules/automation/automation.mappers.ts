import type { Connection, Edge } from '../../lib/pagination';

export type CustomerEventType = 'TAG_ADDED' | 'TAG_CHANGED' | 'TAG_REMOVED' | 'SEGMENT_ENTERED' | 'SEGMENT_EXITED';
export const CUSTOMER_EVENT_TYPES: readonly CustomerEventType[] = ['TAG_ADDED', 'TAG_CHANGED', 'TAG_REMOVED', 'SEGMENT_ENTERED', 'SEGMENT_EXITED'];

/** An outbox row. `payload` holds the type-specific fields (tag or segment). */
export interface CustomerEventRow {
  id: string;
  seq: string;
  xid: string;
  type: CustomerEventType;
  customerId: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

export interface WebhookRow {
  id: string;
  url: string;
  description: string;
  secret: string;
  eventTypes: string[];
  active: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookDeliveryRow {
  id: string;
  webhookId: string;
  event: CustomerEventRow;
  status: 'PENDING' | 'DELIVERED' | 'FAILED';
  attempts: number;
  nextAttemptAt: Date;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
  /** created_at with microseconds, for cursors. */
  createdKey: string;
}

export type CustomerEventMapper = CustomerEventRow;
export type WebhookMapper = WebhookRow;
export type WebhookDeliveryMapper = WebhookDeliveryRow;
export type WebhookDeliveryEdgeMapper = Edge<WebhookDeliveryRow>;
export type WebhookDeliveryConnectionMapper = Omit<Connection<WebhookDeliveryRow>, 'totalCount'>;
