import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { Config } from '../../config';
import type { Db, Executor } from '../../db/client';
import { consents, customerIdentities, customers } from '../../db/schema/index';
import { badUserInput, queryTooComplex, userError, type UserError } from '../../errors';
import { tryGlobalId } from '../../lib/global-id';
import {
  cleanText, deriveDisplayName, normalizeCountry, normalizeEmail, normalizePhoneIn, phoneRegions,
} from '../../lib/normalize';
import { cursorScope, cursorSealer, isTimestampKey, openCursor, pageSize, toConnection, type Connection } from '../../lib/pagination';
import type { CustomerFilter, CustomerMatchRule, CustomerOrder, UpsertCustomerInput, CustomerRefInput, RecordConsentInput } from '../../__generated__/resolvers-types';
import { compileCustomerFilter, isBehavioural } from './customer-filter';
import { resolvePrivacyHashKey } from '../../auth/privacy';
import { identityHashes, isErased } from '../admin';
import { CUSTOMER_FIELDS } from '../ingest';
import { fieldSourceRows, upsertFieldSources } from '../ingest';
import { Blocklist } from '../ingest';
import type { CustomerRow } from './profile.mappers';
import * as repo from './profile.repository';

// ---------------------------------------------------------------------------------------------
// Reads

const ORDERS: Record<CustomerOrder, repo.CustomerSort> = {
  CREATED_AT_DESC: { key: 'CREATED_AT', direction: 'DESC' },
  CREATED_AT_ASC: { key: 'CREATED_AT', direction: 'ASC' },
  NAME_ASC: { key: 'NAME', direction: 'ASC' },
  NAME_DESC: { key: 'NAME', direction: 'DESC' },
  RELEVANCE: { key: 'RELEVANCE', direction: 'DESC' },
  TOTAL_SPENT_DESC: { key: 'TOTAL_SPENT', direction: 'DESC' },
  TOTAL_SPENT_ASC: { key: 'TOTAL_SPENT', direction: 'ASC' },
  ORDER_COUNT_DESC: { key: 'ORDER_COUNT', direction: 'DESC' },
  ORDER_COUNT_ASC: { key: 'ORDER_COUNT', direction: 'ASC' },
  LAST_PURCHASE_DESC: { key: 'LAST_PURCHASE', direction: 'DESC' },
  LAST_PURCHASE_ASC: { key: 'LAST_PURCHASE', direction: 'ASC' },
};

export interface ListCustomersArgs {
  filter?: CustomerFilter | null;
  search?: string | null;
  orderBy?: readonly CustomerOrder[] | null;
  first?: number | null;
  after?: string | null;
  /** Only compute `totalCount` when the query selects it. */
  withTotalCount: boolean;
  /**
   * The query selects edges or pageInfo (default true). A query for `totalCount` alone runs only the
   * count: no page is read, sorted or returned.
   */
  withRows?: boolean;
  /** The viewer's row scope (API keys): customers outside it do not exist for this request. */
  rowScope?: SQL | undefined;
  /** The connection the cursors belong to (default `customers`; `Segment.members` of a segment). */
  connection?: { field: string; parent: string | null };
}

const MAX_SEARCH = 200;

