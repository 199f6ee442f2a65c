import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * API keys for partners and service accounts. Only a SHA-256 of the secret is stored (the secret is
 * 32 random bytes, so a fast hash is enough); `prefix` finds the row. Not customer data: a reference
 * table when distributed.
 */
export const apiKeys = pgTable('api_keys', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  prefix: text('prefix').notNull().unique(),
  secretHash: text('secret_hash').notNull(),
  /** PARTNER, or the role a service account acts as (ANALYST, ...). */
  role: text('role').notNull(),
  scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
  /** `Type.field` names a PARTNER may read among the personal-data fields. */
  fieldAllowList: text('field_allow_list').array().notNull().default(sql`'{}'::text[]`),
  /** Consent purpose every visible customer must have GRANTED (row scope). */
  purpose: text('purpose'),
  /** Only customers in these countries (row scope); null = no restriction. */
  countries: text('countries').array(),
  /** Only members of at least one of these segments (row scope; archived segments have none); null = no restriction. */
  segmentIds: uuid('segment_ids').array(),
  rateLimitPerMinute: integer('rate_limit_per_minute'),
  /** Requests the key may make at once; null = min(its rate, RATE_LIMIT_BURST). */
  rateLimitBurst: integer('rate_limit_burst'),
  maxCost: integer('max_cost'),
  persistedOnly: boolean('persisted_only').notNull().default(false),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  check('api_keys_role_chk', sql`${t.role} IN ('PARTNER','ADMIN','AGENT','MARKETER','ANALYST')`),
  check('api_keys_partner_purpose_chk', sql`${t.role} <> 'PARTNER' OR ${t.purpose} IS NOT NULL`),
  check('api_keys_segment_ids_chk', sql`${t.segmentIds} IS NULL OR cardinality(${t.segmentIds}) > 0`),
]);

/**
 * Right-to-erasure log. The customer row stays as an anonymous tombstone (its random uuid keeps
 * anonymized transactions countable); `blockedHashes` are keyed HMACs of the erased identities
 * (source ids, email, phone) so a later import cannot silently re-create the person.
 */
export const erasures = pgTable('erasures', {
  id: uuid('id').primaryKey().defaultRandom(),
  customerId: uuid('customer_id').notNull(),
  blockedHashes: text('blocked_hashes').array().notNull(),
  reason: text('reason').notNull(),
  erasedBy: text('erased_by').notNull(),
  erasedAt: timestamp('erased_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  index('erasures_customer_idx').on(t.customerId),
  index('erasures_blocked_hashes_idx').using('gin', t.blockedHashes),
]);

/**
 * Who read or changed personal data: one row per (request, customer) for reads of @pii fields, and
 * one per write or admin operation. Written in batches off the request path (src/auth/audit.ts).
 */
export const auditLog = pgTable('audit_log', {
  id: uuid('id').primaryKey().defaultRandom(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  actorKind: text('actor_kind').notNull(),
  actorId: text('actor_id').notNull(),
  role: text('role').notNull(),
  action: text('action').notNull(),
  customerId: uuid('customer_id'),
  fields: text('fields').array().notNull(),
  operationName: text('operation_name'),
  requestId: text('request_id').notNull(),
}, (t) => [
  index('audit_log_customer_occurred_idx').on(t.customerId, t.occurredAt),
  index('audit_log_occurred_idx').on(t.occurredAt),
  check('audit_log_action_chk', sql`${t.action} IN ('READ','WRITE','ADMIN')`),
]);
