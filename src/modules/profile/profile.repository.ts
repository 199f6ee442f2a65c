import { and, or, sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { execRows, toDate, type Db } from '../../db/client';
import { consents, customerMetrics, customers } from '../../db/schema/index';
import { blindIndex, decryptOnRead, encryptField } from '../../lib/crypto';
import { tsKey, uuidIn } from '../../lib/sql';
import { cjkGrams, hasCjk } from '../../lib/normalize';
import type { ConsentRow, CustomerRow, IdentityRow } from './profile.mappers';

/** SQL of the profile domain. Arrays in, rows out; nothing here knows GraphQL or viewers. */

/**
 * The customer columns as a CustomerRow (camelCase). Hot reads use raw statements (prepared on
 * PostgreSQL, see execRows); the aliases keep them in step with the Drizzle table.
 */
const customerColumns = (c: string) => sql.raw(`${c}.id, ${c}.first_name AS "firstName", ${c}.last_name AS "lastName",
  ${c}.display_name AS "displayName", ${c}.email, ${c}.email_normalized AS "emailNormalized", ${c}.phone, ${c}.phone_e164 AS "phoneE164",
  ${c}.birth_date AS "birthDate", ${c}.birth_month::text AS "birthMonth", ${c}.national_id AS "nationalId", ${c}.gender, ${c}.address_line1 AS "addressLine1", ${c}.address_line2 AS "addressLine2",
  ${c}.city, ${c}.region, ${c}.postal_code AS "postalCode", ${c}.country, ${c}.lifecycle_stage AS "lifecycleStage",
  ${c}.created_at AS "createdAt", ${c}.updated_at AS "updatedAt"`);
/** A row scope (compiled CustomerFilter) renders "customers"."x": queries that apply one keep the table name. */
const scoped = (rowScope: SQL | undefined) => (rowScope ? sql` AND ${rowScope}` : sql``);

type RawCustomer = Omit<CustomerRow, 'createdAt' | 'updatedAt'> & { createdAt: unknown; updatedAt: unknown };
const mapCustomer = <T extends RawCustomer>(r: T): Omit<T, 'createdAt' | 'updatedAt'> & CustomerRow =>
  decryptCustomer({ ...r, createdAt: toDate(r.createdAt), updatedAt: toDate(r.updatedAt) });

// ---------------------------------------------------------------------------------------------
// Encrypted columns (src/lib/crypto.ts). Every read and write of a customer row passes through these
// two, so resolvers and services only ever see plaintext and the database only ever ciphertext.

type EncryptedCustomerFields = { birthDate?: string | null; nationalId?: string | null; birthMonth?: string | null; birthDateBidx?: string | null };

/** A row as stored -> the same row with birth date and national id in clear (decrypted when first read). */
export function decryptCustomer<T extends { birthDate: string | null; nationalId: string | null }>(row: T): T {
  if (row.birthDate === null && row.nationalId === null) return row;
  const out = { ...row };
  decryptOnRead(out, 'birthDate', 'customers.birth_date');
  return decryptOnRead(out, 'nationalId', 'customers.national_id');
}

/**
 * Fields about to be written -> encrypted, with the derived birth month and the birth date's blind
 * index (duplicate detection compares it, the ciphertext never compares equal) kept in step with it.
 */
export function encryptCustomerFields<T extends EncryptedCustomerFields>(fields: T): T {
  const out: T = { ...fields };
  if (fields.birthDate !== undefined) {
    out.birthDate = encryptField('customers.birth_date', fields.birthDate);
    out.birthMonth = birthMonthOf(fields.birthDate);
    out.birthDateBidx = blindIndex('customers.birth_date', fields.birthDate);
  }
  if (fields.nationalId !== undefined) out.nationalId = encryptField('customers.national_id', fields.nationalId);
  return out;
}

/** `1987-09-23` -> `1987-09-01`: the clear-text column age filters and age bands use. */
export const birthMonthOf = (birthDate: string | null): string | null => (birthDate ? `${birthDate.slice(0, 7)}-01` : null);

export async function customersByIds(db: Db, ids: readonly string[], rowScope?: SQL): Promise<CustomerRow[]> {
  if (ids.length === 0) return [];
  return mapCustomers(await execRows<RawCustomer>(db, customersByIdsQuery(ids, rowScope)));
}

export function customersByIdsQuery(ids: readonly string[], rowScope?: SQL): SQL {
  return sql`SELECT ${customerColumns('customers')} FROM customers
    WHERE ${uuidIn('customers.id', ids)}${scoped(rowScope)}`;
}

export type { RawCustomer };
export const mapCustomers = (rows: readonly RawCustomer[]): CustomerRow[] => rows.map(mapCustomer);

export interface ExternalKey { source: string; externalId: string }

export async function customersByExternalIds(
  db: Db,
  keys: readonly ExternalKey[],
  rowScope?: SQL,
): Promise<(CustomerRow & ExternalKey)[]> {
  if (keys.length === 0) return [];
  const rows = await execRows<RawCustomer & ExternalKey>(db, sql`
    SELECT ${customerColumns('customers')}, ci.source, ci.external_id AS "externalId"
    FROM customer_identities ci JOIN customers ON customers.id = ci.customer_id
    WHERE (ci.source, ci.external_id) IN (
      SELECT * FROM unnest(${sql.param(keys.map((k) => k.source))}::text[], ${sql.param(keys.map((k) => k.externalId))}::text[]))${scoped(rowScope)}`);
  return rows.map(mapCustomer);
}

export async function identitiesByCustomerIds(db: Db, ids: readonly string[]): Promise<IdentityRow[]> {
  if (ids.length === 0) return [];
  return execRows<IdentityRow>(db, identitiesByCustomerIdsQuery(ids));
}

/** Rows are already IdentityRow-shaped (text columns only), so the JSON form needs no mapping. */
export function identitiesByCustomerIdsQuery(ids: readonly string[]): SQL {
  return sql`
    SELECT customer_id AS "customerId", source, external_id AS "externalId" FROM customer_identities
    WHERE ${uuidIn('customer_id', ids)} ORDER BY customer_id, source, external_id`;
}

/** Current consent per purpose: the latest decision of each (customer, purpose). */
export async function currentConsentsByCustomerIds(db: Db, ids: readonly string[]): Promise<ConsentRow[]> {
  if (ids.length === 0) return [];
  const rows = await execRows<{ customer_id: string; purpose: string; status: string; source: string; recorded_at: unknown }>(db, sql`
    SELECT DISTINCT ON (customer_id, purpose) customer_id, purpose, status, source, recorded_at
    FROM ${consents}
    WHERE ${uuidIn('customer_id', ids)}
    ORDER BY customer_id, purpose, recorded_at DESC, created_at DESC`);
  return rows.map((r) => ({
    customerId: r.customer_id, purpose: r.purpose, status: r.status, source: r.source, recordedAt: toDate(r.recorded_at),
  }));
}

/** Every consent decision, newest first. */
export async function consentHistoryByCustomerIds(db: Db, ids: readonly string[]): Promise<ConsentRow[]> {
  if (ids.length === 0) return [];
  const rows = await execRows<{ customer_id: string; purpose: string; status: string; source: string; recorded_at: unknown }>(db, sql`
    SELECT customer_id, purpose, status, source, recorded_at FROM ${consents}
    WHERE ${uuidIn('customer_id', ids)} ORDER BY customer_id, recorded_at DESC, created_at DESC`);
  return rows.map((r) => ({ customerId: r.customer_id, purpose: r.purpose, status: r.status, source: r.source, recordedAt: toDate(r.recorded_at) }));
}

// ---------------------------------------------------------------------------------------------
// Customer lists: filter + keyset pagination.

export type CustomerSortKey = 'CREATED_AT' | 'NAME' | 'RELEVANCE' | 'TOTAL_SPENT' | 'ORDER_COUNT' | 'LAST_PURCHASE';
export interface CustomerSort { key: CustomerSortKey; direction: 'ASC' | 'DESC' }

interface SortColumn { order: SQL; key: SQL<string>; value: (v: string) => SQL }

/** Sort keys map to expressions here and only here: input never names a column. */
function sortColumn(key: CustomerSortKey, search: CustomerSearch | null): SortColumn {
  switch (key) {
    case 'CREATED_AT':
      return { order: sql`${customers.createdAt}`, key: tsKey(customers.createdAt), value: (v) => sql`${v}::timestamptz` };
    case 'NAME':
      return { order: sql`${customers.displayName}`, key: sql<string>`${customers.displayName}`, value: (v) => sql`${v}` };
    case 'TOTAL_SPENT':
      return { order: sql`${customerMetrics.totalSpent}`, key: sql<string>`${customerMetrics.totalSpent}::text`, value: (v) => sql`${v}::numeric` };
    case 'ORDER_COUNT':
      return { order: sql`${customerMetrics.orderCount}`, key: sql<string>`${customerMetrics.orderCount}::text`, value: (v) => sql`${v}::int` };
    case 'LAST_PURCHASE': {
      // Never bought sorts as the epoch (the expression index on customer_metrics matches this).
      const col = sql`coalesce(${customerMetrics.lastPurchaseAt}, 'epoch'::timestamptz)`;
      return { order: col, key: tsKey(col), value: (v) => sql`${v}::timestamptz` };
    }
    case 'RELEVANCE': {
      if (!search) throw new Error('RELEVANCE needs a search');
      // float8 text output round-trips exactly (extra_float_digits >= 1), so the cursor compares equal.
      return { order: search.score, key: sql<string>`(${search.score})::text`, value: (v) => sql`${v}::float8` };
    }
  }
}

const EMAIL_SIMILARITY = 0.6;
/**
 * Vocabulary words taken per typed word: at most this many, and only those nearly as close as the
 * closest one. A word typed right (it is in the vocabulary) then stands for itself and its near
 * spellings only, a misspelt one for its best corrections: every name reached this way is scored
 * (measured on 1,000,000 customers: eight words per typed word meant 5,400 names to score, 36 ms).
 */
const WORD_EXPANSIONS = 8;
const WORD_BAND = 0.3;

/**
 * pg_trgm's default thresholds of `%` (similarity) and `<%` (word similarity), which the search applies.
 * The word similarity of the typed text to a name is never below their similarity (the whole name is one
 * of the extents it maximizes over), so it is the score, and similarity is computed only for names
 * whose word similarity lies between the two thresholds.
 */
const NAME_SIMILARITY = 0.3;
const NAME_WORD_SIMILARITY = 0.6;

/**
 * Customers whose name is close to `term` (trigram similarity, or the term close to a part of the
 * name), with that closeness as their score, found through the word index of
 * drizzle/0020_search_words.sql: each typed word (of three letters or more; shorter ones only when
 * there is nothing else) is matched against the vocabulary of name words, and the customers whose name
 * contains one of the closest words (WORD_BAND) are scored from the index, which carries the name: no
 * customers row is read to score a candidate. When no candidate is close enough (a typo in every
 * word), the whole-name trigram index is searched instead (c360_fuzzy_name_fallback).
 */
function fuzzyNameRows(term: string): SQL {
  return sql`(WITH typed AS (
      SELECT t FROM unnest(c360_name_words(${term})) t
      WHERE length(t) >= 3 OR NOT EXISTS (SELECT 1 FROM unnest(c360_name_words(${term})) u WHERE length(u) >= 3)
    ), near AS (
      SELECT DISTINCT e.word FROM typed CROSS JOIN LATERAL (
        SELECT x.word FROM (
          SELECT v.word, similarity(v.word, typed.t) AS s, max(similarity(v.word, typed.t)) OVER () AS best
          FROM search_vocabulary v WHERE v.word % typed.t) x
        WHERE x.s >= x.best - ${WORD_BAND} ORDER BY x.s DESC, x.word LIMIT ${WORD_EXPANSIONS}) e
    ), scored AS MATERIALIZED (
      SELECT w.customer_id AS id, w.display_name AS name, word_similarity(${term}, w.display_name) AS ws
      FROM near JOIN customer_search_words w ON w.word = near.word
    ), hits AS (
      SELECT id, ws::float8 AS score FROM scored
      WHERE ws >= ${NAME_WORD_SIMILARITY} OR (ws >= ${NAME_SIMILARITY} AND similarity(name, ${term}) >= ${NAME_SIMILARITY})
    )
    SELECT id, score FROM hits
    UNION ALL
    SELECT f.id, f.score FROM c360_fuzzy_name_fallback(${term}) f WHERE NOT EXISTS (SELECT 1 FROM hits))`;
}

const isAllCjk = (term: string): boolean => hasCjk(term) && !/[\p{L}\p{N}]/u.test(term.replace(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu, ''));

/**
 * Customers whose name holds every CJK bigram of `term` (`张伟` in `张伟`, `建国` in `高建国`, `建国 高`
 * too), from the n-grams of drizzle/0024_cjk_names.sql: one lookup per gram on the primary key of
 * customer_search_words, which carries the name (an index-only scan). Scored between the fuzzy matches
 * (at most 1) and the exact ones (2): higher the more of the name the typed letters cover.
 */
function cjkNameRows(term: string, grams: string[]): SQL {
  const typed = term.toLowerCase().replace(/\s+/g, '');
  return sql`(SELECT w.customer_id AS id,
      (1 + 0.5 * length(${typed})::float8 / greatest(length(replace(lower(w.display_name), ' ', '')), 1))::float8 AS score
    FROM customer_search_words w WHERE w.word = ANY(${sql.param(grams)}::text[])
    GROUP BY w.customer_id, w.display_name HAVING count(*) = ${grams.length})`;
}

/**
 * A keyword search: the matching customers, (id, score) once per customer (`matches`, joined on
 * customers.id as `customer_search` by joinMatches), and the score's column for ordering (`score`).
 */
export interface CustomerSearch { matches: SQL; score: SQL }

/** `matches` (a search's, or a ranked cut of them) joined to customers as `customer_search`. */
const joinMatches = (matches: SQL): SQL => sql`JOIN (${matches}) customer_search ON customer_search.id = ${customers.id}`;

/** The count of a list: the customers the filter keeps, among the search's matches if there is one. */
const countQuery = (where: SQL | undefined, search: CustomerSearch | null | undefined): SQL =>
  sql`SELECT count(*)::int FROM ${customers} ${search ? joinMatches(search.matches) : sql``} ${where ? sql`WHERE ${where}` : sql``}`;

/**
 * Search by whatever the caller typed: exact normalized email, exact E.164 phone, exact external id,
 * or fuzzy name/email (pg_trgm). Each branch is an index lookup that yields (id, score); a customer
 * found by several keeps the best. Exact hits score 2, fuzzy ones their trigram similarity (0..1).
 */
export function customerSearch(term: string, email: string | null, phones: readonly string[]): CustomerSearch {
  const branches: SQL[] = [sql`SELECT customer_id AS id, 2::float8 AS score FROM customer_identities WHERE external_id = ${term}`];
  if (email) branches.push(sql`SELECT id, 2::float8 FROM customers WHERE email_normalized = ${email}`);
  for (const p of phones) branches.push(sql`SELECT id, 2::float8 FROM customers WHERE phone_e164 = ${p}`);
  const phone = phones.length > 0;
  // A phone is matched exactly only; text with an @ also fuzzily against emails (typos); other text against names.
  // CJK names have no spaces between family and given name: looked up by character bigrams instead of words.
  const grams = !email && !phone ? cjkGrams(term) : [];
  if (grams.length) branches.push(cjkNameRows(term, grams));
  const fuzzyNames = term.length >= 3 && !email && !phone && !isAllCjk(term);
  const fuzzyEmails = term.length >= 3 && !phone && term.includes('@');
  const lower = term.toLowerCase();
  if (fuzzyNames) branches.push(fuzzyNameRows(term));
  // Emails share their domains; a fuzzy email hit must be close overall, not just same-domain.
  if (fuzzyEmails) {
    branches.push(sql`SELECT id, similarity(email_normalized, ${lower})::float8 FROM customers
      WHERE email_normalized % ${lower} AND similarity(email_normalized, ${lower}) >= ${EMAIL_SIMILARITY}`);
  }
  return {
    matches: sql`SELECT m.id, max(m.score) AS score FROM (${sql.join(branches, sql` UNION ALL `)}) m GROUP BY m.id`,
    score: sql`customer_search.score`,
  };
}

export interface CustomerListQuery {
  where: SQL | undefined;
  search: CustomerSearch | null;
  sort: readonly CustomerSort[];
  /** Sort-key values and id of the last row of the previous page. */
  after: { values: string[]; id: string } | null;
  limit: number;
  withTotalCount: boolean;
}

export interface CustomerListRow { row: CustomerRow; sortValues: string[]; totalCount: number | null }

/**
 * One statement: the page (limit + 1 rows to know whether more follow) and, when asked, the total
 * count of the filter as an uncorrelated scalar subquery (evaluated once).
 */
export async function listCustomers(db: Db, q: CustomerListQuery): Promise<CustomerListRow[]> {
  const cols = q.sort.map((s) => ({ ...sortColumn(s.key, q.search), direction: s.direction }));
  const where = q.where;
  let searchJoin = q.search ? joinMatches(q.search.matches) : sql``;
  let keysetCond = q.after ? keysetCondition(cols, q.after, sql`${customers.id}`) : undefined;
  // A plain search by relevance (no filter, no row scope): the page is the best matches, so they are
  // ranked and cut (cursor included) before any customers row is read. Joined first, every match's
  // row was fetched to be sorted: 350 random heap reads (30 ms) for a common name on 1M customers.
  // Every match is a customer (the word index and identities follow customers in the same
  // transaction), so the join keeps all of the page's rows.
  if (q.search && !where && q.sort.length === 1 && q.sort[0]?.key === 'RELEVANCE') {
    const dir = q.sort[0].direction === 'ASC' ? sql`ASC` : sql`DESC`;
    const cut = q.after ? keysetCondition(cols, q.after, sql`customer_search.id`) : undefined;
    searchJoin = joinMatches(sql`SELECT customer_search.id, customer_search.score FROM (${q.search.matches}) customer_search
      ${cut ? sql`WHERE ${cut}` : sql``} ORDER BY customer_search.score ${dir}, customer_search.id ${dir} LIMIT ${q.limit}`);
    keysetCond = undefined;
  }
  const pageWhere = and(where, keysetCond);
  // Every customer has a metrics row (trigger), so the inner join keeps all of them.
  const needsMetrics = q.sort.some((s) => s.key === 'TOTAL_SPENT' || s.key === 'ORDER_COUNT' || s.key === 'LAST_PURCHASE');
  // Filters render columns as "customers"."x", so the table keeps its own name here.
  const rows = await execRows<RawCustomer & Record<string, unknown>>(db, sql`
    SELECT ${customerColumns('customers')}
      ${sql.join(cols.map((c, i) => sql`, ${c.key} AS ${sql.raw(`"sort${i}"`)}`), sql``)}
      ${q.withTotalCount ? sql`, (${countQuery(where, q.search)}) AS "totalCount"` : sql``}
    FROM ${customers}
    ${searchJoin}
    ${needsMetrics ? sql`JOIN ${customerMetrics} ON ${customerMetrics.customerId} = ${customers.id}` : sql``}
    ${pageWhere ? sql`WHERE ${pageWhere}` : sql``}
    ORDER BY ${sql.join([
      ...cols.map((c) => (c.direction === 'ASC' ? sql`${c.order} ASC` : sql`${c.order} DESC`)),
      cols[0]?.direction === 'ASC' ? sql`${customers.id} ASC` : sql`${customers.id} DESC`,
    ], sql`, `)}
    LIMIT ${q.limit}`);
  return rows.map((r) => {
    const sortValues = cols.map((_, i) => String(r[`sort${i}`]));
    const totalCount = r.totalCount === undefined ? null : Number(r.totalCount);
    const row: Record<string, unknown> = { ...r };
    for (let i = 0; i < cols.length; i++) delete row[`sort${i}`];
    delete row.totalCount;
    return { row: mapCustomer(row as RawCustomer), sortValues, totalCount };
  });
}

/** Planner estimate of evaluating a filter over all customers (EXPLAIN, nothing is executed). */
export async function explainFilter(db: Db, where: SQL | undefined): Promise<{ cost: number; rows: number; sql: string }> {
  const query = sql`SELECT ${customers.id} FROM ${customers} ${where ? sql`WHERE ${where}` : sql``}`;
  const rows = await execRows<Record<string, unknown>>(db, sql`EXPLAIN (FORMAT JSON) ${query}`);
  const raw = rows[0] ? Object.values(rows[0])[0] : undefined;
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: { 'Total Cost': number; 'Plan Rows': number } }[];
  const top = plan[0]?.Plan;
  return { cost: top?.['Total Cost'] ?? 0, rows: top?.['Plan Rows'] ?? 0, sql: new PgDialect().sqlToQuery(query).sql };
}

