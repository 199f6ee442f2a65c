/**
 * What each importable entity looks like in a file, and how a raw record becomes a clean one. The
 * rules are the mutations' rules (src/lib/normalize.ts), so a value accepted by `npm run import` is
 * accepted by `upsertCustomer` and the other way round.
 */
import { fromUnits, lineTotal, toUnits } from '../../lib/decimal';
import {
  cleanText, normalizeCountryName, normalizeCurrencyCode, normalizeEmail, normalizeGender, normalizePhoneIn,
  parseDate, phoneRegions, parseDecimal, parseTimestamp, type DateOrder, type DecimalSeparator,
} from '../../lib/normalize';

export const ENTITIES = ['customers', 'identities', 'transactions', 'interactions', 'tags', 'consents'] as const;
export type Entity = (typeof ENTITIES)[number];

export interface CleanOptions {
  defaultPhoneRegion: string;
  dateOrder: DateOrder;
  decimalSeparator: DecimalSeparator;
  /** `--source`: the source system of the file's records. */
  source: string;
  /** Source of the customer references of non-customer files (default: `source`). */
  customerSource: string;
}

export interface FieldError { field: string; reason: string }

/** Column names in the file (canonical snake_case) and common synonyms. */
export interface EntityColumns { columns: ReadonlySet<string>; aliases: Readonly<Record<string, string>> }

const MAX_TEXT = 200;
const SOURCE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const REF_COLUMNS = ['customer_id', 'customer_external_id', 'customer_source'];
const REF_ALIASES = { customer: 'customer_external_id', customer_ref: 'customer_external_id', customer_number: 'customer_external_id', client_id: 'customer_external_id' };

export const COLUMNS: Record<Entity, EntityColumns> = {
  customers: {
    columns: new Set(['external_id', 'first_name', 'last_name', 'email', 'phone', 'birth_date', 'gender', 'address_line1', 'address_line2',
      'city', 'region', 'postal_code', 'country', 'lifecycle_stage', 'updated_at']),
    aliases: {
      id: 'external_id', customer_id: 'external_id', customer_number: 'external_id', ext_id: 'external_id', given_name: 'first_name', firstname: 'first_name',
      forename: 'first_name', vorname: 'first_name', prenom: 'first_name', surname: 'last_name', family_name: 'last_name', lastname: 'last_name',
      nachname: 'last_name', nom: 'last_name', e_mail: 'email', email_address: 'email', mail: 'email', phone_number: 'phone', mobile: 'phone',
      telephone: 'phone', tel: 'phone', telefon: 'phone', dob: 'birth_date', date_of_birth: 'birth_date', birthday: 'birth_date', birthdate: 'birth_date',
      geburtsdatum: 'birth_date', sex: 'gender', geschlecht: 'gender', street: 'address_line1', address: 'address_line1', address1: 'address_line1',
      address_1: 'address_line1', address2: 'address_line2', address_2: 'address_line2', town: 'city', stadt: 'city', ort: 'city', state: 'region',
      province: 'region', zip: 'postal_code', zip_code: 'postal_code', postcode: 'postal_code', plz: 'postal_code', country_code: 'country', land: 'country',
      modified_at: 'updated_at', last_modified: 'updated_at', updated: 'updated_at',
    },
  },
  identities: {
    columns: new Set([...REF_COLUMNS, 'external_id', 'source']),
    aliases: { ...REF_ALIASES, identity: 'external_id', identifier: 'external_id' },
  },
  transactions: {
    columns: new Set([...REF_COLUMNS, 'external_id', 'occurred_at', 'type', 'status', 'channel', 'store', 'currency', 'amount', 'items',
      'item_sku', 'item_product_name', 'item_category', 'item_quantity', 'item_unit_price']),
    aliases: {
      ...REF_ALIASES, order_id: 'external_id', order_no: 'external_id', transaction_id: 'external_id', order_number: 'external_id', date: 'occurred_at', order_date: 'occurred_at',
      created_at: 'occurred_at', total: 'amount', total_amount: 'amount', sku: 'item_sku', product_name: 'item_product_name', product: 'item_product_name',
      item_name: 'item_product_name', category: 'item_category', quantity: 'item_quantity', qty: 'item_quantity', unit_price: 'item_unit_price', price: 'item_unit_price',
    },
  },
  interactions: {
    columns: new Set([...REF_COLUMNS, 'external_id', 'channel', 'type', 'direction', 'subject', 'summary', 'sentiment', 'status', 'agent', 'occurred_at']),
    aliases: { ...REF_ALIASES, ticket_id: 'external_id', date: 'occurred_at', created_at: 'occurred_at', title: 'subject', description: 'summary', body: 'summary' },
  },
  tags: {
    columns: new Set([...REF_COLUMNS, 'tag', 'value', 'assigned_at', 'expires_at']),
    aliases: { ...REF_ALIASES, tag_key: 'tag', key: 'tag', tag_value: 'value' },
  },
  consents: {
    columns: new Set([...REF_COLUMNS, 'purpose', 'status', 'recorded_at', 'source']),
    aliases: { ...REF_ALIASES, consent: 'purpose', decision: 'status', date: 'recorded_at', captured_at: 'recorded_at', channel: 'source' },
  },
};

