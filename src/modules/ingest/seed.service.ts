/**
 * Writes the deterministic demo data (demo-data.ts) into the database: `npm run db:seed` and the
 * start-up seed of an empty database both come through here. No terminal code: progress is a callback.
 *
 * Speed is the point of the PostgreSQL path: a million customers are ~54M rows. It streams text-format
 * COPY through one connection inside one transaction (all or nothing) and overlaps the work: while
 * PostgreSQL ingests batch N on its core, this process generates batch N+1 a few customers at a time,
 * yielding to the event loop between steps so the pending COPY keeps moving. Large seeds drop and rebuild
 * keys, indexes and foreign keys around the load (bulkLoad). PGlite (one connection, in-process) gets
 * multi-row INSERTs through Drizzle instead.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect, type PgTable } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import { execRows, schema, type Db, type DbHandle } from '../../db/client';
import type { Logger } from '../../logger';
import { blindIndex, encryptField } from '../../lib/crypto';
import { birthMonthOf, encryptCustomerFields } from '../profile';
import { encryptInteractionTexts } from '../service';
import {
  DEMO_TABLES, DEMO_TAG_RULES, DemoDataGenerator, demoTagDefinitions, emptyBatch,
  type CurrencyRateInput, type DemoBatch, type DemoTable,
} from './demo-data';

export const SEED_TABLES = [
  'tag_definitions', 'customers', 'customer_identities', 'consents', 'customer_tags', 'customer_tag_events',
  'transactions', 'transaction_items', 'interactions',
] as const;
export type SeedTable = (typeof SEED_TABLES)[number];

export interface SeedProgress {
  table: SeedTable;
  /** Rows written to `table` by this step (a delta: sum them for a running total). */
  rows: number;
  /** Customers whose rows in every table have been written. */
  customersDone: number;
  customersTotal: number;
}

export interface SeedOptions {
  customers: number;
  /** PRNG seed: the same seed (and anchor) gives the same data. Default 42. */
  seed?: number;
  /** Average transactions per customer, skewed (about 15% have none). Default 10. */
  transactionsPerCustomer?: number;
  /** Average service interactions per customer, skewed. Default 5. */
  interactionsPerCustomer?: number;
  /** Customers generated and written per batch. Default 2000. */
  batchSize?: number;
  /** Currency of `amount_base` (config.baseCurrency). Default USD. */
  baseCurrency?: string;
  /** End of the two-year history. Default: today 00:00 UTC (so reruns on the same day are identical). */
  anchor?: Date;
  /**
   * Empty the customer data tables (customers and everything that references them) first, in the same
   * transaction: a failed seed leaves the old data in place. Without it a non-empty database is refused.
   */
  reset?: boolean;
  /**
   * Drop the foreign keys, secondary indexes and (on tables without triggers) primary keys of the customer
   * tables for the load and rebuild them at the end, inside the seed transaction: building an index once
   * is several times faster than maintaining it row by row, and a foreign key is then checked in one join.
   * It holds exclusive locks on those tables until the commit, so on PostgreSQL the default is on only
   * from 20,000 customers (where it pays, and a running gateway is not blocked by a small seed). Off by
   * default on PGlite: measured no gain there, its time goes into executing the INSERTs.
   */
  bulkLoad?: boolean;
  onProgress?: (p: SeedProgress) => void;
  /** Long steps without row progress: 'indexing' (bulk load rebuilding keys, indexes and foreign keys), 'analyzing'. */
  onStage?: (stage: SeedStage) => void;
  logger?: Pick<Logger, 'info' | 'debug'>;
}

export type SeedStage = 'indexing' | 'analyzing';

export interface SeedSummary {
  driver: DbHandle['driver'];
  customers: number;
  seed: number;
  /** ISO timestamp of the anchor the history was generated up to. */
  anchor: string;
  /** Rows inserted per table (tag_definitions: 0 when the demo tags already existed). */
  rows: Record<SeedTable, number>;
  totalRows: number;
  durationMs: number;
}