export async function listCustomers(db: Db, config: Pick<Config, 'defaultPhoneRegion' | 'filterCostLimit'>, args: ListCustomersArgs): Promise<Connection<CustomerRow>> {
  const first = pageSize(args.first);
  const term = args.search?.trim().replace(/\s+/g, ' ') || null;
  if (term && term.length > MAX_SEARCH) throw badUserInput(`search must be at most ${MAX_SEARCH} characters`, 'search');
  const requested = args.orderBy?.length ? args.orderBy : [term ? 'RELEVANCE' : 'CREATED_AT_DESC'] as CustomerOrder[];
  if (!term && requested.includes('RELEVANCE')) throw badUserInput('orderBy RELEVANCE needs a search', 'orderBy');
  // Keep the first occurrence of each key: [NAME_ASC, NAME_DESC] would make the second one meaningless.
  const orderBy = requested.filter((o, i) => requested.findIndex((p) => ORDERS[p].key === ORDERS[o].key) === i);
  const sort = orderBy.map((o) => ORDERS[o]);
  // A cursor holds the sort values of its row, so it is valid only for the same ordering, search and
  // filter (and list): anything else would start the page at a meaningless position.
  const scope = cursorScope(args.connection?.field ?? 'customers', args.connection?.parent ?? null, { orderBy, search: term, filter: args.filter ?? null });
  let after: { values: string[]; id: string } | null = null;
  if (args.after) {
    const values = openCursor(args.after, scope, sort.length + 1);
    const id = values.pop();
    if (typeof id !== 'string' || !values.every((v) => typeof v === 'string') || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)
      || !sort.every((s, i) => validSortValue(s.key, values[i] as string))) {
      throw badUserInput('after is not a valid cursor for this list', 'after');
    }
    after = { values: values as string[], id };
  }
  const filterWhere = compileCustomerFilter(args.filter, config);
  if (isBehavioural(args.filter)) await assertAffordable(db, config, filterWhere);
  const where = and(filterWhere, args.rowScope);
  const search = term ? repo.customerSearch(term, normalizeEmail(term), looksLikePhone(term) ? searchPhones(term, args.filter, config.defaultPhoneRegion) : []) : null;
  if (args.withRows === false && args.withTotalCount) {
    return toConnection<CustomerRow>([], first, args.after, () => '', await repo.countCustomers(db, where, search));
  }
  const rows = await repo.listCustomers(db, { where, search, sort, after, limit: first + 1, withTotalCount: args.withTotalCount });
  let totalCount = rows[0]?.totalCount ?? null;
  if (args.withTotalCount && totalCount === null) totalCount = await repo.countCustomers(db, where, search);
  const cursors = new Map(rows.map((r) => [r.row, [...r.sortValues, r.row.id]]));
  const seal = cursorSealer(scope);
  return toConnection(rows.map((r) => r.row), first, args.after, (row) => seal(cursors.get(row)!), totalCount ?? 0);
}

export interface FilterExplanation { estimatedCost: number; estimatedRows: number; budget: number; withinBudget: boolean; sql: string }

/** What a filter would cost, for UIs that build filters: the planner's estimate and the SQL shape (placeholders only). */
export async function explainCustomerFilter(db: Db, config: Pick<Config, 'defaultPhoneRegion' | 'filterCostLimit'>, filter: CustomerFilter | null | undefined, rowScope?: SQL): Promise<FilterExplanation> {
  const e = await repo.explainFilter(db, and(compileCustomerFilter(filter, config), rowScope));
  return { estimatedCost: e.cost, estimatedRows: Math.round(e.rows), budget: config.filterCostLimit, withinBudget: e.cost <= config.filterCostLimit, sql: e.sql };
}

/**
 * Behavioural filters (subqueries over transactions, interactions, tags, consents) are checked with
 * EXPLAIN before they run; plain profile filters use indexes and skip the extra round trip.
 */
async function assertAffordable(db: Db, config: Pick<Config, 'filterCostLimit'>, where: SQL | undefined): Promise<void> {
  const { cost } = await repo.explainFilter(db, where);
  if (cost > config.filterCostLimit) {
    throw queryTooComplex(`This filter is estimated to cost ${Math.round(cost)} (budget ${config.filterCostLimit}); narrow it (e.g. a time window or a profile condition)`);
  }
}

/** Cursor values go back into SQL casts: reject what the cast would choke on (tampered cursors). */
function validSortValue(key: repo.CustomerSortKey, v: string): boolean {
  switch (key) {
    case 'CREATED_AT':
    case 'LAST_PURCHASE': return isTimestampKey(v);
    case 'TOTAL_SPENT': return /^-?\d{1,14}(\.\d{1,4})?$/.test(v);
    case 'ORDER_COUNT': return /^\d{1,9}$/.test(v);
    case 'RELEVANCE': return /^-?\d+(\.\d+)?(e-?\d+)?$/.test(v);
    case 'NAME': return v.length <= 1000;
  }
}

