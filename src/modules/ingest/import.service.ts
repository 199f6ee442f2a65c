/**
 * `npm run import`: file -> records (reader.ts) -> clean rows (entities.ts) -> batches. Each batch is
 * resolved (identities, customers, rates: one lookup statement per kind) and applied in one transaction
 * by one set-based statement per kind of change, the batch's columns passed as arrays
 * (import.repository.ts), so a customer is never half-written and a killed run leaves whole batches
 * only; everything is an upsert on source + external id, so a re-run converges on the same state.
 * Encrypted columns (birth date, interaction texts) are encrypted here, before they are written; a
 * value that did not change keeps its stored ciphertext, so a re-run writes nothing.
 * Cleaning of the next batch overlaps with the database work of the current one.
 * No terminal code here: progress is a callback, the CLI draws it.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify';
import type { Db, Executor } from '../../db/client';
import { blindIndex, decryptField, encryptField, isEncrypted } from '../../lib/crypto';
import type { DateOrder, DecimalSeparator } from '../../lib/normalize';
import { identityHashes, isErased } from '../admin';
import { birthMonthOf } from '../profile';
import {
  COLUMNS, CUSTOMER_COLUMN, CUSTOMER_FIELDS, cleanConsent, cleanCustomer, cleanIdentity, cleanInteraction, cleanTag, cleanTransaction, str,
  type CleanConsent, type CleanCustomer, type CleanIdentity, type CleanInteraction, type CleanOptions, type CleanResult, type CleanTag,
  type CleanItem, type CleanTransaction, type CustomerField, type CustomerRef, type Entity, type FieldError,
} from './entities';
import { Blocklist, displayNameOf, survives, type FieldSource, type MatchRule, type ResolutionSettings } from './identity';
import { openRecords, type FileFormat, type RawRecord } from './reader';
import * as repo from './import.repository';

export interface ImportOptions {
  entity: Entity;
  file: string;
  /** Source system of the records (`--source`). */
  source: string;
  /** Source of the customer references in non-customer files (default: `source`). */
  customerSource?: string;
  format?: FileFormat;
  encoding?: string;
  delimiter?: string;
  /** Entity column -> header in the file. */
  mapping?: Record<string, string>;
  dryRun?: boolean;
  /** Where rejected rows go (default: next to the input, `<name>.errors.csv|ndjson`). */
  errorsFile?: string;
  batchSize: number;
  defaultPhoneRegion: string;
  baseCurrency: string;
  dateOrder: DateOrder;
  decimalSeparator?: DecimalSeparator;
  resolution: ResolutionSettings;
  /** Key of the erasure blocklist hashes (resolvePrivacyHashKey). */
  privacyHashKey: string;
  onProgress?: (p: ImportProgress) => void;
  /** Refresh the written tables' planner statistics once this many rows are stored, then at every doubling (default 10,000). */
  statsRefreshFromRows?: number;
  /** Testing and operations: stop (as if killed) after this many committed batches. */
  stopAfterBatches?: number;
}

export interface ImportProgress { bytesRead: number; totalBytes: number; rowsRead: number; stored: number; rejected: number; batches: number }

export interface ColumnQuality { column: string; filled: number; invalid: number; filledPct: number; invalidPct: number }

export interface ImportSummary {
  runId: string | null;
  entity: Entity;
  source: string;
  file: string;
  format: FileFormat;
  encoding: string;
  delimiter: string | null;
  dryRun: boolean;
  rowsRead: number;
  stored: number;
  rejected: number;
  /** Records created / changed / already identical (customers: golden records; others: rows of the entity). */
  created: number;
  updated: number;
  unchanged: number;
  /** Customers rows matched to an existing customer by each rule. */
  matchedBy: Record<MatchRule, number>;
  batches: number;
  durationMs: number;
  errorsFile: string | null;
  /** Per mapped column: how often it was filled and how often a filled value was invalid. */
  columns: ColumnQuality[];
  /** Headers of the file that feed no column (check the mapping). */
  ignoredHeaders: string[];
}

/** Thrown by `stopAfterBatches`: the run stopped as if the process had been killed. */
export class ImportInterrupted extends Error {
  constructor(readonly batches: number) { super(`import stopped after ${batches} committed batch(es)`); this.name = 'ImportInterrupted'; }
}
class DryRunRollback extends Error {}

interface Rejection { rowNo: number; line: number; field: string; reason: string; original: Record<string, unknown> }
interface Row<T> { rowNos: number[]; lines: number[]; originals: Record<string, unknown>[]; value: T }
type AnyClean = CleanCustomer | CleanTransaction | CleanInteraction | CleanTag | CleanConsent | CleanIdentity;

interface BatchOutcome { stored: number; rejected: Rejection[]; created: number; updated: number; matchedBy?: Partial<Record<MatchRule, number>> }