/** Thrown (before anything is written) when customers exist and `reset` was not asked for. */
export class SeedTargetNotEmptyError extends Error {
  constructor(readonly existingCustomers: number) {
    super(`the database already has ${existingCustomers} customer(s); seeding needs an empty customers table (use reset to replace them)`);
    this.name = 'SeedTargetNotEmptyError';
  }
}

/** Customer data tables, in foreign-key order (tag_definitions and reference data are kept by a reset). */
const CUSTOMER_TABLES = [
  'customers', 'customer_identities', 'consents', 'customer_tags', 'customer_tag_events', 'transactions', 'transaction_items', 'interactions',
] as const;
const TABLE_NAME: Record<DemoTable, SeedTable> = {
  customers: 'customers', customerIdentities: 'customer_identities', consents: 'consents', customerTags: 'customer_tags',
  customerTagEvents: 'customer_tag_events', transactions: 'transactions', transactionItems: 'transaction_items', interactions: 'interactions',
};
const BULK_LOAD_FROM = 20_000;
/** Any fixed 64-bit key: serialises concurrent seeds (two gateways starting on one empty database). */
const SEED_LOCK = 7_360_360_002;

export function defaultAnchor(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** Number of customers in the database (the CLI's "refuse unless --reset" check). */
export async function countCustomers(handle: DbHandle): Promise<number> {
  const [row] = await execRows<{ n: string | number }>(handle.db, sql`SELECT count(*) AS n FROM customers`);
  return Number(row?.n ?? 0);
}

export async function seedDemoData(handle: DbHandle, opts: SeedOptions): Promise<SeedSummary> {
  const started = performance.now();
  const customers = opts.customers;
  if (!Number.isInteger(customers) || customers < 0) throw new RangeError('customers must be a non-negative integer');
  const batchSize = opts.batchSize ?? 2000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  const seed = opts.seed ?? 42;
  const anchor = opts.anchor ?? defaultAnchor();
  const rows = Object.fromEntries(SEED_TABLES.map((t) => [t, 0])) as Record<SeedTable, number>;
  opts.logger?.info({ customers, seed, anchor: anchor.toISOString(), driver: handle.driver }, 'seeding demo data');

  const plan: SeedPlan = {
    customers, batchSize, seed, anchor, reset: opts.reset ?? false, baseCurrency: opts.baseCurrency ?? 'USD',
    transactionsPerCustomer: opts.transactionsPerCustomer, interactionsPerCustomer: opts.interactionsPerCustomer,
    bulk: opts.bulkLoad ?? (handle.driver === 'postgres' && !handle.via && customers >= BULK_LOAD_FROM), rows, onProgress: opts.onProgress, onStage: opts.onStage,
  };
  // Through a running gateway's PGlite socket (handle.via) there is no COPY FROM STDIN: inserts, as on PGlite.
  if (handle.driver === 'postgres' && !handle.via) {
    if (!handle.pg) throw new Error('postgres driver without a postgres.js client');
    await seedPostgres(handle.pg, plan);
  } else {
    await handle.db.transaction(async (tx) => runSeed(new PgliteWriter(tx), plan));
  }

  await createDemoRules(handle.db);

  const totalRows = SEED_TABLES.reduce((acc, t) => acc + rows[t], 0);
  const summary: SeedSummary = {
    driver: handle.driver, customers, seed, anchor: anchor.toISOString(), rows, totalRows, durationMs: Math.round(performance.now() - started),
  };
  opts.logger?.info({ rows, totalRows, durationMs: summary.durationMs }, 'demo data seeded');
  return summary;
}

// ---------------------------------------------------------------------------------------------------
// Driver-independent flow
// ---------------------------------------------------------------------------------------------------

interface SeedPlan {
  customers: number;
  batchSize: number;
  seed: number;
  anchor: Date;
  reset: boolean;
  baseCurrency: string;
  transactionsPerCustomer: number | undefined;
  interactionsPerCustomer: number | undefined;
  bulk: boolean;
  rows: Record<SeedTable, number>;
  onProgress: ((p: SeedProgress) => void) | undefined;
  onStage: ((stage: SeedStage) => void) | undefined;
}

interface SeedWriter<P> {
  /** Runs a statement inside the seed transaction. */
  query<T>(q: SQL): Promise<T[]>;
  /** An empty payload for one batch. */
  payload(): P;
  /**
   * Adds a slice of generated rows to the payload, converted to what the writer sends. Converting slice by
   * slice lets the row objects die young: holding a whole batch of objects made garbage collection 40%
   * of the CPU time.
   */
  append(payload: P, slice: DemoBatch): void;
  /** Writes one prepared table; resolves with the number of rows written. */
  write(prepared: P, table: DemoTable): Promise<number>;
  /** Whether this driver needs a cross-process lock (PGlite is one process, one connection). */
  readonly sharedServer: boolean;
  /** Called once the tables are empty and were truncated in this transaction. */
  tablesTruncated(): void;
}

/**
 * Rows are converted a few customers at a time so that the row objects die in the young generation:
 * with 50 customers per step the garbage collector took ~45% of the CPU, with 5 about 10%.
 */
const CUSTOMERS_PER_STEP = 5;
/** Yield to the event loop after every step (~1 ms of CPU) so the pending COPY keeps moving. */
const CUSTOMERS_PER_YIELD = 5;
/** Generated batches that may wait for the connection. */
const WRITE_QUEUE = 2;

async function runSeed<P>(w: SeedWriter<P>, plan: SeedPlan): Promise<void> {
  if (w.sharedServer) await w.query(sql`SELECT pg_advisory_xact_lock(${SEED_LOCK})`);
  if (!plan.reset) {
    const [row] = await w.query<{ n: string | number }>(sql`SELECT count(*) AS n FROM customers`);
    const existing = Number(row?.n ?? 0);
    if (existing > 0) throw new SeedTargetNotEmptyError(existing);
  }
  // A bulk load truncates the (verified empty) tables too: it holds their exclusive locks anyway, and
  // PostgreSQL then accepts COPY FREEZE.
  if (plan.reset || plan.bulk) {
    // CASCADE reaches tables of other modules that reference customers (e.g. customer_metrics).
    await w.query(sql.raw(`TRUNCATE ${CUSTOMER_TABLES.join(', ')} CASCADE`));
    w.tablesTruncated();
  }

  // Tag definitions: reuse whatever ids the database already has for these keys.
  const defs = demoTagDefinitions(plan.seed);
  const inserted = await w.query<{ id: string }>(sql`
    INSERT INTO tag_definitions (id, key, name, description, category, value_type)
    VALUES ${sql.join(defs.map((d) => sql`(${d.id}, ${d.key}, ${d.name}, ${d.description}, ${d.category}, ${d.valueType})`), sql`, `)}
    ON CONFLICT (key) DO NOTHING
    RETURNING id`);
  plan.rows.tag_definitions = inserted.length;
  plan.onProgress?.({ table: 'tag_definitions', rows: inserted.length, customersDone: 0, customersTotal: plan.customers });
  const keys = defs.map((d) => d.key);
  const tagRows = await w.query<{ id: string; key: string }>(sql`
    SELECT id::text AS id, key FROM tag_definitions WHERE key IN (${sql.join(keys.map((k) => sql`${k}`), sql`, `)})`);
  const tagIds = new Map(tagRows.map((r) => [r.key, r.id]));

  const rates = await w.query<{ currency: string; base_currency: string; valid_from: string; rate: string }>(sql`
    SELECT currency, base_currency, valid_from::text AS valid_from, rate::text AS rate FROM currency_rates`);
  const rateInputs: CurrencyRateInput[] = rates.map((r) => ({ currency: r.currency, baseCurrency: r.base_currency, validFrom: r.valid_from, rate: r.rate }));

  const generator = new DemoDataGenerator({
    seed: plan.seed, anchor: plan.anchor, rates: rateInputs, baseCurrency: plan.baseCurrency, tagIds,
    transactionsPerCustomer: plan.transactionsPerCustomer, interactionsPerCustomer: plan.interactionsPerCustomer,
  });

  let customersDone = 0;
  const writeBatch = async (prepared: P, customerCount: number) => {
    for (let i = 0; i < DEMO_TABLES.length; i++) {
      const table = DEMO_TABLES[i]!;
      const n = await w.write(prepared, table);
      const name = TABLE_NAME[table];
      plan.rows[name] += n;
      if (i === DEMO_TABLES.length - 1) customersDone += customerCount;
      plan.onProgress?.({ table: name, rows: n, customersDone, customersTotal: plan.customers });
    }
  };

  const rebuild = plan.bulk ? await dropForBulkLoad(w) : [];
  // Writes run one after another on the connection while the next batches are generated. Up to
  // WRITE_QUEUE batches wait, so that a slow step on either side does not stall the other: memory stays
  // bounded, and the database and this process each keep a core busy.
  let tail: Promise<void> = Promise.resolve();
  const queued: Array<Promise<void>> = [];
  try {
    for (let start = 0; start < plan.customers; start += plan.batchSize) {
      const count = Math.min(plan.batchSize, plan.customers - start);
      const prepared = w.payload();
      for (let s = 0; s < count; s += CUSTOMERS_PER_STEP) {
        w.append(prepared, generator.batch(start + s, Math.min(CUSTOMERS_PER_STEP, count - s), emptyBatch()));
        if ((s + CUSTOMERS_PER_STEP) % CUSTOMERS_PER_YIELD === 0) await yieldToEventLoop();
      }
      while (queued.length >= WRITE_QUEUE) await queued.shift();
      tail = tail.then(() => writeBatch(prepared, count));
      // A failed write must not surface as an unhandled rejection while the next batch is generated.
      tail.catch(() => {});
      queued.push(tail);
    }
    await tail;
    if (rebuild.length > 0) {
      plan.onStage?.('indexing');
      for (const statement of rebuild) await w.query(sql.raw(statement));
    }
    // Fresh statistics, committed with the data: without them the first queries plan for empty tables.
    plan.onStage?.('analyzing');
    await w.query(sql.raw(`ANALYZE ${CUSTOMER_TABLES.join(', ')}, tag_definitions`));
  } catch (err) {
    // Let pending writes settle before the transaction is rolled back underneath them.
    await tail.catch(() => {});
    throw err;
  }
}

const TABLE_LIST = CUSTOMER_TABLES.map((t) => `'${t}'::regclass`).join(', ');

/**
 * Bulk load: read from the catalog, then drop, every foreign key from or to the customer tables, their
 * secondary indexes, and the primary keys of the tables without triggers; returns the statements that
 * recreate them from the same definitions (keys, indexes, then foreign keys, each validated in one
 * pass). Reading them back from the catalog restores whatever later migrations add, exactly. Primary
 * keys matter most: random UUID keys make every row touch a random page of an index far larger than
 * shared_buffers. Tables with triggers keep theirs, since a trigger may look rows up (customer_metrics does).
 */
async function dropForBulkLoad(w: SeedWriter<unknown>): Promise<string[]> {
  type Ddl = { drop: string; create: string };
  const fks = await w.query<Ddl>(sql.raw(`
    SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop,
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS create
    FROM pg_constraint
    WHERE contype = 'f' AND (conrelid IN (${TABLE_LIST}) OR confrelid IN (${TABLE_LIST}))`));
  const keys = await w.query<Ddl>(sql.raw(`
    SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop,
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS create
    FROM pg_constraint
    WHERE contype IN ('p', 'u') AND conrelid IN (${TABLE_LIST})
      AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = conrelid AND NOT t.tgisinternal)`));
  const indexes = await w.query<Ddl>(sql.raw(`
    SELECT format('DROP INDEX %s', i.indexrelid::regclass) AS drop, pg_get_indexdef(i.indexrelid) AS create
    FROM pg_index i
    WHERE i.indrelid IN (${TABLE_LIST})
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`));
  for (const d of [...fks, ...keys, ...indexes]) await w.query(sql.raw(d.drop));
  return [...keys, ...indexes, ...fks].map((d) => d.create);
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL: COPY FROM STDIN (text format) through postgres.js
// ---------------------------------------------------------------------------------------------------

const dialect = new PgDialect();

async function seedPostgres(pg: postgres.Sql, plan: SeedPlan): Promise<void> {
  await pg.begin(async (tx) => {
    // Durability of the commit record is irrelevant for demo data; a crash just means seeding again.
    await tx`SET LOCAL synchronous_commit = off`;
    // The pool's statement_timeout is meant for API requests; an index build over 20M rows takes minutes.
    await tx`SET LOCAL statement_timeout = 0`;
    // Index builds at the end of a bulk load sort in memory instead of spilling to disk.
    if (plan.bulk) await tx`SET LOCAL maintenance_work_mem = '512MB'`;
    await runSeed(new CopyWriter(tx), plan);
  });
}

type Line<T> = (row: T) => string;
interface CopySpec<T> { table: SeedTable; columns: readonly string[]; line: Line<T> }

type CopyPayload = Record<DemoTable, ByteSink>;

class CopyWriter implements SeedWriter<CopyPayload> {
  readonly sharedServer = true;
  private freeze = false;

  constructor(private readonly tx: postgres.TransactionSql) {}

  async query<T>(q: SQL): Promise<T[]> {
    const { sql: text, params } = dialect.sqlToQuery(q);
    const res = await this.tx.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
    return res as unknown as T[];
  }

  tablesTruncated(): void {
    // Rows of a table truncated in this transaction can be written frozen: no hint-bit rewrite of every
    // page on first read and no anti-wraparound vacuum of the whole data set later.
    this.freeze = true;
  }

  payload(): CopyPayload {
    const out: Partial<CopyPayload> = {};
    for (const table of DEMO_TABLES) out[table] = new ByteSink();
    return out as CopyPayload;
  }

  append(payload: CopyPayload, slice: DemoBatch): void {
    for (const table of DEMO_TABLES) {
      const rows = slice[table] as unknown[];
      if (rows.length === 0) continue;
      const spec = COPY[table] as CopySpec<unknown>;
      // A few customers' lines as one short-lived string: one native encode call instead of one per row.
      let text = '';
      for (const row of rows) text += spec.line(row);
      payload[table].append(text, rows.length);
    }
  }

  async write(prepared: CopyPayload, table: DemoTable): Promise<number> {
    const payload = prepared[table];
    if (payload.rows === 0) return 0;
    const spec = COPY[table];
    const options = this.freeze ? ' WITH (FREEZE)' : '';
    const query = this.tx.unsafe(`COPY ${spec.table} (${spec.columns.join(', ')}) FROM STDIN${options}`);
    const failed = failureOf(query);
    const stream: Writable = await Promise.race([query.writable(), failed]);
    skipCopyFailOnFinish(stream);
    // One CopyData message per batch and table: fewer, larger socket writes.
    stream.end(payload.bytes());
    await Promise.race([finished(stream), failed]);
    return payload.rows;
  }
}

/**
 * postgres.js 3.4 (pinned) loses errors that arrive after the COPY stream was ended: it drops its
 * reference to the stream when it sends CopyDone, so a constraint violation or a lost connection never
 * settles the stream and `finished()` waits forever (porsager/postgres#1173). The query object still
 * gets the error through its `reject` callback, an instance property: wrap it to surface the error.
 */
function failureOf(query: object): Promise<never> {
  const failure = new Promise<never>((_resolve, fail) => {
    const hooks = query as { reject?: unknown };
    const original = hooks.reject;
    if (typeof original !== 'function') return;
    hooks.reject = (err: unknown) => {
      fail(err);
      return original.call(query, err);
    };
  });
  // Observed by the races in write(); never an unhandled rejection when the COPY succeeds.
  failure.catch(() => {});
  return failure;
}

/**
 * After a successful COPY, postgres.js destroys the stream (autoDestroy) and its destroy hook sends a
 * stray CopyFail, which the server ignores. That small packet, unacknowledged (delayed ACK), makes Nagle's
 * algorithm hold the next statement for ~40 ms: measured 22-40 ms per COPY, a third of a 100,000-customer
 * seed. Skip it when the stream ends cleanly; an error still aborts the COPY as before.
 */
function skipCopyFailOnFinish(stream: Writable): void {
  const destroy = stream._destroy.bind(stream);
  stream._destroy = (err, callback) => (err ? destroy(err, callback) : callback(null));
}

/**
 * COPY text accumulated as UTF-8 bytes outside the JS heap. Keeping a batch as JS strings (ropes of
 * thousands of short lines) kept them alive across young-generation collections, and garbage
 * collection took 40% of the CPU; encoded bytes are one off-heap buffer the collector never scans.
 */
class ByteSink {
  private buf = Buffer.allocUnsafe(1 << 20);
  private len = 0;
  rows = 0;

  append(text: string, rows: number): void {
    const worst = text.length * 3;
    if (this.len + worst > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + worst));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    this.len += this.buf.write(text, this.len);
    this.rows += rows;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;
/** COPY text format: backslash, tab, newline and carriage return are escaped; NULL is \N. */
function txt(v: string | null): string {
  if (v === null) return '\\N';
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const DAY_MS = 86_400_000;
/** YYYY-MM-DD by day number since the epoch: the rows of a batch span two years, so cache them all. */
const dayText: string[] = [];
/** `YYYY-MM-DD HH:MM:SS+00` (plus milliseconds when present): toISOString is a hot spot at 50M rows. */
function ts(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  const date = dayText[day] ?? (dayText[day] = new Date(day * DAY_MS).toISOString().slice(0, 10));
  let rest = ms - day * DAY_MS;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const s = rest % 60;
  rest = (rest - s) / 60;
  const m = rest % 60;
  const h = (rest - m) / 60;
  const frac = milli === 0 ? '' : `.${String(milli).padStart(3, '0')}`;
  return `${date} ${PAD2[h]}:${PAD2[m]}:${PAD2[s]}${frac}+00`;
}
const tsOrNull = (ms: number | null) => (ms === null ? '\\N' : ts(ms));

// Columns and lines per table. uuids, enums, numbers and generated codes never need escaping.
const COPY: { [K in DemoTable]: CopySpec<DemoBatch[K][number]> } = {
  customers: {
    table: 'customers',
    columns: ['id', 'first_name', 'last_name', 'display_name', 'email', 'email_normalized', 'phone', 'phone_e164', 'birth_date', 'birth_month', 'birth_date_bidx', 'gender',
      'address_line1', 'address_line2', 'city', 'region', 'postal_code', 'country', 'lifecycle_stage', 'created_at', 'updated_at'],
    // Encrypted values and blind indexes are base64url and colons: nothing to escape for COPY.
    line: (r) => `${r.id}\t${txt(r.firstName)}\t${txt(r.lastName)}\t${txt(r.displayName)}\t${txt(r.email)}\t${txt(r.emailNormalized)}\t${txt(r.phone)}\t${txt(r.phoneE164)}\t${r.birthDate ? encryptField('customers.birth_date', r.birthDate) : '\\N'}\t${birthMonthOf(r.birthDate) ?? '\\N'}\t${blindIndex('customers.birth_date', r.birthDate) ?? '\\N'}\t${r.gender}\t${txt(r.addressLine1)}\t${txt(r.addressLine2)}\t${txt(r.city)}\t${txt(r.region)}\t${txt(r.postalCode)}\t${r.country}\t${r.lifecycleStage}\t${ts(r.createdAt)}\t${ts(r.updatedAt)}\n`,
  },
  customerIdentities: {
    table: 'customer_identities',
    columns: ['customer_id', 'source', 'external_id', 'created_at'],
    line: (r) => `${r.customerId}\t${r.source}\t${r.externalId}\t${ts(r.createdAt)}\n`,
  },
  consents: {
    table: 'consents',
    columns: ['id', 'customer_id', 'purpose', 'status', 'source', 'recorded_at', 'created_at'],
    line: (r) => `${r.id}\t${r.customerId}\t${r.purpose}\t${r.status}\t${r.source}\t${ts(r.recordedAt)}\t${ts(r.createdAt)}\n`,
  },
  customerTags: {
    table: 'customer_tags',
    columns: ['customer_id', 'tag_id', 'value', 'source', 'actor', 'confidence', 'assigned_at', 'expires_at'],
    line: (r) => `${r.customerId}\t${r.tagId}\t${txt(r.value)}\t${r.source}\t${txt(r.actor)}\t${r.confidence ?? '\\N'}\t${ts(r.assignedAt)}\t${tsOrNull(r.expiresAt)}\n`,
  },
  customerTagEvents: {
    table: 'customer_tag_events',
    columns: ['id', 'customer_id', 'tag_id', 'action', 'value', 'previous_value', 'source', 'actor', 'occurred_at'],
    line: (r) => `${r.id}\t${r.customerId}\t${r.tagId}\t${r.action}\t${txt(r.value)}\t${txt(r.previousValue)}\t${r.source}\t${txt(r.actor)}\t${ts(r.occurredAt)}\n`,
  },
  transactions: {
    table: 'transactions',
    columns: ['id', 'customer_id', 'source', 'external_id', 'occurred_at', 'type', 'status', 'channel', 'store', 'currency', 'amount', 'amount_base',
      'created_at', 'updated_at'],
    line: (r) => `${r.id}\t${r.customerId}\t${r.source}\t${r.externalId}\t${ts(r.occurredAt)}\t${r.type}\t${r.status}\t${r.channel}\t${txt(r.store)}\t${r.currency}\t${r.amount}\t${r.amountBase}\t${ts(r.createdAt)}\t${ts(r.updatedAt)}\n`,
  },
  transactionItems: {
    table: 'transaction_items',
    columns: ['id', 'transaction_id', 'customer_id', 'position', 'sku', 'product_name', 'category', 'quantity', 'unit_price'],
    line: (r) => `${r.id}\t${r.transactionId}\t${r.customerId}\t${r.position}\t${r.sku}\t${txt(r.productName)}\t${r.category}\t${r.quantity}\t${r.unitPrice}\n`,
  },
  interactions: {
    table: 'interactions',
    columns: ['id', 'customer_id', 'source', 'external_id', 'channel', 'type', 'direction', 'subject', 'summary', 'sentiment', 'status', 'agent',
      'occurred_at', 'created_at', 'updated_at'],
    line: (r) => `${r.id}\t${r.customerId}\t${r.source}\t${r.externalId}\t${r.channel}\t${r.type}\t${r.direction}\t${txt(encryptField('interactions.subject', r.subject))}\t${txt(encryptField('interactions.summary', r.summary))}\t${r.sentiment ?? '\\N'}\t${r.status}\t${txt(r.agent)}\t${ts(r.occurredAt)}\t${ts(r.createdAt)}\t${ts(r.updatedAt)}\n`,
  },
};

// ---------------------------------------------------------------------------------------------------
// PGlite: multi-row INSERT through Drizzle
// ---------------------------------------------------------------------------------------------------

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
const date = (ms: number) => new Date(ms);
const dateOrNull = (ms: number | null) => (ms === null ? null : new Date(ms));

/** Drizzle table and row mapping per demo table (timestamps become Dates, test-only fields are dropped). */
const INSERT: { [K in DemoTable]: { table: PgTable; row: (r: DemoBatch[K][number]) => Record<string, unknown> } } = {
  customers: { table: schema.customers, row: (r) => encryptCustomerFields({ ...r, createdAt: date(r.createdAt), updatedAt: date(r.updatedAt) }) },
  customerIdentities: { table: schema.customerIdentities, row: (r) => ({ ...r, createdAt: date(r.createdAt) }) },
  consents: { table: schema.consents, row: (r) => ({ ...r, recordedAt: date(r.recordedAt), createdAt: date(r.createdAt) }) },
  customerTags: {
    table: schema.customerTags,
    row: (r) => ({
      customerId: r.customerId, tagId: r.tagId, value: r.value, source: r.source, actor: r.actor, confidence: r.confidence,
      assignedAt: date(r.assignedAt), expiresAt: dateOrNull(r.expiresAt),
    }),
  },
  customerTagEvents: {
    table: schema.customerTagEvents,
    row: (r) => ({
      id: r.id, customerId: r.customerId, tagId: r.tagId, action: r.action, value: r.value, previousValue: r.previousValue,
      source: r.source, actor: r.actor, occurredAt: date(r.occurredAt),
    }),
  },
  transactions: {
    table: schema.transactions,
    row: (r) => ({
      id: r.id, customerId: r.customerId, source: r.source, externalId: r.externalId, occurredAt: date(r.occurredAt), type: r.type,
      status: r.status, channel: r.channel, store: r.store, currency: r.currency, amount: r.amount, amountBase: r.amountBase,
      createdAt: date(r.createdAt), updatedAt: date(r.updatedAt),
    }),
  },
  transactionItems: { table: schema.transactionItems, row: (r) => ({ ...r }) },
  interactions: {
    table: schema.interactions,
    row: (r) => encryptInteractionTexts({ ...r, occurredAt: date(r.occurredAt), createdAt: date(r.createdAt), updatedAt: date(r.updatedAt) }),
  },
};

/** PostgreSQL caps a statement at 65,535 parameters; PGlite is fastest around 500 rows per INSERT. */
const PGLITE_ROWS_PER_INSERT = 500;

type InsertPayload = Record<DemoTable, Array<Record<string, unknown>>>;

class PgliteWriter implements SeedWriter<InsertPayload> {
  readonly sharedServer = false;

  constructor(private readonly tx: Tx) {}

  query<T>(q: SQL): Promise<T[]> {
    return execRows<T>(this.tx, q);
  }

  tablesTruncated(): void {}

  payload(): InsertPayload {
    const out: Partial<InsertPayload> = {};
    for (const table of DEMO_TABLES) out[table] = [];
    return out as InsertPayload;
  }

  append(payload: InsertPayload, slice: DemoBatch): void {
    for (const table of DEMO_TABLES) {
      const map = INSERT[table].row as (r: unknown) => Record<string, unknown>;
      for (const row of slice[table] as unknown[]) payload[table].push(map(row));
    }
  }

  async write(prepared: InsertPayload, table: DemoTable): Promise<number> {
    const rows = prepared[table];
    const target = INSERT[table].table;
    for (let i = 0; i < rows.length; i += PGLITE_ROWS_PER_INSERT) {
      await this.tx.insert(target).values(rows.slice(i, i + PGLITE_ROWS_PER_INSERT));
    }
    return rows.length;
  }
}

/**
 * The rules the demo's RULE tags name (DEMO_TAG_RULES), created disabled if missing, and the demo's
 * assignments and events linked to them (`CustomerTag.rule`), so that every `rule:<key>@v1` a tag shows
 * is a rule in `tagRules`.
 */
export async function createDemoRules(db: Db): Promise<void> {
  await db.execute(sql`INSERT INTO tag_rules (key, name, description, tag_id, filter, enabled, version, created_by)
    SELECT r.key, r.name, r.description, d.id, r.filter, false, 1, 'demo-seed'
    FROM jsonb_to_recordset(${JSON.stringify(DEMO_TAG_RULES)}::jsonb) AS r(key text, name text, description text, "tagKey" text, filter jsonb)
    JOIN tag_definitions d ON d.key = r."tagKey"
    ORDER BY r.key
    ON CONFLICT (key) DO NOTHING`);
  await db.execute(sql`UPDATE customer_tags ct SET rule_id = r.id, rule_version = r.version FROM tag_rules r
    WHERE ct.source = 'RULE' AND ct.rule_id IS NULL AND ct.tag_id = r.tag_id AND ct.actor = 'rule:' || r.key || '@v' || r.version`);
  await db.execute(sql`UPDATE customer_tag_events e SET rule_id = r.id, rule_version = r.version FROM tag_rules r
    WHERE e.source = 'RULE' AND e.rule_id IS NULL AND e.tag_id = r.tag_id AND e.actor = 'rule:' || r.key || '@v' || r.version`);
}