/**
 * The E.164 numbers a typed phone can be: a national number is read in the country the filter names
 * (`country`, or each of `countries`), else in DEFAULT_PHONE_REGION; an international one is itself.
 */
function searchPhones(term: string, filter: CustomerFilter | null | undefined, defaultRegion: string): string[] {
  const named = [filter?.country, ...(filter?.countries ?? [])].map((c) => (c ? normalizeCountry(c) : null)).filter((c): c is string => c !== null);
  const regions = named.length ? [...new Set(named)].slice(0, 20) : [defaultRegion];
  return [...new Set(regions.map((r) => normalizePhoneIn(term, phoneRegions(r, defaultRegion))).filter((p): p is string => p !== null))];
}

/** Phone parsing only for digit-heavy terms: "Ada 2" is a name, "+44 20 7946 0958" a phone. */
const looksLikePhone = (t: string): boolean => /^[+()\d\s.\-/]{6,}$/.test(t) && (t.match(/\d/g)?.length ?? 0) >= 6;

// ---------------------------------------------------------------------------------------------
// Writes

export interface UpsertCustomerResult { customer: CustomerRow | null; created: boolean; matchedBy: CustomerMatchRule | null; userErrors: UserError[] }

const SOURCE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const MAX_TEXT = 200;

export function validateSourceKey(source: string, externalId: string, errors: UserError[], prefix: string[] = ['input']): void {
  if (!SOURCE.test(source)) errors.push(userError([...prefix, 'source'], 'source must be 1-64 letters, digits, or _ . : - and start with a letter or digit'));
  // Control characters in ids break exports and log lines, and NUL cannot be stored at all.
  // eslint-disable-next-line no-control-regex
  if (!externalId.trim() || externalId.length > 200 || /[\u0000-\u001f\u007f]/.test(externalId)) {
    errors.push(userError([...prefix, 'externalId'], 'externalId must be 1-200 characters, not blank, without control characters'));
  }
}

type CustomerFields = Omit<typeof customers.$inferInsert, 'id' | 'createdAt' | 'updatedAt'>;