export async function runImport(db: Db, opts: ImportOptions): Promise<ImportSummary> {
  if (!opts.dryRun) return importWith(db, opts);
  // A dry run is one transaction (batches are savepoints in it, so later batches see earlier ones), rolled back at the end.
  let summary: ImportSummary | null = null;
  try {
    await db.transaction(async (tx) => {
      summary = await importWith(tx as unknown as Db, opts);
      throw new DryRunRollback();
    });
  } catch (e) {
    if (!(e instanceof DryRunRollback)) throw e;
  }
  return summary!;
}

const ANALYZE_FIRST = 10_000;

async function importWith(db: Db, opts: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const cols = COLUMNS[opts.entity];
  let bytesRead = 0;
  const opened = await openRecords(opts.file, {
    format: opts.format, encoding: opts.encoding, delimiter: opts.delimiter, mapping: opts.mapping, columns: cols.columns, aliases: cols.aliases,
    onBytes: (b) => { bytesRead = b; },
  });
  const clean: CleanOptions = {
    defaultPhoneRegion: opts.defaultPhoneRegion, dateOrder: opts.dateOrder, decimalSeparator: opts.decimalSeparator ?? 'auto',
    source: opts.source, customerSource: opts.customerSource ?? opts.source,
  };
  const errorsFile = opts.errorsFile ?? defaultErrorsFile(opts.file, opened.format);
  const report = new ErrorReport(errorsFile, opened.format);
  const dryRun = opts.dryRun ?? false;
  const runId = dryRun ? randomUUID() : await repo.createRun(db, opts.entity, opts.source, path.basename(opts.file));
  const counters = { rowsRead: 0, stored: 0, rejected: 0 };
  const totals = { created: 0, updated: 0, batches: 0, matchedBy: { external_id: 0, email: 0, phone: 0 } as Record<MatchRule, number> };
  const filled = new Map<string, number>();
  const invalid = new Map<string, number>();
  const progress = () => opts.onProgress?.({ bytesRead, totalBytes: opened.sizeBytes, ...counters, batches: totals.batches });

  const reject = (rows: { rowNo: number; line: number; original: Record<string, unknown> }[], errors: FieldError[]) => {
    for (const r of rows) {
      counters.rejected++;
      for (const e of errors) report.write({ rowNo: r.rowNo, line: r.line, field: e.field, reason: e.reason, original: r.original });
    }
  };
  const countQuality = (values: Record<string, unknown>, errors: FieldError[]) => {
    for (const [k, v] of Object.entries(values)) if (str(v) !== null || (typeof v === 'object' && v !== null)) filled.set(k, (filled.get(k) ?? 0) + 1);
    for (const col of new Set(errors.map((e) => e.field.split(/[.\s]/)[0]!))) invalid.set(col, (invalid.get(col) ?? 0) + 1);
  };

  let batch: Row<AnyClean>[] = [];
  let pending: Promise<void> | null = null;
  // Planner statistics of the written tables, refreshed whenever the rows stored have doubled (from
  // statsRefreshFromRows, default ANALYZE_FIRST, on): autovacuum analyzes later than a bulk load grows,
  // and the batch statements, prepared once per connection, keep plans made for an empty table. Measured: an import of 1,000,000 customers
  // into an empty database had its identity lookups planned as sequential scans and stopped at the
  // statement timeout after 46 s; a few ANALYZEs of a second or less each keep them index lookups.
  let analyzeAt = opts.statsRefreshFromRows ?? ANALYZE_FIRST;
  const flush = async () => {
    if (pending) await pending;
    pending = null;
    if (!batch.length) return;
    const rows = batch;
    batch = [];
    const p = applyBatch(db, opts, runId, rows, dryRun, counters).then(async (out) => {
      counters.stored += out.stored;
      if (!dryRun && counters.stored >= analyzeAt) {
        analyzeAt = counters.stored * 2;
        await repo.analyzeWritten(db, opts.entity);
      }
      totals.created += out.created;
      totals.updated += out.updated;
      for (const [k, v] of Object.entries(out.matchedBy ?? {})) totals.matchedBy[k as MatchRule] += v;
      for (const r of out.rejected) { counters.rejected++; report.write(r); }
      totals.batches++;
      progress();
      if (opts.stopAfterBatches !== undefined && totals.batches >= opts.stopAfterBatches) throw new ImportInterrupted(totals.batches);
    });
    p.catch(() => {});
    pending = p;
  };
  const push = async (row: Row<AnyClean>) => {
    batch.push(row);
    if (batch.length >= opts.batchSize) await flush();
  };

  // Transactions in CSV may take one row per line item: consecutive rows with the same external id are one order.
  let group: RawRecord[] = [];
  const flushGroup = async () => {
    if (!group.length) return;
    const g = group;
    group = [];
    const res = cleanTransaction(g.map((r) => r.values), clean);
    for (const r of g) countQuality(r.values, res.ok ? [] : res.errors);
    if (!res.ok) {
      reject(g, res.errors);
      return;
    }
    await push({ rowNos: g.map((r) => r.rowNo), lines: g.map((r) => r.line), originals: g.map((r) => r.original), value: res.value });
  };

  try {
    for await (const rec of opened.records) {
      counters.rowsRead++;
      if (rec.readError) {
        reject([rec], [{ field: '(row)', reason: rec.readError }]);
        continue;
      }
      if (opts.entity === 'transactions') {
        const key = str(rec.values.external_id);
        const head = group[0];
        const sameOrder = head !== undefined && key !== null && key === str(head.values.external_id) && rec.values.items === undefined && head.values.items === undefined;
        if (head && !sameOrder) await flushGroup();
        group.push(rec);
        continue;
      }
      const res = cleanOne(opts.entity, rec.values, clean);
      countQuality(rec.values, res.ok ? [] : res.errors);
      if (!res.ok) reject([rec], res.errors);
      else await push({ rowNos: [rec.rowNo], lines: [rec.line], originals: [rec.original], value: res.value });
      if (counters.rowsRead % 1000 === 0) progress();
    }
    await flushGroup();
    await flush();
    if (pending) await pending;
  } catch (err) {
    // A stopped or failed run keeps the batches it committed; its row says how far it got.
    await (pending as Promise<void> | null)?.catch(() => {});
    await report.close().catch(() => {});
    if (!dryRun && !(err instanceof ImportInterrupted)) await repo.finishRun(db, runId, 'FAILED', counters, { batches: totals.batches, error: String(err) }).catch(() => {});
    throw err;
  }
  await report.close();
  progress();
  const ignoredHeaders = [...opened.headerMap].filter(([, c]) => c === null).map(([h]) => h);
  const columns: ColumnQuality[] = [...cols.columns].filter((c) => [...opened.headerMap.values()].includes(c)).map((column) => {
    const f = filled.get(column) ?? 0;
    const i = invalid.get(column) ?? 0;
    return { column, filled: f, invalid: i, filledPct: pct(f, counters.rowsRead), invalidPct: pct(i, f) };
  });
  const summary: ImportSummary = {
    runId: dryRun ? null : runId, entity: opts.entity, source: opts.source, file: opts.file, format: opened.format, encoding: opened.encoding,
    delimiter: opened.delimiter, dryRun, ...counters, created: totals.created, updated: totals.updated,
    unchanged: Math.max(0, counters.stored - totals.created - totals.updated), matchedBy: totals.matchedBy, batches: totals.batches,
    durationMs: Math.round(performance.now() - started), errorsFile: report.written ? errorsFile : null, columns, ignoredHeaders,
  };
  if (!dryRun) await repo.finishRun(db, runId, 'COMPLETED', counters, summary);
  return summary;
}

