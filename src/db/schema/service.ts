import { sql } from 'drizzle-orm';
import { pgTable, uuid, text, timestamp, index, uniqueIndex, primaryKey, check } from 'drizzle-orm/pg-core';
import { customers } from './profile';

/** Service interactions: tickets, calls, chats, emails, store visits, feedback. */
export const interactions = pgTable('interactions', {
  id: uuid('id').notNull().defaultRandom(),
  customerId: uuid('customer_id').notNull().references(() => customers.id, { onDelete: 'cascade' }),
  source: text('source').notNull(),
  externalId: text('external_id').notNull(),
  channel: text('channel').notNull(),
  type: text('type').notNull(),
  direction: text('direction').notNull().default('INBOUND'),
  subject: text('subject'),
  summary: text('summary'),
  sentiment: text('sentiment'),
  status: text('status').notNull().default('OPEN'),
  agent: text('agent'),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  primaryKey({ columns: [t.customerId, t.id] }),
  index('interactions_id_idx').on(t.id),
  uniqueIndex('interactions_source_external_id_uq').on(t.source, t.externalId),
  index('interactions_customer_occurred_idx').on(t.customerId, t.occurredAt, t.id),
  index('interactions_customer_channel_occurred_idx').on(t.customerId, t.channel, t.occurredAt, t.id),
  // 0014 (hand-written) adds INCLUDE columns to the customer/time indexes for index-only filter checks.
  index('interactions_type_occurred_idx').on(t.type, t.occurredAt),
  check('interactions_channel_chk', sql`${t.channel} IN ('EMAIL','PHONE','CHAT','SOCIAL','STORE','WEB','APP')`),
  check('interactions_type_chk', sql`${t.type} IN ('TICKET','CALL','MESSAGE','VISIT','FEEDBACK','COMPLAINT')`),
  check('interactions_direction_chk', sql`${t.direction} IN ('INBOUND','OUTBOUND')`),
  check('interactions_sentiment_chk', sql`${t.sentiment} IS NULL OR ${t.sentiment} IN ('POSITIVE','NEUTRAL','NEGATIVE')`),
  check('interactions_status_chk', sql`${t.status} IN ('OPEN','PENDING','RESOLVED','CLOSED')`),
]);