/** How a non-customer record names its customer: a customer id, or an identity in a source system. */
export type CustomerRef = { kind: 'id'; id: string } | { kind: 'external'; source: string; externalId: string };

export interface CleanCustomer {
  externalId: string;
  /** When the source changed the record (`updated_at` column); survivorship "most recent" compares it. */
  sourceUpdatedAt: string | null;
  fields: Partial<Record<CustomerField, string | null>>;
}
export const CUSTOMER_FIELDS = ['firstName', 'lastName', 'email', 'phone', 'birthDate', 'gender', 'addressLine1', 'addressLine2', 'city', 'region',
  'postalCode', 'country', 'lifecycleStage'] as const;
export type CustomerField = (typeof CUSTOMER_FIELDS)[number];

export interface CleanItem { sku: string; productName: string; category: string | null; quantity: number; unitPrice: string }
export interface CleanTransaction {
  externalId: string; customer: CustomerRef; occurredAt: string; type: 'ORDER' | 'REFUND'; status: string; channel: string | null;
  store: string | null; currency: string; amount: string; items: CleanItem[] | null;
}
export interface CleanInteraction {
  externalId: string; customer: CustomerRef; channel: string; type: string; direction: string; subject: string | null; summary: string | null;
  sentiment: string | null; status: string; agent: string | null; occurredAt: string;
}
export interface CleanTag { customer: CustomerRef; tag: string; value: string | null; assignedAt: string | null; expiresAt: string | null }
export interface CleanConsent { customer: CustomerRef; purpose: string; status: string; recordedAt: string; source: string }
export interface CleanIdentity { customer: CustomerRef; source: string; externalId: string }

/** Which file column a clean field comes from (for the per-column quality figures and error fields). */
export const CUSTOMER_COLUMN: Record<CustomerField, string> = {
  firstName: 'first_name', lastName: 'last_name', email: 'email', phone: 'phone', birthDate: 'birth_date', gender: 'gender',
  addressLine1: 'address_line1', addressLine2: 'address_line2', city: 'city', region: 'region', postalCode: 'postal_code', country: 'country',
  lifecycleStage: 'lifecycle_stage',
};

