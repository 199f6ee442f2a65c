import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import type { Logger as DrizzleLogger } from 'drizzle-orm/logger';
import postgres from 'postgres';
import type { Config } from '../config';
import * as schema from './schema/index';

export { schema };
/** One Drizzle type for both drivers: code never branches on the driver except here and in migrate.ts. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** A database or an open transaction: what repositories and services write through. */
export type Executor = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

export interface DbHandle {
  db: Db;
  driver: 'pglite' | 'postgres';
  /** Raw postgres.js client when driver = 'postgres' (COPY for bulk loads). */
  pg?: postgres.Sql;
  pglite?: PGlite;
  close(): Promise<void>;
}

/** Per-request statement accounting (tests assert counts; the bench reports them). */
export interface QueryStats { statements: number; requestId?: string }
export const queryStats = new AsyncLocalStorage<QueryStats>();

const countingLogger: DrizzleLogger = {
  logQuery() {
    const s = queryStats.getStore();
    if (s) s.statements++;
  },
};

export type DbOptions = Pick<Config, 'databaseUrl' | 'pgliteDir' | 'databasePoolMax'> & Partial<Pick<Config, 'databaseSsl'>> & {
  /** PGlite only: keep the database in memory (tests). */
  inMemory?: boolean;
  /** PostgreSQL only: server-side statement_timeout of every pooled connection. */
  statementTimeoutMs?: number;
};

export async function openDb(config: DbOptions): Promise<DbHandle> {
  if (config.databaseUrl) {
    const tls = config.databaseSsl;
    const pg = postgres(config.databaseUrl, {
      max: config.databasePoolMax,
      ...(tls && tls.mode !== 'disable'
        ? { ssl: tls.mode === 'require' ? 'require' : { rejectUnauthorized: true, ...(tls.caFile ? { ca: readFileSync(tls.caFile, 'utf8') } : {}) } }
        : {}),
      onnotice: () => {},
      connection: {
        application_name: 'customer360-gateway',
        // Behavioural filters over a large base have high cost estimates, and PostgreSQL's JIT then
        // spends seconds compiling a plan that runs in milliseconds (measured: 6 s of JIT on a 4 s
        // filter count over 100,000 customers). The gateway's statements are short: no JIT.
        jit: 'off',
        ...(config.statementTimeoutMs ? { statement_timeout: config.statementTimeoutMs } : {}),
      },
    });
    const db = drizzlePostgres(pg, { schema, logger: countingLogger }) as unknown as Db;
    // Named prepared statements, cached per connection by text: parse and plan once, not per call.
    fastPaths.set(db, (text, params) => pg.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true }) as Promise<unknown[]>);
    return { db, driver: 'postgres', pg, close: () => pg.end({ timeout: 5 }) };
  }
  let dataDir: string | undefined;
  if (!config.inMemory) {
    mkdirSync(config.pgliteDir, { recursive: true });
    dataDir = config.pgliteDir;
  }
  const pglite = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { pg_trgm } });
  const db = drizzlePglite(pglite, { schema, logger: countingLogger }) as unknown as Db;
  fastPaths.set(db, async (text, params) => (await pglite.query(text, params as unknown[])).rows);
  return { db, driver: 'pglite', pglite, close: () => pglite.close() };
}

/** `db.execute` returns an array on postgres.js and `{ rows }` on PGlite; this is the one place that knows. */
/**
 * Reads outside a transaction skip Drizzle's session layer and run on the driver directly, as named
 * prepared statements on PostgreSQL (measured: a primary-key read went from 1.2 ms to 0.16 ms).
 * Inside a transaction the query must use the transaction's connection, so it goes through Drizzle.
 */
type FastPath = (text: string, params: unknown[]) => Promise<unknown[]>;
const fastPaths = new WeakMap<object, FastPath>();
const dialect = new PgDialect();

/** Rows of a raw statement. `db.execute` returns an array on postgres.js and `{ rows }` on PGlite; this is the one place that knows. */
export async function execRows<T>(db: Pick<Executor, 'execute'>, query: SQL): Promise<T[]> {
  const fast = fastPaths.get(db);
  if (fast) {
    const { sql: text, params } = dialect.sqlToQuery(query);
    const s = queryStats.getStore();
    if (s) s.statements++;
    return (await fast(text, params)) as T[];
  }
  const res: unknown = await db.execute(query);
  if (Array.isArray(res)) return res as T[];
  return ((res as { rows?: T[] }).rows ?? []);
}

/**
 * Several independent row queries in ONE statement (one round trip, one plan): each part's rows come
 * back as a JSON array, in the part's own order (`json_agg` over the ordered subquery). Column
 * names stay as aliased; timestamps arrive as ISO strings (use `toDate`), numerics as the text they
 * were cast to. Used to answer a whole customer 360 with one statement instead of one per relation.
 */
export async function execParts(db: Pick<Executor, 'execute'>, parts: readonly SQL[]): Promise<unknown[][]> {
  if (parts.length === 0) return [];
  const cols = parts.map((p, i) => sql`(SELECT coalesce(json_agg(${sql.raw(`q${i}`)}), '[]'::json) FROM (${p}) ${sql.raw(`q${i}`)}) AS ${sql.raw(`p${i}`)}`);
  const [row] = await execRows<Record<string, unknown>>(db, sql`SELECT ${sql.join(cols, sql`, `)}`);
  return parts.map((_, i) => {
    const v = row?.[`p${i}`];
    return (typeof v === 'string' ? JSON.parse(v) : v ?? []) as unknown[];
  });
}

/** Timestamps come back as Date (PGlite) or text (postgres.js under Drizzle) from raw SQL. */
export function toDate(v: unknown): Date {
  if (v instanceof Date) return v;
  if (typeof v === 'string') {
    // postgres text output `2024-01-02 03:04:05.123+00` is not ISO 8601 for every engine: normalize.
    const iso = v.includes('T') ? v : v.replace(' ', 'T');
    return new Date(/[+-]\d\d$/.test(iso) ? `${iso}:00` : iso);
  }
  throw new TypeError(`not a timestamp: ${String(v)}`);
}
export const toDateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : toDate(v));