export async function countCustomers(db: Db, where: SQL | undefined, search?: CustomerSearch | null): Promise<number> {
  const [r] = await execRows<{ count: number }>(db, countQuery(where, search));
  return Number(r?.count ?? 0);
}

/**
 * Rows strictly after the cursor in the given order: (k1 > v1) OR (k1 = v1 AND k2 > v2) ... with the
 * id as final tie-breaker (same direction as the first key, as in ORDER BY).
 */
function keysetCondition(cols: readonly (SortColumn & { direction: 'ASC' | 'DESC' })[], after: { values: string[]; id: string }, idColumn: SQL): SQL {
  const terms: { col: SQL; val: SQL; dir: 'ASC' | 'DESC' }[] = cols.map((c, i) => ({
    col: c.order, val: c.value(after.values[i] ?? ''), dir: c.direction,
  }));
  terms.push({ col: idColumn, val: sql`${after.id}::uuid`, dir: cols[0]?.direction ?? 'DESC' });
  const ors: SQL[] = [];
  for (let i = 0; i < terms.length; i++) {
    const eqs = terms.slice(0, i).map((t) => sql`${t.col} = ${t.val}`);
    const t = terms[i]!;
    const cmp = t.dir === 'ASC' ? sql`${t.col} > ${t.val}` : sql`${t.col} < ${t.val}`;
    ors.push(and(...eqs, cmp)!);
  }
  return sql`(${or(...ors)!})`;
}
