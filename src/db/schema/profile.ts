import { sql } from 'drizzle-orm';
import {
  pgTable, uuid, text, date, timestamp, char, index, uniqueIndex, primaryKey, check,
} from 'drizzle-orm/pg-core';

/** Golden customer record. Every other customer table is co-keyed by `customer_id` (Citus-ready). */
export const customers = pgTable('customers', {
  id: uuid('id').primaryKey().defaultRandom(),
  firstName: text('first_name'),
  lastName: text('last_name'),
  // Never null: derived from the name or the email at write time so it can be a sort key.
  displayName: text('display_name').notNull(),
  email: text('email'),
  emailNormalized: text('email_normalized'),
  phone: text('phone'),
  phoneE164: text('phone_e164'),
  // Encrypted (src/lib/crypto.ts): `v1:<kid>:...`; repositories hand out the plaintext YYYY-MM-DD.
  birthDate: text('birth_date'),
  /**
   * The birth date truncated to its month, in clear, for age filters and age-band aggregates (SQL
   * cannot read the encrypted date). The month, not the day: the full date is the quasi-identifier
   * (with postal code and gender it singles most people out), a year-month is ~30 times coarser,
   * while ages computed from it are exact except during the birth month itself. The year alone would
   * be off by one for about half of all customers at any time and break the documented age filter.
   */
  birthMonth: date('birth_month', { mode: 'string' }),
  /**
   * Blind index of the birth date (src/lib/crypto.ts blindIndex): a keyed HMAC of the clear
   * YYYY-MM-DD, so duplicate detection can match equal birth dates without decrypting them. Written
   * with every birth date; filled for older rows by the start-up pass (drizzle/0018_ingest_speed.sql).
   */
  birthDateBidx: text('birth_date_bidx'),
  /** National / tax id, encrypted; DENY by default (ADMIN reads it, AGENT sees the last 4). */
  nationalId: text('national_id'),
  gender: text('gender'),
  addressLine1: text('address_line1'),
  addressLine2: text('address_line2'),
  city: text('city'),
  region: text('region'),
  postalCode: text('postal_code'),
  country: char('country', { length: 2 }),
  lifecycleStage: text('lifecycle_stage').notNull().default('PROSPECT'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  index('customers_email_normalized_idx').on(t.emailNormalized),
  index('customers_phone_e164_idx').on(t.phoneE164),
  index('customers_created_at_id_idx').on(t.createdAt, t.id),
  index('customers_display_name_id_idx').on(t.displayName, t.id),
  index('customers_country_idx').on(t.country),
  index('customers_lifecycle_stage_idx').on(t.lifecycleStage),
  index('customers_birth_month_idx').on(t.birthMonth),
  index('customers_birth_date_bidx_idx').on(t.birthDateBidx),
  // Fuzzy and "contains" name/email search (pg_trgm, created in the extensions migration).
  index('customers_display_name_trgm_idx').using('gin', sql`${t.displayName} gin_trgm_ops`),
  index('customers_email_trgm_idx').using('gin', sql`${t.emailNormalized} gin_trgm_ops`),
  check('customers_birth_month_chk', sql`${t.birthMonth} = date_trunc('month', ${t.birthMonth})::date`),
  check('customers_gender_chk', sql`${t.gender} IN ('FEMALE','MALE','NON_BINARY','UNKNOWN')`),
  check('customers_lifecycle_chk', sql`${t.lifecycleStage} IN ('PROSPECT','NEW','ACTIVE','AT_RISK','CHURNED','REACTIVATED')`),
]);

/** Identifiers of the customer in source systems (CRM, shop, POS, helpdesk). */
export const customerIdentities = pgTable('customer_identities', {
  customerId: uuid('customer_id').notNull().references(() => customers.id, { onDelete: 'cascade' }),
  source: text('source').notNull(),
  externalId: text('external_id').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  primaryKey({ columns: [t.customerId, t.source, t.externalId] }),
  uniqueIndex('customer_identities_source_external_id_uq').on(t.source, t.externalId),
  // Keyword search matches an external id from any source.
  index('customer_identities_external_id_idx').on(t.externalId),
]);

/** Append-only consent history; the current status of a purpose is its latest row. */
export const consents = pgTable('consents', {
  id: uuid('id').notNull().defaultRandom(),
  customerId: uuid('customer_id').notNull().references(() => customers.id, { onDelete: 'cascade' }),
  purpose: text('purpose').notNull(),
  status: text('status').notNull(),
  source: text('source').notNull(),
  recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  primaryKey({ columns: [t.customerId, t.id] }),
  index('consents_customer_purpose_recorded_idx').on(t.customerId, t.purpose, t.recordedAt),
  check('consents_status_chk', sql`${t.status} IN ('GRANTED','DENIED','WITHDRAWN')`),
]);

/**
 * Word index of display names for fuzzy search (drizzle/0020_search_words.sql): one row per distinct
 * word of each customer's name, carrying the name (the primary key INCLUDEs it, so a search reads no
 * customers row to score a candidate). Maintained by triggers on `customers`; never written by the app.
 */
export const customerSearchWords = pgTable('customer_search_words', {
  word: text('word').notNull(),
  customerId: uuid('customer_id').notNull().references(() => customers.id, { onDelete: 'cascade' }),
  displayName: text('display_name').notNull(),
}, (t) => [
  primaryKey({ name: 'customer_search_words_pk', columns: [t.word, t.customerId] }),
  index('customer_search_words_customer_idx').on(t.customerId),
]);

/** The distinct words of all display names (trigram-indexed): a typed word is matched against these first. */
export const searchVocabulary = pgTable('search_vocabulary', {
  word: text('word').primaryKey(),
}, (t) => [index('search_vocabulary_trgm_idx').using('gin', sql`${t.word} gin_trgm_ops`)]);
