import { sql } from 'drizzle-orm';
import {
  bigserial, boolean, check, customType, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uniqueIndex, uuid,
} from 'drizzle-orm/pg-core';
import { customers } from './profile';

/** Kept in step with drizzle/0010_segments_automation.sql (hand-written: triggers and transition tables). */

/** PostgreSQL's 64-bit transaction id; read as text (it does not fit a JS number exactly). */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/** A named group of customers: DYNAMIC (a stored CustomerFilter) or STATIC (an explicit member list). */
export const segments = pgTable('segments', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  kind: text('kind').notNull(),
  /** The CustomerFilter input as JSON (DYNAMIC only). */
  filter: jsonb('filter'),
  /** Bumped whenever the definition (filter) changes; membership history records it. */
  version: integer('version').notNull().default(1),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  refreshedAt: timestamp('refreshed_at', { withTimezone: true }),
  archivedAt: timestamp('archived_at', { withTimezone: true }),
}, (t) => [
  uniqueIndex('segments_name_active_idx').on(sql`lower(${t.name})`).where(sql`${t.archivedAt} IS NULL`),
  check('segments_kind_chk', sql`${t.kind} IN ('DYNAMIC','STATIC')`),
  check('segments_filter_chk', sql`(${t.kind} = 'DYNAMIC') = (${t.filter} IS NOT NULL)`),
]);

/** Materialized membership: refreshed set-based for DYNAMIC segments, edited for STATIC ones. */
export const segmentMemberships = pgTable('segment_memberships', {
  customerId: uuid('customer_id').notNull().references(() => customers.id, { onDelete: 'cascade' }),
  segmentId: uuid('segment_id').notNull().references(() => segments.id, { onDelete: 'cascade' }),
  segmentVersion: integer('segment_version').notNull(),
  enteredAt: timestamp('entered_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  primaryKey({ name: 'segment_memberships_pk', columns: [t.customerId, t.segmentId] }),
  index('segment_memberships_segment_idx').on(t.segmentId, t.customerId),
]);

/** Every entry and exit, with the definition version that caused it. */
export const segmentMembershipEvents = pgTable('segment_membership_events', {
  id: uuid('id').notNull().defaultRandom(),
  customerId: uuid('customer_id').notNull().references(() => customers.id, { onDelete: 'cascade' }),
  segmentId: uuid('segment_id').notNull().references(() => segments.id, { onDelete: 'cascade' }),
  action: text('action').notNull(),
  segmentVersion: integer('segment_version').notNull(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  primaryKey({ name: 'segment_membership_events_pk', columns: [t.customerId, t.id] }),
  index('segment_membership_events_segment_idx').on(t.segmentId, t.occurredAt, t.id),
  check('segment_membership_events_action_chk', sql`${t.action} IN ('ENTERED','EXITED')`),
]);

/** Size per segment and UTC day (the last refresh of the day wins). */
export const segmentSizeSnapshots = pgTable('segment_size_snapshots', {
  segmentId: uuid('segment_id').notNull().references(() => segments.id, { onDelete: 'cascade' }),
  day: date('day').notNull(),
  size: integer('size').notNull(),
  takenAt: timestamp('taken_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ name: 'segment_size_snapshots_pk', columns: [t.segmentId, t.day] })]);

/** The outbox: tag and segment events, written in the transaction of the change (triggers, refresh statements). */
export const automationEvents = pgTable('automation_events', {
  /** Time-ordered (UUID v7, `c360_uuid_v7()`, migration 0017): bulk emits append to the index. */
  id: uuid('id').primaryKey().default(sql`c360_uuid_v7()`),
  seq: bigserial('seq', { mode: 'number' }).notNull(),
  xid: xid8('xid').notNull().default(sql`pg_current_xact_id()`),
  type: text('type').notNull(),
  customerId: uuid('customer_id').notNull(),
  payload: jsonb('payload').notNull(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  index('automation_events_xid_seq_idx').on(t.xid, t.seq),
  index('automation_events_occurred_idx').on(t.occurredAt),
  index('automation_events_customer_idx').on(t.customerId),
  check('automation_events_type_chk', sql`${t.type} IN ('TAG_ADDED','TAG_CHANGED','TAG_REMOVED','SEGMENT_ENTERED','SEGMENT_EXITED')`),
]);

/** Receivers of automation events. The secret signs deliveries (HMAC-SHA256), so it is stored as given. */
export const webhooks = pgTable('webhooks', {
  id: uuid('id').primaryKey().defaultRandom(),
  url: text('url').notNull(),
  description: text('description').notNull().default(''),
  secret: text('secret').notNull(),
  /** Empty = every type. */
  eventTypes: text('event_types').array().notNull().default(sql`'{}'`),
  active: boolean('active').notNull().default(true),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** One per event and webhook; the id is the Idempotency-Key of every attempt and replay. */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: uuid('id').primaryKey().defaultRandom(),
  webhookId: uuid('webhook_id').notNull().references(() => webhooks.id, { onDelete: 'cascade' }),
  eventId: uuid('event_id').notNull().references(() => automationEvents.id, { onDelete: 'cascade' }),
  status: text('status').notNull().default('PENDING'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
  lastStatusCode: integer('last_status_code'),
  lastError: text('last_error'),
  deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  unique('webhook_deliveries_event_webhook_key').on(t.webhookId, t.eventId),
  index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'PENDING'`),
  index('webhook_deliveries_webhook_idx').on(t.webhookId, t.createdAt, t.id),
  check('webhook_deliveries_status_chk', sql`${t.status} IN ('PENDING','DELIVERED','FAILED')`),
]);

/** Every HTTP attempt of a delivery (the delivery log). */
export const webhookDeliveryAttempts = pgTable('webhook_delivery_attempts', {
  id: uuid('id').primaryKey().defaultRandom(),
  deliveryId: uuid('delivery_id').notNull().references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
  attemptedAt: timestamp('attempted_at', { withTimezone: true }).notNull().defaultNow(),
  statusCode: integer('status_code'),
  error: text('error'),
  durationMs: integer('duration_ms').notNull(),
}, (t) => [index('webhook_delivery_attempts_delivery_idx').on(t.deliveryId, t.attemptedAt)]);