/** Validates and standardizes the input; `undefined` = keep current value, `null` = clear it. */
function cleanCustomerInput(input: UpsertCustomerInput, config: Pick<Config, 'defaultPhoneRegion'>, errors: UserError[]): Partial<CustomerFields> {
  const out: Partial<CustomerFields> = {};
  const text = (key: 'firstName' | 'lastName', v: string | null | undefined) => {
    if (v === undefined) return;
    const t = cleanText(v);
    if (t && t.length > MAX_TEXT) errors.push(userError(['input', key], `${key} must be at most ${MAX_TEXT} characters`));
    out[key] = t;
  };
  text('firstName', input.firstName);
  text('lastName', input.lastName);
  if (input.email !== undefined) {
    if (input.email === null || !input.email.trim()) { out.email = null; out.emailNormalized = null; } else {
      const e = normalizeEmail(input.email);
      if (!e) errors.push(userError(['input', 'email'], 'email is not a valid email address'));
      else { out.email = input.email.trim(); out.emailNormalized = e; }
    }
  }
  if (input.phone !== undefined) {
    if (input.phone === null || !input.phone.trim()) { out.phone = null; out.phoneE164 = null; } else {
      // A national number is read in the address's country when the input gives one, then in DEFAULT_PHONE_REGION.
      const given = input.address?.country ? normalizeCountry(input.address.country) : null;
      const regions = phoneRegions(given, config.defaultPhoneRegion);
      const p = normalizePhoneIn(input.phone, regions);
      if (!p) errors.push(userError(['input', 'phone'], `phone is not a valid phone number (national numbers are read as ${regions.join(', then as ')}; give it as +<country code> <number>, or give address.country)`));
      else { out.phone = p; out.phoneE164 = p; }
    }
  }
  if (input.birthDate !== undefined) {
    if (input.birthDate !== null) {
      const today = new Date().toISOString().slice(0, 10);
      if (input.birthDate > today || input.birthDate < '1900-01-01') {
        errors.push(userError(['input', 'birthDate'], 'birthDate must be between 1900-01-01 and today'));
      }
    }
    out.birthDate = input.birthDate;
  }
  if (input.nationalId !== undefined) {
    // Kept as given apart from spaces and dashes (formats differ by country); at most 32 characters.
    const n = input.nationalId === null ? null : input.nationalId.replace(/[\s-]/g, '').toUpperCase() || null;
    if (n && !/^[A-Z0-9]{4,32}$/.test(n)) errors.push(userError(['input', 'nationalId'], 'nationalId must be 4-32 letters or digits (spaces and dashes are ignored)'));
    out.nationalId = n;
  }
  if (input.gender !== undefined) out.gender = input.gender;
  if (input.lifecycleStage !== undefined && input.lifecycleStage !== null) out.lifecycleStage = input.lifecycleStage;
  if (input.address === null) {
    // `address: null` clears the whole address; inside an address, an omitted part is kept.
    Object.assign(out, { addressLine1: null, addressLine2: null, city: null, region: null, postalCode: null, country: null });
  } else if (input.address) {
    const a = input.address;
    const parts = { line1: 'addressLine1', line2: 'addressLine2', city: 'city', region: 'region', postalCode: 'postalCode' } as const;
    for (const [k, column] of Object.entries(parts) as [keyof typeof parts, (typeof parts)[keyof typeof parts]][]) {
      if (a[k] === undefined) continue;
      const v = cleanText(a[k]);
      if (v && v.length > MAX_TEXT) errors.push(userError(['input', 'address', k], `${k} must be at most ${MAX_TEXT} characters`));
      out[column] = v;
    }
    if (a.country !== undefined) {
      const c = a.country === null || !a.country.trim() ? null : normalizeCountry(a.country);
      if (a.country && !c) errors.push(userError(['input', 'address', 'country'], 'country must be an ISO 3166-1 alpha-2 code such as DE'));
      out.country = c;
    }
  }
  return out;
}

