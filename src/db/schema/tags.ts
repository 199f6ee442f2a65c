import { sql } from 'drizzle-orm';
import {
  pgTable, uuid, text, timestamp, numeric, index, primaryKey, check, boolean, integer, jsonb, smallint, type AnyPgColumn,
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
  /** SINGLE: one value per customer; MULTIPLE: several values (one row each, keyed by value_key). */
  cardinality: text('cardinality').notNull().default('SINGLE'),
  /** Values an ENUM tag accepts. */
  allowedValues: text('allowed_values').array(),
  /** ISO 8601 duration after which assignments expire unless they say otherwise. */
  defaultTtl: text('default_ttl'),
  owner: text('owner'),
  status: text('status').notNull().default('ACTIVE'),
  /** Keys this tag had before a rename, and keys of tags merged into it: filters on them still resolve here. */
  formerKeys: text('former_keys').array().notNull().default(sql`'{}'::text[]`),
  mergedInto: uuid('merged_into').references((): AnyPgColumn => tagDefinitions.id),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  index('tag_definitions_category_idx').on(t.category),
  index('tag_definitions_former_keys_idx').using('gin', t.formerKeys),
  check('tag_definitions_value_type_chk', sql`${t.valueType} IN ('BOOLEAN','TEXT','NUMBER','ENUM')`),
  check('tag_definitions_cardinality_chk', sql`${t.cardinality} IN ('SINGLE','MULTIPLE')`),
  check('tag_definitions_status_chk', sql`${t.status} IN ('ACTIVE','DEPRECATED')`),
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
  /** '' for single-value tags; the value itself for MULTIPLE tags (one row per value). */
  valueKey: text('value_key').notNull().default(''),
  /** The rule (and its version) that assigned it, for source RULE. */
  ruleId: uuid('rule_id'),
  ruleVersion: integer('rule_version'),
}, (t) => [
  primaryKey({ columns: [t.customerId, t.tagId, t.valueKey] }),
  index('customer_tags_tag_idx').on(t.tagId),
  index('customer_tags_expires_at_idx').on(t.expiresAt).where(sql`${t.expiresAt} IS NOT NULL`),
  index('customer_tags_rule_idx').on(t.ruleId, t.customerId).where(sql`${t.ruleId} IS NOT NULL`),
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
  ruleId: uuid('rule_id'),
  ruleVersion: integer('rule_version'),
  confidence: numeric('confidence', { precision: 5, scale: 4 }),
  /** Why: MANUAL, BULK, RULE, MODEL, EXPIRED, MERGE, IMPORT, CONSENT_WITHDRAWN (objection to profiling). */
  reason: text('reason'),
}, (t) => [
  primaryKey({ columns: [t.customerId, t.id] }),
  index('customer_tag_events_customer_occurred_idx').on(t.customerId, t.occurredAt, t.id),
  check('customer_tag_events_action_chk', sql`${t.action} IN ('ADDED','CHANGED','REMOVED')`),
]);

/** A rule assigns `tag` to every customer matching `filter` (a stored CustomerFilter). */
export const tagRules = pgTable('tag_rules', {
  id: uuid('id').primaryKey().defaultRandom(),
  key: text('key').notNull().unique(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  tagId: uuid('tag_id').notNull().references(() => tagDefinitions.id),
  filter: jsonb('filter').notNull(),
  /** Constant value (null for BOOLEAN tags or when value_from is set). */
  value: text('value'),
  /** `{ metric, bands? }`: value derived from a metric. */
  valueFrom: jsonb('value_from'),
  confidence: numeric('confidence', { precision: 5, scale: 4 }),
  /** Tags the filter reads (for TagDefinition.usedBy). */
  referencedTagIds: uuid('referenced_tag_ids').array().notNull().default(sql`'{}'::uuid[]`),
  enabled: boolean('enabled').notNull().default(false),
  version: integer('version').notNull().default(1),
  createdBy: text('created_by'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  index('tag_rules_tag_idx').on(t.tagId),
  index('tag_rules_referenced_idx').using('gin', t.referencedTagIds),
]);

/** Every evaluation of a rule: counts, duration, version. */
export const tagRuleRuns = pgTable('tag_rule_runs', {
  id: uuid('id').primaryKey().defaultRandom(),
  ruleId: uuid('rule_id').notNull().references(() => tagRules.id, { onDelete: 'cascade' }),
  ruleVersion: integer('rule_version').notNull(),
  trigger: text('trigger').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
  /** The clock the rule was evaluated at (relative windows, expiry). */
  evaluatedAt: timestamp('evaluated_at', { withTimezone: true }).notNull(),
  durationMs: integer('duration_ms').notNull(),
  /** Customers the run was restricted to (incremental runs); null = everybody. */
  scopedCustomers: integer('scoped_customers'),
  added: integer('added').notNull(),
  changed: integer('changed').notNull(),
  removed: integer('removed').notNull(),
  kept: integer('kept').notNull(),
}, (t) => [
  index('tag_rule_runs_rule_started_idx').on(t.ruleId, t.startedAt),
  check('tag_rule_runs_trigger_chk', sql`${t.trigger} IN ('ENABLE','UPDATE','MANUAL','SCHEDULE','INCREMENTAL','DISABLE')`),
]);

/**
 * RFM scores of customers with a completed order in the RFM window (refreshed set-based). A refresh
 * writes only the rows that changed; the refresh time is `rfm_refresh.computed_at` (the days since the
 * last order are derived from it when read).
 */
export const customerRfm = pgTable('customer_rfm', {
  customerId: uuid('customer_id').primaryKey().references(() => customers.id, { onDelete: 'cascade' }),
  lastPurchaseAt: timestamp('last_purchase_at', { withTimezone: true }).notNull(),
  frequency: integer('frequency').notNull(),
  monetary: numeric('monetary', { precision: 18, scale: 4 }).notNull(),
  rScore: smallint('r_score').notNull(),
  fScore: smallint('f_score').notNull(),
  mScore: smallint('m_score').notNull(),
  segment: text('segment').notNull(),
}, (t) => [
  index('customer_rfm_segment_idx').on(t.segment, t.customerId),
  check('customer_rfm_segment_chk', sql`${t.segment} IN ('CHAMPIONS','LOYAL','POTENTIAL_LOYALIST','NEW','NEEDS_ATTENTION','AT_RISK','HIBERNATING','LOST')`),
]);

/** The last RFM refresh (one row): the time the scores in customer_rfm are as of. */
export const rfmRefresh = pgTable('rfm_refresh', {
  id: boolean('id').primaryKey().default(true),
  computedAt: timestamp('computed_at', { withTimezone: true }).notNull(),
}, () => [
  check('rfm_refresh_single_row_chk', sql`id`),
]);

/** Every change of customers.lifecycle_stage. */
export const customerLifecycleEvents = pgTable('customer_lifecycle_events', {
  id: uuid('id').notNull().defaultRandom(),
  customerId: uuid('customer_id').notNull().references(() => customers.id, { onDelete: 'cascade' }),
  fromStage: text('from_stage'),
  toStage: text('to_stage').notNull(),
  reason: text('reason').notNull(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
}, (t) => [
  primaryKey({ columns: [t.customerId, t.id] }),
  index('customer_lifecycle_events_customer_occurred_idx').on(t.customerId, t.occurredAt, t.id),
]);