/** A raw value as trimmed text; null for missing and blank values (a blank cell never clears a stored value). */
export function str(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return cleanText(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

class Cleaner {
  readonly errors: FieldError[] = [];
  constructor(readonly values: Record<string, unknown>, readonly opts: CleanOptions) {}
  fail(field: string, reason: string): null { this.errors.push({ field, reason }); return null; }
  text(col: string, max = MAX_TEXT): string | null {
    const raw = this.values[col];
    if (raw !== null && raw !== undefined && typeof raw === 'object') return this.fail(col, 'must be text');
    const t = str(raw);
    if (t && t.length > max) return this.fail(col, `must be at most ${max} characters`);
    if (t && CONTROL.test(t)) return this.fail(col, 'must not contain control characters');
    return t;
  }
  required(col: string, max = MAX_TEXT): string | null {
    const t = this.text(col, max);
    if (t === null && !this.errors.some((e) => e.field === col)) return this.fail(col, 'is required');
    return t;
  }
  id(col: string): string | null {
    const t = this.required(col);
    return t;
  }
  oneOf<T extends string>(col: string, allowed: readonly T[], fallback: T | null, synonyms: Record<string, T> = {}): T | null {
    const t = this.text(col);
    if (t === null) return fallback;
    const up = t.toUpperCase().replace(/[\s-]+/g, '_');
    const hit = synonyms[t.toLowerCase()] ?? (allowed as readonly string[]).find((a) => a === up) as T | undefined;
    return hit ?? this.fail(col, `must be one of ${allowed.join(', ')} (got "${t}")`);
  }
  timestamp(col: string, required: boolean): string | null {
    const t = this.text(col);
    if (t === null) return required ? this.fail(col, 'is required') : null;
    const d = parseTimestamp(t, this.opts.dateOrder);
    if (!d) return this.fail(col, `is not a date or time this import understands (got "${t}")`);
    if (d.getTime() > Date.now() + 24 * 3600_000) return this.fail(col, 'is in the future');
    return d.toISOString();
  }
  customerRef(): CustomerRef | null {
    const id = this.text('customer_id');
    if (id) {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return this.fail('customer_id', 'must be a customer uuid');
      return { kind: 'id', id: id.toLowerCase() };
    }
    const externalId = this.text('customer_external_id');
    if (!externalId) return this.fail('customer_external_id', 'is required (or customer_id)');
    const source = this.text('customer_source') ?? this.opts.customerSource;
    if (!SOURCE.test(source)) return this.fail('customer_source', 'must be 1-64 letters, digits, or _ . : -');
    return { kind: 'external', source, externalId };
  }
}

export type CleanResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };
const done = <T>(c: Cleaner, value: T): CleanResult<T> => (c.errors.length ? { ok: false, errors: c.errors } : { ok: true, value });

export function cleanCustomer(values: Record<string, unknown>, opts: CleanOptions): CleanResult<CleanCustomer> {
  const c = new Cleaner(values, opts);
  const externalId = c.id('external_id');
  const f: CleanCustomer['fields'] = {};
  const set = (k: CustomerField, v: string | null) => { if (v !== null) f[k] = v; };
  set('firstName', c.text('first_name'));
  set('lastName', c.text('last_name'));
  const email = c.text('email', 254);
  if (email) {
    const e = normalizeEmail(email);
    if (!e) c.fail('email', `is not a valid email address (got "${email}")`);
    else set('email', e);
  }
  const birth = c.text('birth_date');
  if (birth) {
    const d = parseDate(birth, opts.dateOrder);
    const today = new Date().toISOString().slice(0, 10);
    if (!d) c.fail('birth_date', `is not a date (got "${birth}")`);
    else if (d > today || d < '1900-01-01') c.fail('birth_date', 'must be between 1900-01-01 and today');
    else set('birthDate', d);
  }
  const gender = c.text('gender');
  if (gender) {
    const g = normalizeGender(gender);
    if (!g) c.fail('gender', `is not a gender this import understands (got "${gender}")`);
    else set('gender', g);
  }
  set('addressLine1', c.text('address_line1'));
  set('addressLine2', c.text('address_line2'));
  set('city', c.text('city'));
  set('region', c.text('region'));
  set('postalCode', c.text('postal_code', 20));
  const country = c.text('country');
  if (country) {
    const code = normalizeCountryName(country);
    if (!code) c.fail('country', `is not a known country (got "${country}")`);
    else set('country', code);
  }
  // A national number is read in the row's country (`020 7946 0018` with country GB), then in DEFAULT_PHONE_REGION.
  const phone = c.text('phone', 40);
  if (phone) {
    const regions = phoneRegions(f.country, opts.defaultPhoneRegion);
    const p = normalizePhoneIn(phone, regions);
    if (!p) c.fail('phone', `is not a valid phone number (national numbers are read as ${regions.join(', then as ')}; got "${phone}")`);
    else set('phone', p);
  }
  set('lifecycleStage', c.oneOf('lifecycle_stage', ['PROSPECT', 'NEW', 'ACTIVE', 'AT_RISK', 'CHURNED', 'REACTIVATED'] as const, null));
  const sourceUpdatedAt = c.timestamp('updated_at', false);
  return done(c, { externalId: externalId!, sourceUpdatedAt, fields: f });
}

const CHANNELS = ['EMAIL', 'PHONE', 'CHAT', 'SOCIAL', 'STORE', 'WEB', 'APP'] as const;
const INTERACTION_TYPES = ['TICKET', 'CALL', 'MESSAGE', 'VISIT', 'FEEDBACK', 'COMPLAINT'] as const;

function cleanItem(raw: Record<string, unknown>, c: Cleaner, field: string): CleanItem | null {
  const sku = str(raw.sku ?? raw.item_sku);
  const productName = str(raw.productName ?? raw.product_name ?? raw.item_product_name ?? sku);
  const qty = str(raw.quantity ?? raw.item_quantity) ?? '1';
  const priceRaw = str(raw.unitPrice ?? raw.unit_price ?? raw.item_unit_price);
  if (!sku) return c.fail(`${field}.sku`, 'is required');
  if (!/^\d{1,6}$/.test(qty) || Number(qty) <= 0) return c.fail(`${field}.quantity`, `must be a positive whole number (got "${qty}")`);
  if (!priceRaw) return c.fail(`${field}.unit_price`, 'is required');
  const price = parseDecimal(priceRaw, c.opts.decimalSeparator);
  if (price === null || toUnits(price) < 0n) return c.fail(`${field}.unit_price`, `is not a non-negative amount (got "${priceRaw}")`);
  return { sku, productName: productName!.slice(0, MAX_TEXT), category: str(raw.category ?? raw.item_category), quantity: Number(qty), unitPrice: fromUnits(toUnits(price)) };
}

/** `records`: one, or several consecutive CSV rows of one transaction (one line item each). */
export function cleanTransaction(records: Record<string, unknown>[], opts: CleanOptions): CleanResult<CleanTransaction> {
  const head = records[0]!;
  const c = new Cleaner(head, opts);
  const externalId = c.id('external_id');
  const customer = c.customerRef();
  const occurredAt = c.timestamp('occurred_at', true);
  const type = c.oneOf('type', ['ORDER', 'REFUND'] as const, 'ORDER', { sale: 'ORDER', purchase: 'ORDER', return: 'REFUND', refund: 'REFUND' });
  const status = c.oneOf('status', ['PENDING', 'COMPLETED', 'CANCELLED'] as const, 'COMPLETED', { canceled: 'CANCELLED', done: 'COMPLETED', paid: 'COMPLETED' });
  const currencyRaw = c.required('currency');
  const currency = currencyRaw ? (normalizeCurrencyCode(currencyRaw) ?? c.fail('currency', `must be an ISO 4217 code such as EUR (got "${currencyRaw}")`)) : null;
  let items: CleanItem[] | null = null;
  const nested = head.items;
  if (nested !== undefined && nested !== null && nested !== '') {
    let list: unknown = nested;
    if (typeof nested === 'string') { try { list = JSON.parse(nested); } catch { list = null; } }
    if (!Array.isArray(list)) c.fail('items', 'must be a JSON array of items');
    else items = list.map((it, i) => (typeof it === 'object' && it ? cleanItem(it as Record<string, unknown>, c, `items.${i}`) : c.fail(`items.${i}`, 'must be an object'))).filter((x): x is CleanItem => x !== null);
  } else if (records.some((r) => str(r.item_sku) !== null)) {
    items = [];
    records.forEach((r, i) => {
      const it = cleanItem(r, c, records.length > 1 ? `item_sku (line ${i + 1} of the order)` : 'item');
      if (it) items!.push(it);
    });
  }
  if (items && items.length > 500) c.fail('items', 'at most 500 items');
  let amount: string | null = null;
  const amountRaw = c.text('amount');
  if (amountRaw) {
    const a = parseDecimal(amountRaw, opts.decimalSeparator);
    if (a === null) c.fail('amount', `is not an amount (got "${amountRaw}")`);
    else if (toUnits(a) <= 0n) c.fail('amount', 'must be positive (use type REFUND for money returned)');
    else amount = fromUnits(toUnits(a));
  } else if (items?.length && !c.errors.some((e) => e.field.startsWith('item'))) {
    amount = lineTotal(items);
    if (toUnits(amount) <= 0n) c.fail('items', 'the items add up to zero; give a positive amount');
  } else if (!c.errors.some((e) => e.field.startsWith('item'))) {
    // Invalid items are reported as such; a missing amount only matters when there are no items at all.
    c.fail('amount', 'give an amount or items');
  }
  return done(c, {
    externalId: externalId!, customer: customer!, occurredAt: occurredAt!, type: type!, status: status!, channel: c.text('channel')?.toLowerCase() ?? null,
    store: c.text('store'), currency: currency!, amount: amount!, items,
  });
}

export function cleanInteraction(values: Record<string, unknown>, opts: CleanOptions): CleanResult<CleanInteraction> {
  const c = new Cleaner(values, opts);
  const v = {
    externalId: c.id('external_id')!,
    customer: c.customerRef()!,
    channel: c.oneOf('channel', CHANNELS, null, { call: 'PHONE', telephone: 'PHONE', mail: 'EMAIL', 'e-mail': 'EMAIL', shop: 'STORE', website: 'WEB' })!,
    type: c.oneOf('type', INTERACTION_TYPES, 'TICKET', { complaint: 'COMPLAINT', visit: 'VISIT', chat: 'MESSAGE', email: 'MESSAGE' })!,
    direction: c.oneOf('direction', ['INBOUND', 'OUTBOUND'] as const, 'INBOUND', { in: 'INBOUND', out: 'OUTBOUND' })!,
    subject: c.text('subject'),
    summary: c.text('summary', 10_000),
    sentiment: c.oneOf('sentiment', ['POSITIVE', 'NEUTRAL', 'NEGATIVE'] as const, null, { pos: 'POSITIVE', neg: 'NEGATIVE', neu: 'NEUTRAL' }),
    status: c.oneOf('status', ['OPEN', 'PENDING', 'RESOLVED', 'CLOSED'] as const, 'OPEN')!,
    agent: c.text('agent'),
    occurredAt: c.timestamp('occurred_at', true)!,
  };
  if (values.channel === undefined || str(values.channel) === null) c.fail('channel', 'is required');
  return done(c, v);
}

const TAG_KEY = /^[a-z][a-z0-9_]{0,63}$/;
export function cleanTag(values: Record<string, unknown>, opts: CleanOptions): CleanResult<CleanTag> {
  const c = new Cleaner(values, opts);
  const customer = c.customerRef();
  const tag = c.required('tag');
  if (tag && !TAG_KEY.test(tag)) c.fail('tag', 'must be a tag key: lowercase letters, digits and _');
  return done(c, { customer: customer!, tag: tag!, value: c.text('value'), assignedAt: c.timestamp('assigned_at', false), expiresAt: c.timestamp('expires_at', false) });
}

const PURPOSE = /^[a-z][a-z0-9_]{1,63}$/;
export function cleanConsent(values: Record<string, unknown>, opts: CleanOptions): CleanResult<CleanConsent> {
  const c = new Cleaner(values, opts);
  const customer = c.customerRef();
  const purpose = c.required('purpose');
  if (purpose && !PURPOSE.test(purpose)) c.fail('purpose', 'must be 2-64 lowercase letters, digits or _ (e.g. marketing_email)');
  const status = c.oneOf('status', ['GRANTED', 'DENIED', 'WITHDRAWN'] as const, null, { yes: 'GRANTED', y: 'GRANTED', true: 'GRANTED', opt_in: 'GRANTED', no: 'DENIED', n: 'DENIED', false: 'DENIED', opt_out: 'WITHDRAWN' });
  if (status === null && !c.errors.some((e) => e.field === 'status')) c.fail('status', 'is required');
  const recordedAt = c.timestamp('recorded_at', true);
  return done(c, { customer: customer!, purpose: purpose!, status: status!, recordedAt: recordedAt!, source: c.text('source', 100) ?? opts.source });
}

export function cleanIdentity(values: Record<string, unknown>, opts: CleanOptions): CleanResult<CleanIdentity> {
  const c = new Cleaner(values, opts);
  const customer = c.customerRef();
  const externalId = c.id('external_id');
  const source = c.text('source') ?? opts.source;
  if (!SOURCE.test(source)) c.fail('source', 'must be 1-64 letters, digits, or _ . : -');
  return done(c, { customer: customer!, source, externalId: externalId! });
}

/** The source key rules of the mutations (validateSourceKey). */
export const isValidSource = (s: string): boolean => SOURCE.test(s);
