import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { customers } from './profile';

/** One run of `npm run import`: what was read, stored and rejected (drizzle/0011_ingest.sql). */
export const importRuns = pgTable('import_runs', {
  id: uuid('id').primaryKey().defaultRandom(),
  entity: text('entity').notNull(),
  source: text('source').notNull(),
  fileName: text('file_name').notNull(),
  status: text('status').notNull().default('RUNNING'),
  rowsRead: integer('rows_read').notNull().default(0),
  stored: integer('stored').notNull().default(0),
  rejected: integer('rejected').notNull().default(0),
  batches: integer('batches').notNull().default(0),
  summary: jsonb('summary'),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
  /** Where the run's process is (host name, pid) and when it last said it is alive: a RUNNING run whose process is gone is INTERRUPTED. */
  host: text('host'),
  pid: integer('pid'),
  heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }),
}, (t) => [
  index('import_runs_started_idx').on(t.startedAt),
  check('import_runs_status_chk', sql`${t.status} IN ('RUNNING','COMPLETED','FAILED','DRY_RUN','INTERRUPTED')`),
]);

/** Per-field provenance of the golden record: which source won the field, when, and by which survivorship rule. */
export const customerFieldSources = pgTable('customer_field_sources', {
  customerId: uuid('customer_id').notNull().references(() => customers.id, { onDelete: 'cascade' }),
  field: text('field').notNull(),
  source: text('source').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  rule: text('rule').notNull(),
}, (t) => [
  primaryKey({ name: 'customer_field_sources_pk', columns: [t.customerId, t.field] }),
  check('customer_field_sources_rule_chk', sql`${t.rule} IN ('FIRST_VALUE','SOURCE_PRIORITY','MOST_RECENT','MOST_COMPLETE','MERGE')`),
]);

/**
 * The last version of each source record (cleaned fields) that fed a golden record. A record that
 * comes again unchanged is skipped, so re-running a file changes nothing even where several source
 * records disagree on a field; survivorship runs only on news.
 */
export const customerSourceRecords = pgTable('customer_source_records', {
  customerId: uuid('customer_id').notNull().references(() => customers.id, { onDelete: 'cascade' }),
  source: text('source').notNull(),
  externalId: text('external_id').notNull(),
  fields: jsonb('fields').notNull(),
  sourceUpdatedAt: timestamp('source_updated_at', { withTimezone: true }),
  importedAt: timestamp('imported_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  primaryKey({ name: 'customer_source_records_pk', columns: [t.customerId, t.source, t.externalId] }),
  uniqueIndex('customer_source_records_source_external_id_uq').on(t.source, t.externalId),
]);

/**
 * A merge of customers into a survivor, with a snapshot of every row of every customer-keyed table of
 * the customers involved as it was before (what `unmergeCustomers` restores). An erasure of any of
 * them deletes the merge (trigger on `erasures`).
 */
export const customerMerges = pgTable('customer_merges', {
  id: uuid('id').primaryKey().defaultRandom(),
  survivorId: uuid('survivor_id').notNull(),
  mergedIds: uuid('merged_ids').array().notNull(),
  snapshot: jsonb('snapshot').notNull(),
  mergedBy: text('merged_by').notNull(),
  mergedAt: timestamp('merged_at', { withTimezone: true }).notNull().defaultNow(),
  unmergedBy: text('unmerged_by'),
  unmergedAt: timestamp('unmerged_at', { withTimezone: true }),
}, (t) => [
  index('customer_merges_survivor_idx').on(t.survivorId),
  index('customer_merges_merged_ids_idx').using('gin', t.mergedIds),
]);