/** Serializes concurrent writers of the same source record (both drivers support advisory locks). */
export async function lockSourceKey(tx: Executor, kind: string, source: string, externalId: string): Promise<void> {
  // PostgreSQL text cannot hold NUL; a unit separator keeps the parts apart (inputs with control characters are rejected earlier).
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`${kind}\u001f${source}\u001f${externalId}`}, 0))`);
}

type UpsertConfig = Pick<Config, 'defaultPhoneRegion' | 'privacyHashKey' | 'devSecretsDir'> & { ingest: Pick<Config['ingest'], 'matchRules' | 'blockedValues'> };

/**
 * Which customer a record of `source` is, with the import's identity rules (INGEST_MATCH_RULES, in
 * order; blocked placeholder values never identify anyone): the owner of the source key always (it is
 * unique), else the oldest customer with the same normalized email or E.164 phone.
 */
async function matchCustomer(tx: Executor, config: UpsertConfig, source: string, externalId: string, fields: Partial<CustomerFields>): Promise<{ id: string; rule: CustomerMatchRule } | null> {
  const [identity] = await tx.select({ customerId: customerIdentities.customerId }).from(customerIdentities)
    .where(and(eq(customerIdentities.source, source), eq(customerIdentities.externalId, externalId)));
  if (identity) return { id: identity.customerId, rule: 'EXTERNAL_ID' };
  const blocked = new Blocklist(config.ingest.blockedValues);
  for (const rule of config.ingest.matchRules) {
    let where: SQL | null = null;
    if (rule === 'email' && fields.emailNormalized && !blocked.email(fields.emailNormalized)) where = eq(customers.emailNormalized, fields.emailNormalized);
    if (rule === 'phone' && fields.phoneE164 && !blocked.phone(fields.phoneE164)) where = eq(customers.phoneE164, fields.phoneE164);
    if (!where) continue;
    const [hit] = await tx.select({ id: customers.id }).from(customers).where(where).orderBy(customers.createdAt, customers.id).limit(1);
    if (hit) return { id: hit.id, rule: rule === 'email' ? 'EMAIL' : 'PHONE' };
  }
  return null;
}

export async function upsertCustomer(db: Db, config: UpsertConfig, input: UpsertCustomerInput): Promise<UpsertCustomerResult> {
  const errors: UserError[] = [];
  validateSourceKey(input.source, input.externalId, errors);
  const fields = cleanCustomerInput(input, config, errors);
  if (errors.length) return { customer: null, created: false, matchedBy: null, userErrors: errors };
  const externalId = input.externalId.trim();

  return db.transaction(async (tx) => {
    await lockSourceKey(tx, 'customer', input.source, externalId);
    // Concurrent writers of the same email or phone (from different sources) resolve one after the other,
    // so that two of them cannot both create a customer for one person.
    if (fields.emailNormalized) await lockSourceKey(tx, 'customer-email', '', fields.emailNormalized);
    if (fields.phoneE164) await lockSourceKey(tx, 'customer-phone', '', fields.phoneE164);
    const match = await matchCustomer(tx, config, input.source, externalId, fields);
    if (!match) {
      // An erased person is not re-created silently: the erasure log holds keyed hashes of their identities.
      const hashes = identityHashes(resolvePrivacyHashKey(config), { sources: [{ source: input.source, externalId }], email: fields.emailNormalized ?? null, phone: fields.phoneE164 ?? null });
      if (await isErased(tx, hashes)) {
        return { customer: null, created: false, matchedBy: null, userErrors: [userError(['input'], 'this person asked to be erased; their identities cannot be re-created by an upsert', 'CONFLICT')] };
      }
      const displayName = deriveDisplayName(fields.firstName ?? null, fields.lastName ?? null, fields.email ?? null, fields.country ?? null);
      const [created] = await tx.insert(customers).values(repo.encryptCustomerFields({ ...fields, displayName })).returning();
      await tx.insert(customerIdentities).values({ customerId: created!.id, source: input.source, externalId });
      await recordApiFieldSources(tx, created!.id, input.source, fields, CUSTOMER_FIELDS.filter((k) => fields[k] != null), 'FIRST_VALUE');
      return { customer: repo.decryptCustomer(created!), created: true, matchedBy: 'NONE', userErrors: [] };
    }
    const [stored] = await tx.select().from(customers).where(eq(customers.id, match.id)).for('update');
    if (!stored) throw new Error(`identity points to missing customer ${match.id}`);
    // Matched by email or phone: this source's id becomes another identity of that customer.
    if (match.rule !== 'EXTERNAL_ID') await tx.insert(customerIdentities).values({ customerId: match.id, source: input.source, externalId });
    const current = repo.decryptCustomer(stored);
    const merged = { ...current, ...fields };
    merged.displayName = deriveDisplayName(merged.firstName, merged.lastName, merged.email, merged.country);
    const changed = (Object.keys(fields) as (keyof CustomerFields)[]).some((k) => current[k] !== merged[k])
      || merged.displayName !== current.displayName;
    if (!changed) {
      if (match.rule === 'EXTERNAL_ID') return { customer: current, created: false, matchedBy: match.rule, userErrors: [] };
      // A new identity changes the customer (externalIds) even when no field does.
      const [touchedRow] = await tx.update(customers).set({ updatedAt: new Date() }).where(eq(customers.id, current.id)).returning();
      return { customer: repo.decryptCustomer(touchedRow!), created: false, matchedBy: match.rule, userErrors: [] };
    }
    const [updated] = await tx.update(customers)
      .set({ ...repo.encryptCustomerFields(fields), displayName: merged.displayName, updatedAt: new Date() })
      .where(eq(customers.id, current.id)).returning();
    // The API's value is the newest: the fields it changed now come from this source (Customer.fieldSources).
    const touched = CUSTOMER_FIELDS.filter((k) => k in fields && current[k as keyof CustomerFields] !== merged[k as keyof CustomerFields]);
    await recordApiFieldSources(tx, current.id, input.source, fields, touched, 'MOST_RECENT');
    return { customer: repo.decryptCustomer(updated!), created: false, matchedBy: match.rule, userErrors: [] };
  });
}

/** Provenance of fields written through the API; a field cleared to null loses its source. */
async function recordApiFieldSources(tx: Executor, customerId: string, source: string, fields: Partial<Record<string, unknown>>, keys: readonly string[], rule: 'FIRST_VALUE' | 'MOST_RECENT'): Promise<void> {
  const at = new Date().toISOString();
  const set = keys.filter((k) => fields[k] != null);
  const cleared = keys.filter((k) => fields[k] === null);
  await upsertFieldSources(tx, fieldSourceRows(customerId, set.map((field) => ({ field, source, updatedAt: at, rule }))));
  if (cleared.length) {
    await tx.execute(sql`DELETE FROM customer_field_sources WHERE customer_id = ${customerId}::uuid AND field = ANY(${sql.param(cleared)}::text[])`);
  }
}

/**
 * Resolves `CustomerRefInput` (global id, or source + external id) to a customer id; adds a
 * `userErrors` entry and returns null when it is malformed or unknown.
 */
export async function resolveCustomerRef(tx: Executor, ref: CustomerRefInput, errors: UserError[], path: string[]): Promise<string | null> {
  const byId = ref.id != null;
  const byExternal = ref.source != null || ref.externalId != null;
  if (byId === byExternal) {
    errors.push(userError(path, 'give either id, or source and externalId'));
    return null;
  }
  if (byId) {
    const id = tryGlobalId(ref.id!, 'Customer');
    if (!id) { errors.push(userError([...path, 'id'], 'id is not a valid Customer id')); return null; }
    const [row] = await tx.select({ id: customers.id }).from(customers).where(eq(customers.id, id));
    if (!row) { errors.push(userError([...path, 'id'], 'customer not found', 'NOT_FOUND')); return null; }
    return row.id;
  }
  if (!ref.source || !ref.externalId) {
    errors.push(userError(path, 'source and externalId are both required'));
    return null;
  }
  const [row] = await tx.select({ id: customerIdentities.customerId }).from(customerIdentities)
    .where(and(eq(customerIdentities.source, ref.source), eq(customerIdentities.externalId, ref.externalId.trim())));
  if (!row) { errors.push(userError(path, `no customer with ${ref.source} id ${ref.externalId}`, 'NOT_FOUND')); return null; }
  return row.id;
}

// ---------------------------------------------------------------------------------------------
// Consent

const PURPOSE = /^[a-z][a-z0-9_]{1,63}$/;

/** Appends a consent decision; the latest per purpose is the current one. */
export async function recordConsent(db: Db, input: RecordConsentInput): Promise<{ customerId: string | null; userErrors: UserError[] }> {
  const errors: UserError[] = [];
  const customerId = tryGlobalId(input.customerId, 'Customer');
  if (!customerId) errors.push(userError(['input', 'customerId'], 'customerId is not a valid Customer id'));
  const purpose = input.purpose.trim();
  if (!PURPOSE.test(purpose)) errors.push(userError(['input', 'purpose'], 'purpose must be 2-64 lowercase letters, digits or _ (e.g. marketing_email)'));
  const source = cleanText(input.source);
  if (!source || source.length > 100) errors.push(userError(['input', 'source'], 'source must be 1-100 characters'));
  if (input.recordedAt && input.recordedAt.getTime() > Date.now() + 60_000) errors.push(userError(['input', 'recordedAt'], 'recordedAt is in the future'));
  if (errors.length || !customerId) return { customerId: null, userErrors: errors };
  const [exists] = await db.select({ id: customers.id }).from(customers).where(eq(customers.id, customerId));
  if (!exists) return { customerId: null, userErrors: [userError(['input', 'customerId'], 'customer not found', 'NOT_FOUND')] };
  await db.insert(consents).values({ customerId, purpose, status: input.status, source: source!, recordedAt: input.recordedAt ?? new Date() });
  return { customerId, userErrors: [] };
}
