import { sql } from 'drizzle-orm';
import {
  pgTable, uuid, text, timestamp, numeric, index, primaryKey, check,
} from 'drizzle-orm/pg-core';
import { customers } from './profile';

/** The fixed taxonomy teams think in: BASIC, BEHAVIOR, INTEREST, LIFECYCLE, VALUE, CUSTOM. */
export const tagCategories = pgTable('tag_categories', {
  key: text('key').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull(),
});

export const tagDefinitions = pgTable('tag_definitions', {
  id: uuid('id').primaryKey().defaultRandom(),
  key: text('key').notNull().unique(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  category: text('category').notNull().references(() => tagCategories.key),
  valueType: text('value_type').notNull().default('BOOLEAN'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  index('tag_definitions_category_idx').on(t.category),
  check('tag_definitions_value_type_chk', sql`${t.valueType} IN ('BOOLEAN','TEXT','NUMBER','ENUM')`),
]);

/** Current tag assignments (one value per customer and tag), with provenance and expiry. */
export const customerTags = pgTable('customer_tags', {
  customerId: uuid('customer_id').notNull().references(() => customers.id, { onDelete: 'cascade' }),
  tagId: uuid('tag_id').notNull().references(() => tagDefinitions.id),
  value: text('value'),
  source: text('source').notNull(),
  actor: text('actor'),
  confidence: numeric('confidence', { precision: 5, scale: 4 }),
  assignedAt: timestamp('assigned_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
}, (t) => [
  primaryKey({ columns: [t.customerId, t.tagId] }),
  index('customer_tags_tag_idx').on(t.tagId),
  check('customer_tags_source_chk', sql`${t.source} IN ('MANUAL','RULE','IMPORT','MODEL')`),
]);

/** Every add, change and removal of a tag: the history behind `Customer.timeline`. */
export const customerTagEvents = pgTable('customer_tag_events', {
  id: uuid('id').notNull().defaultRandom(),
  customerId: uuid('customer_id').notNull().references(() => customers.id, { onDelete: 'cascade' }),
  tagId: uuid('tag_id').notNull().references(() => tagDefinitions.id),
  action: text('action').notNull(),
  value: text('value'),
  previousValue: text('previous_value'),
  source: text('source').notNull(),
  actor: text('actor'),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  primaryKey({ columns: [t.customerId, t.id] }),
  index('customer_tag_events_customer_occurred_idx').on(t.customerId, t.occurredAt, t.id),
  check('customer_tag_events_action_chk', sql`${t.action} IN ('ADDED','CHANGED','REMOVED')`),
]);