const pct = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 10 : 0);

function cleanOne(entity: Exclude<Entity, 'transactions'>, values: Record<string, unknown>, o: CleanOptions): CleanResult<AnyClean> {
  switch (entity) {
    case 'customers': return cleanCustomer(values, o);
    case 'interactions': return cleanInteraction(values, o);
    case 'tags': return cleanTag(values, o);
    case 'consents': return cleanConsent(values, o);
    case 'identities': return cleanIdentity(values, o);
  }
}

export function defaultErrorsFile(file: string, format: FileFormat): string {
  const dir = path.dirname(file);
  const base = path.basename(file).replace(/\.(csv|tsv|txt|ndjson|jsonl|json)$/i, '');
  return path.join(dir, `${base}.errors.${format === 'csv' ? 'csv' : 'ndjson'}`);
}

/** Rejected rows: row number, line, field, reason, and the original values (a CSV or NDJSON file, created on the first rejection). */
class ErrorReport {
  written = false;
  private out: WriteStream | null = null;
  private csv: ReturnType<typeof stringify> | null = null;
  constructor(readonly file: string, readonly format: FileFormat) {}
  write(r: Rejection) {
    if (!this.out) {
      this.out = createWriteStream(this.file);
      if (this.format === 'csv') {
        this.csv = stringify({ header: true, columns: ['row', 'line', 'field', 'reason', 'original'] });
        this.csv.pipe(this.out);
      }
      this.written = true;
    }
    const rec = { row: r.rowNo, line: r.line, field: r.field, reason: r.reason, original: r.original };
    if (this.csv) this.csv.write({ ...rec, original: JSON.stringify(r.original) });
    else this.out.write(`${JSON.stringify(rec)}\n`);
  }
  async close() {
    if (!this.out) return;
    const out = this.out;
    await new Promise<void>((resolve, reject) => {
      out.on('finish', resolve).on('error', reject);
      if (this.csv) this.csv.end(); else out.end();
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Batches

async function applyBatch(db: Db, opts: ImportOptions, runId: string, rows: Row<AnyClean>[], dryRun: boolean, counters: repo.RunCounters): Promise<BatchOutcome> {
  let outcome: BatchOutcome | null = null;
  await db.transaction(async (tx) => {
    const out = await applyEntity(tx, opts, rows);
    outcome = out;
    if (dryRun) return;
    await repo.advanceRun(tx, runId, { rowsRead: counters.rowsRead, stored: counters.stored + out.stored, rejected: counters.rejected + out.rejected.length });
  });
  return outcome!;
}

const rejectRow = (r: Row<unknown>, field: string, reason: string): Rejection[] =>
  r.rowNos.map((rowNo, i) => ({ rowNo, line: r.lines[i] ?? 0, field, reason, original: r.originals[i] ?? {} }));

function applyEntity(tx: Executor, opts: ImportOptions, rows: Row<AnyClean>[]): Promise<BatchOutcome> {
  switch (opts.entity) {
    case 'customers': return applyCustomerBatch(tx, opts, rows as Row<CleanCustomer>[]);
    case 'transactions': return applyTransactionBatch(tx, opts, rows as Row<CleanTransaction>[]);
    case 'interactions': return applyInteractionBatch(tx, opts, rows as Row<CleanInteraction>[]);
    case 'tags': return applyTagBatch(tx, opts, rows as Row<CleanTag>[]);
    case 'consents': return applyConsentBatch(tx, rows as Row<CleanConsent>[]);
    case 'identities': return applyIdentityBatch(tx, rows as Row<CleanIdentity>[]);
  }
}

const rowCount = (rows: Row<unknown>[]) => rows.reduce((n, r) => n + r.rowNos.length, 0);

// --- customers: identity resolution + survivorship -------------------------------------------

type Fields = Partial<Record<CustomerField, string | null>>;
interface Working {
  id: string;
  isNew: boolean;
  fields: Fields;
  /** Values and provenance as loaded (birth date decrypted): only real differences are written. */
  original: Fields;
  /** The birth date as stored (ciphertext), reused while its clear value is unchanged: a re-run writes the same bytes. */
  storedBirthDate: string | null;
  originalSources: Map<string, FieldSource>;
  sourceRecords: { source: string; external_id: string; fields: string; source_updated_at: string | null }[];
  updatedAt: string;
  sources: Map<string, FieldSource>;
  changed: Set<string>;
  identities: { source: string; external_id: string }[];
}

const DB_FIELD: Record<CustomerField, keyof repo.ExistingCustomer> = {
  firstName: 'first_name', lastName: 'last_name', email: 'email_normalized', phone: 'phone_e164', birthDate: 'birth_date', gender: 'gender',
  addressLine1: 'address_line1', addressLine2: 'address_line2', city: 'city', region: 'region', postalCode: 'postal_code', country: 'country',
  lifecycleStage: 'lifecycle_stage',
};

/**
 * The version of a source record, to recognize it when it comes again: a keyed hash (the birth date is
 * in it, and a plain hash of a record whose other fields are stored next to it would give the date away
 * to a dictionary of 36,500 days).
 */
const recordDigest = (key: string, c: CleanCustomer): string =>
  createHmac('sha256', key).update(JSON.stringify([c.sourceUpdatedAt, ...CUSTOMER_FIELDS.map((f) => c.fields[f] ?? null)])).digest('base64url');

/** The clean fields of a source record as kept in customer_source_records: everything but the birth date, which is only stored encrypted. */
const storedValues = (fields: Fields): Fields => {
  if (fields.birthDate === undefined) return fields;
  const { birthDate: _omitted, ...rest } = fields;
  return rest;
};

async function applyCustomerBatch(tx: Executor, opts: ImportOptions, rows: Row<CleanCustomer>[]): Promise<BatchOutcome> {
  const { matchRules, sourcePriority } = opts.resolution;
  const blocked = new Blocklist(opts.resolution.blockedValues);
  const source = opts.source;
  const keys = rows.map((r) => ({ source, externalId: r.value.externalId }));
  await repo.lockKeys(tx, 'customer', keys);
  const usable = (k: MatchRule, v: string | null | undefined): v is string => !!v && matchRules.includes(k) && !(k === 'email' ? blocked.email(v) : k === 'phone' ? blocked.phone(v) : false);
  const emails = [...new Set(rows.map((r) => r.value.fields.email).filter((e): e is string => usable('email', e)))];
  const phones = [...new Set(rows.map((r) => r.value.fields.phone).filter((p): p is string => usable('phone', p)))];
  const found = await repo.customerMatches(tx, source, rows.map((r) => r.value.externalId), emails, phones);
  // Identities always decide who owns a source key, even when external_id is not a match rule: the key is unique.
  const byIdentity = new Map(found.identities.map((r) => [r.externalId, r.customerId]));
  const byEmail = new Map(found.emails.map((r) => [r.key, r.id]));
  const byPhone = new Map(found.phones.map((r) => [r.key, r.id]));
  const existing = new Map(found.customers.map((c) => [c.id, c]));
  const storedSources = new Map<string, repo.StoredFieldSource[]>();
  for (const s of found.sources) {
    const list = storedSources.get(s[0]);
    if (list) list.push(s); else storedSources.set(s[0], [s]);
  }

  // Would-be new customers: refuse the ones an erasure blocks (the profile service's check, one query for the batch).
  const key = opts.privacyHashKey;
  const erasedRows = new Set<Row<CleanCustomer>>();
  if (found.anyErasure) {
    const hashesOf = (c: CleanCustomer) => identityHashes(key, { sources: [{ source, externalId: c.externalId }], email: c.fields.email ?? null, phone: c.fields.phone ?? null });
    const unmatched = rows.filter((r) => !byIdentity.has(r.value.externalId));
    const all = unmatched.flatMap((r) => hashesOf(r.value));
    if (all.length && await isErased(tx, all)) {
      const hit = await repo.erasedHashes(tx, all);
      for (const r of unmatched) if (hashesOf(r.value).some((h) => hit.has(h))) erasedRows.add(r);
    }
  }

  const now = new Date().toISOString();
  const working = new Map<string, Working>();
  const newByEmail = new Map<string, string>();
  const newByPhone = new Map<string, string>();
  const newByIdentity = new Map<string, string>();
  const rejected: Rejection[] = [];
  const matchedBy: Partial<Record<MatchRule, number>> = {};
  let stored = 0;

  const load = (id: string): Working => {
    let w = working.get(id);
    if (w) return w;
    const c = existing.get(id)!;
    const fields: Fields = {};
    for (const f of CUSTOMER_FIELDS) fields[f] = (c[DB_FIELD[f]] as string | null) ?? null;
    fields.birthDate = decryptField('customers.birth_date', c.birth_date);
    const sources = new Map((storedSources.get(id) ?? []).map(([, field, src, updatedAt, rule]) => [field, { field, source: src, updatedAt, rule: rule as FieldSource['rule'] }]));
    w = {
      id, isNew: false, fields, original: { ...fields }, storedBirthDate: c.birth_date, originalSources: new Map(sources), sourceRecords: [],
      updatedAt: c.updated_at, sources, changed: new Set(), identities: [],
    };
    working.set(id, w);
    return w;
  };

  const digests = new Map(found.digests.map((d) => [d.externalId, d.digest]));
  for (const r of rows) {
    const c = r.value;
    // A source record that comes again unchanged is not news: nothing to resolve (this makes re-runs no-ops).
    const digest = recordDigest(key, c);
    if (byIdentity.has(c.externalId) && digests.get(c.externalId) === digest) { stored += r.rowNos.length; continue; }
    if (erasedRows.has(r)) { rejected.push(...rejectRow(r, '(row)', 'this person asked to be erased; an import cannot re-create them')); continue; }
    const ownerId = byIdentity.get(c.externalId) ?? newByIdentity.get(c.externalId);
    let id: string | undefined;
    let rule: MatchRule | undefined;
    for (const m of matchRules) {
      if (m === 'external_id') id = ownerId;
      else if (m === 'email' && usable('email', c.fields.email)) id = byEmail.get(c.fields.email) ?? newByEmail.get(c.fields.email);
      else if (m === 'phone' && usable('phone', c.fields.phone)) id = byPhone.get(c.fields.phone) ?? newByPhone.get(c.fields.phone);
      if (id) { rule = m; break; }
    }
    // The source key belongs to one customer: a match by email/phone to someone else is overruled by it.
    if (ownerId && id !== ownerId) { id = ownerId; rule = 'external_id'; }
    let w: Working;
    if (id) {
      w = working.get(id) ?? load(id);
      if (rule) matchedBy[rule] = (matchedBy[rule] ?? 0) + 1;
    } else {
      w = {
        id: randomUUID(), isNew: true, fields: {}, original: {}, storedBirthDate: null, originalSources: new Map(), sourceRecords: [], updatedAt: now,
        sources: new Map(), changed: new Set(), identities: [],
      };
      working.set(w.id, w);
    }
    if (!ownerId) { w.identities.push({ source, external_id: c.externalId }); newByIdentity.set(c.externalId, w.id); }
    const at = c.sourceUpdatedAt ?? now;
    for (const f of CUSTOMER_FIELDS) {
      const v = c.fields[f];
      if (v === undefined || v === null) continue;
      const cur = w.fields[f] ?? null;
      const decided = w.isNew && cur === null ? 'FIRST_VALUE' : survives(sourcePriority, { value: cur, provenance: w.sources.get(f) ?? null, recordUpdatedAt: w.updatedAt }, { value: v, source, updatedAt: at });
      if (!decided) continue;
      w.fields[f] = v;
      w.sources.set(f, { field: f, source, updatedAt: at, rule: decided });
      w.changed.add(f);
    }
    const record = { source, external_id: c.externalId, fields: JSON.stringify({ digest, values: storedValues(c.fields) }), source_updated_at: c.sourceUpdatedAt };
    w.sourceRecords = [...w.sourceRecords.filter((x) => x.external_id !== c.externalId), record];
    digests.set(c.externalId, digest);
    if (!byIdentity.has(c.externalId)) byIdentity.set(c.externalId, w.id);
    if (w.fields.email && usable('email', w.fields.email)) newByEmail.set(w.fields.email, w.id);
    if (w.fields.phone && usable('phone', w.fields.phone)) newByPhone.set(w.fields.phone, w.id);
    stored += r.rowNos.length;
  }

  const same = (a: FieldSource | undefined, b: FieldSource | undefined) => !!a && !!b && a.source === b.source && a.rule === b.rule && a.updatedAt === b.updatedAt;
  const inserts: repo.CustomerRecord[] = [];
  const updates: repo.CustomerRecord[] = [];
  const identities: { customer_id: string; source: string; external_id: string }[] = [];
  const fieldSources: repo.FieldSourceRow[] = [];
  const sourceRecords: repo.SourceRecordRow[] = [];
  for (const w of working.values()) {
    const f = w.fields;
    const differs = CUSTOMER_FIELDS.some((k) => (f[k] ?? null) !== (w.original[k] ?? null));
    if (w.isNew || differs) (w.isNew ? inserts : updates).push(customerRecord(w));
    for (const i of w.identities) identities.push({ customer_id: w.id, ...i });
    for (const field of w.changed) {
      const s = w.sources.get(field)!;
      if (!same(s, w.originalSources.get(field))) fieldSources.push({ customer_id: w.id, field, source: s.source, updated_at: s.updatedAt, rule: s.rule });
    }
    for (const r of w.sourceRecords) sourceRecords.push({ customer_id: w.id, ...r });
  }
  await repo.insertCustomers(tx, inserts);
  await repo.updateCustomers(tx, updates);
  await repo.insertIdentities(tx, identities);
  await repo.upsertFieldSources(tx, fieldSources);
  await repo.upsertSourceRecords(tx, sourceRecords);
  return { stored, rejected, created: inserts.length, updated: updates.length, matchedBy };
}

/**
 * The golden record as written. The birth date is encrypted here, before it reaches the database; an
 * unchanged one keeps its stored ciphertext (a new encryption would differ: random IV), so a re-run
 * writes the same bytes.
 */
function customerRecord(w: Working): repo.CustomerRecord {
  const f = w.fields;
  const birth = f.birthDate ?? null;
  const keep = birth !== null && birth === (w.original.birthDate ?? null) && w.storedBirthDate !== null && isEncrypted(w.storedBirthDate);
  return {
    id: w.id, first_name: f.firstName ?? null, last_name: f.lastName ?? null, display_name: displayNameOf(f), email: f.email ?? null, phone: f.phone ?? null,
    birth_date: keep ? w.storedBirthDate : encryptField('customers.birth_date', birth), birth_month: birthMonthOf(birth), birth_date_bidx: blindIndex('customers.birth_date', birth),
    gender: f.gender ?? null, address_line1: f.addressLine1 ?? null, address_line2: f.addressLine2 ?? null, city: f.city ?? null, region: f.region ?? null,
    postal_code: f.postalCode ?? null, country: f.country ?? null, lifecycle_stage: f.lifecycleStage ?? null,
  };
}

// --- records that belong to a customer --------------------------------------------------------

const refKey = (r: CustomerRef) => (r.kind === 'id' ? `id:${r.id}` : `ext:${r.source}\u001f${r.externalId}`);

/** Customer references of a batch -> customer ids, in two statements at most. */
async function resolveRefs(tx: Executor, refs: CustomerRef[]): Promise<Map<string, string>> {
  const ext = refs.filter((r): r is Extract<CustomerRef, { kind: 'external' }> => r.kind === 'external');
  const ids = [...new Set(refs.filter((r): r is Extract<CustomerRef, { kind: 'id' }> => r.kind === 'id').map((r) => r.id))];
  const out = new Map<string, string>();
  const uniq = [...new Map(ext.map((r) => [refKey(r), { source: r.source, externalId: r.externalId }])).values()];
  for (const row of await repo.identitiesByKeys(tx, uniq)) out.set(`ext:${row.source}\u001f${row.externalId}`, row.customerId);
  for (const id of await repo.existingCustomerIds(tx, ids)) out.set(`id:${id}`, id);
  return out;
}

const unknownCustomer = (r: CustomerRef) => (r.kind === 'id' ? `no customer with id ${r.id}` : `no customer with ${r.source} id ${r.externalId}`);
const refField = (r: CustomerRef) => (r.kind === 'id' ? 'customer_id' : 'customer_external_id');
const FOREIGN_KEY = 'this source id is already recorded for another customer';

/** Later rows with the same key replace earlier ones in the batch (the file's last word counts); one upsert per key. */
function lastWins<T>(rows: Row<T>[], key: (v: T) => string): Row<T>[] {
  const m = new Map<string, Row<T>>();
  for (const r of rows) {
    const k = key(r.value);
    const prev = m.get(k);
    // The earlier row is stored too (superseded); it keeps its place in the counts.
    m.delete(k);
    m.set(k, prev ? { ...r, rowNos: [...prev.rowNos, ...r.rowNos], lines: [...prev.lines, ...r.lines], originals: [...prev.originals, ...r.originals] } : r);
  }
  return [...m.values()];
}

/** Canonical text of a transaction's line items, as replaceItems compares them with the stored ones. */
const itemsDigest = (items: CleanItem[]): string => items.map((i) => [i.sku, i.productName, i.category ?? '', String(i.quantity), i.unitPrice].join('|')).join('~');

async function applyTransactionBatch(tx: Executor, opts: ImportOptions, input: Row<CleanTransaction>[]): Promise<BatchOutcome> {
  const rows = lastWins(input, (v) => v.externalId);
  await repo.lockKeys(tx, 'transaction', rows.map((r) => ({ source: opts.source, externalId: r.value.externalId })));
  const customers = await resolveRefs(tx, rows.map((r) => r.value.customer));
  const day = (iso: string) => iso.slice(0, 10);
  const pairs = [...new Map(rows.map((r) => [`${r.value.currency}|${day(r.value.occurredAt)}`, { currency: r.value.currency, day: day(r.value.occurredAt) }])).values()];
  const rates = await repo.ratesToBase(tx, opts.baseCurrency, pairs);
  const rejected: Rejection[] = [];
  const accepted: { row: Row<CleanTransaction>; customerId: string }[] = [];
  const payloads: repo.TransactionRow[] = [];
  for (const r of rows) {
    const t = r.value;
    const customerId = customers.get(refKey(t.customer));
    if (!customerId) { rejected.push(...rejectRow(r, refField(t.customer), unknownCustomer(t.customer))); continue; }
    const rate = rates.get(`${t.currency}|${day(t.occurredAt)}`);
    if (!rate) { rejected.push(...rejectRow(r, 'currency', `no exchange rate from ${t.currency} to ${opts.baseCurrency}`)); continue; }
    accepted.push({ row: r, customerId });
    // A new id for a new transaction; an existing one keeps its id (the upsert does not change it).
    payloads.push({
      id: randomUUID(), customer_id: customerId, external_id: t.externalId, occurred_at: t.occurredAt, type: t.type, status: t.status, channel: t.channel,
      store: t.store, currency: t.currency, amount: t.amount, rate,
    });
  }
  const { inserted, updated } = await repo.upsertTransactions(tx, opts.source, payloads);
  // Rows neither inserted nor changed are unchanged, or belong to someone else: only then is it worth asking.
  const foreign = inserted + updated < payloads.length
    ? await repo.foreignSourceKeys(tx, 'transactions', opts.source, accepted.map((a) => ({ externalId: a.row.value.externalId, customerId: a.customerId })))
    : new Set<string>();
  let stored = 0;
  const withItems: { externalId: string; customerId: string; digest: string }[] = [];
  const items: repo.ItemRow[] = [];
  for (const { row, customerId } of accepted) {
    const t = row.value;
    if (foreign.has(t.externalId)) { rejected.push(...rejectRow(row, 'external_id', FOREIGN_KEY)); continue; }
    stored += row.rowNos.length;
    if (!t.items) continue;
    withItems.push({ externalId: t.externalId, customerId, digest: itemsDigest(t.items) });
    t.items.forEach((i, n) => items.push({ external_id: t.externalId, position: n + 1, sku: i.sku, product_name: i.productName, category: i.category, quantity: i.quantity, unit_price: i.unitPrice }));
  }
  await repo.replaceItems(tx, opts.source, withItems, items);
  return { stored, rejected, created: inserted, updated };
}

/** The stored ciphertext when it still decrypts to the incoming text (a re-run writes the same bytes), else a new encryption. */
function encryptUnlessSame(column: 'interactions.subject' | 'interactions.summary', clear: string | null, stored: string | null | undefined): string | null {
  if (clear === null) return null;
  if (stored && isEncrypted(stored) && decryptField(column, stored) === clear) return stored;
  return encryptField(column, clear);
}

async function applyInteractionBatch(tx: Executor, opts: ImportOptions, input: Row<CleanInteraction>[]): Promise<BatchOutcome> {
  const rows = lastWins(input, (v) => v.externalId);
  const customers = await resolveRefs(tx, rows.map((r) => r.value.customer));
  const existing = new Map((await repo.interactionsBySourceKeys(tx, opts.source, rows.map((r) => r.value.externalId))).map((e) => [e.externalId, e]));
  const rejected: Rejection[] = [];
  const payloads: repo.InteractionRow[] = [];
  let stored = 0;
  for (const r of rows) {
    const v = r.value;
    const customerId = customers.get(refKey(v.customer));
    if (!customerId) { rejected.push(...rejectRow(r, refField(v.customer), unknownCustomer(v.customer))); continue; }
    const ex = existing.get(v.externalId);
    if (ex && ex.customerId !== customerId) { rejected.push(...rejectRow(r, 'external_id', FOREIGN_KEY)); continue; }
    payloads.push({
      id: ex?.id ?? randomUUID(), customer_id: customerId, external_id: v.externalId, channel: v.channel, type: v.type, direction: v.direction,
      subject: encryptUnlessSame('interactions.subject', v.subject, ex?.subject), summary: encryptUnlessSame('interactions.summary', v.summary, ex?.summary),
      sentiment: v.sentiment, status: v.status, agent: v.agent, occurred_at: v.occurredAt,
    });
    stored += r.rowNos.length;
  }
  const { inserted, updated } = await repo.upsertInteractions(tx, opts.source, payloads);
  return { stored, rejected, created: inserted, updated };
}

async function applyTagBatch(tx: Executor, opts: ImportOptions, input: Row<CleanTag>[]): Promise<BatchOutcome> {
  const customers = await resolveRefs(tx, input.map((r) => r.value.customer));
  const tags = await repo.tagIdsByKeys(tx, [...new Set(input.map((r) => r.value.tag))]);
  const rejected: Rejection[] = [];
  const ok: Row<CleanTag & { customerId: string; tagId: string }>[] = [];
  for (const r of input) {
    const customerId = customers.get(refKey(r.value.customer));
    const tagId = tags.get(r.value.tag);
    if (!customerId) rejected.push(...rejectRow(r, refField(r.value.customer), unknownCustomer(r.value.customer)));
    else if (!tagId) rejected.push(...rejectRow(r, 'tag', `no tag definition with key ${r.value.tag}`));
    else ok.push({ ...r, value: { ...r.value, customerId, tagId } });
  }
  const rows = lastWins(ok, (v) => `${v.customerId}|${v.tagId}`);
  const { inserted, updated } = await repo.applyTags(tx, opts.source, rows.map((r) => ({
    customer_id: r.value.customerId, tag_id: r.value.tagId, value: r.value.value, assigned_at: r.value.assignedAt, expires_at: r.value.expiresAt,
  })));
  return { stored: rowCount(rows), rejected, created: inserted, updated };
}

async function applyConsentBatch(tx: Executor, input: Row<CleanConsent>[]): Promise<BatchOutcome> {
  const customers = await resolveRefs(tx, input.map((r) => r.value.customer));
  const rejected: Rejection[] = [];
  const ok: Row<CleanConsent & { customerId: string }>[] = [];
  for (const r of input) {
    const customerId = customers.get(refKey(r.value.customer));
    if (!customerId) rejected.push(...rejectRow(r, refField(r.value.customer), unknownCustomer(r.value.customer)));
    else ok.push({ ...r, value: { ...r.value, customerId } });
  }
  const rows = lastWins(ok, (v) => [v.customerId, v.purpose, v.status, v.recordedAt, v.source].join('|'));
  const created = await repo.applyConsents(tx, rows.map((r) => ({
    customer_id: r.value.customerId, purpose: r.value.purpose, status: r.value.status, source: r.value.source, recorded_at: r.value.recordedAt,
  })));
  return { stored: rowCount(rows), rejected, created, updated: 0 };
}

async function applyIdentityBatch(tx: Executor, input: Row<CleanIdentity>[]): Promise<BatchOutcome> {
  await repo.lockKeys(tx, 'customer', input.map((r) => ({ source: r.value.source, externalId: r.value.externalId })));
  const customers = await resolveRefs(tx, input.map((r) => r.value.customer));
  const owners = new Map((await repo.identitiesByKeys(tx, input.map((r) => ({ source: r.value.source, externalId: r.value.externalId })))).map((o) => [`${o.source}\u001f${o.externalId}`, o.customerId]));
  const rejected: Rejection[] = [];
  const ok: Row<CleanIdentity & { customerId: string }>[] = [];
  for (const r of input) {
    const customerId = customers.get(refKey(r.value.customer));
    const k = `${r.value.source}\u001f${r.value.externalId}`;
    const owner = owners.get(k);
    if (!customerId) rejected.push(...rejectRow(r, refField(r.value.customer), unknownCustomer(r.value.customer)));
    else if (owner && owner !== customerId) rejected.push(...rejectRow(r, 'external_id', `${r.value.source} id ${r.value.externalId} already belongs to another customer`));
    else { owners.set(k, customerId); ok.push({ ...r, value: { ...r.value, customerId } }); }
  }
  const rows = lastWins(ok, (v) => `${v.source}\u001f${v.externalId}`);
  const created = await repo.insertIdentities(tx, rows.map((r) => ({ customer_id: r.value.customerId, source: r.value.source, external_id: r.value.externalId })));
  return { stored: rowCount(rows), rejected, created, updated: 0 };
}

export { CUSTOMER_COLUMN };
