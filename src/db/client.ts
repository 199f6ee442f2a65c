import { mkdirSync, readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import type { Logger as DrizzleLogger } from 'drizzle-orm/logger';
import postgres from 'postgres';
import type { Config } from '../config';
import { DbBreaker, guardedPg } from './breaker';
import { DirLockedError, lockDir, lockHolder, type DirLock, type LockInfo } from './lock';
import { renderQuery } from './render';
import { servePgliteSocket } from './socket';
import * as schema from './schema/index';

export { schema };
/** One Drizzle type for both drivers: code never branches on the driver except here and in migrate.ts. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** A database or an open transaction: what repositories and services write through. */
export type Executor = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

export interface DbHandle {
  /** Primary, or (with a replica) a router that sends a request's reads to the replica until it writes. */
  db: Db;
  driver: 'pglite' | 'postgres';
  /** Raw postgres.js client when driver = 'postgres' (COPY for bulk loads). */
  pg?: postgres.Sql;
  /** Raw client of the read replica (DATABASE_REPLICA_URL), when configured. */
  replicaPg?: postgres.Sql;
  pglite?: PGlite;
  /**
   * PGlite served by the running gateway: this process reaches it over the gateway's Unix socket (postgres.js,
   * so `driver` is 'postgres'), not by opening the directory a second time.
   */
  via?: { gatewayPid: number; socket: string; dir: string };
  /** Gateway role on PGlite: the socket on which this process serves its database to the CLIs. */
  socketPath?: string;
  /**
   * PostgreSQL only: a one-connection client to the primary without the pool's statement_timeout
   * (migrations: a backfill over a large table may take minutes). The caller ends it.
   */
  unboundedClient?: () => postgres.Sql;
  /** PostgreSQL only: the circuit breaker of each pool (src/db/breaker.ts). */
  breakers?: { target: 'primary' | 'replica'; breaker: DbBreaker }[];
  close(): Promise<void>;
}

/**
 * Per-request statement accounting (tests assert counts; the bench reports them; /metrics sums them
 * once per request, so the hot path only bumps integers).
 * `route` decides where a request's statements go when a replica is configured: requests start on the
 * primary (authentication), a query operation switches to the replica, and a mutation (or any write)
 * pins the rest of the request to the primary (read-your-writes).
 */
export interface QueryStats {
  statements: number;
  requestId?: string;
  route?: 'primary' | 'replica';
  /** Statements that ran on the replica. */
  replicaStatements?: number;
  /** Wall time of the request's statements, from send to result (ms). */
  sqlMs?: number;
  /** Keys per DataLoader batch (src/lib/batch.ts notes them). */
  batchSizes?: number[];
  /** Which execution path answered (src/plan/): the compiled read path or graphql-js with the resolvers. */
  executionPath?: 'compiled' | 'resolvers';
  /** Time the compiled path spent executing its plan (ms). */
  executionMs?: number;
}

/** Which request a request-scoped Db belongs to (DataLoader batch sizes, replica routing). */
const statsOfDb = new WeakMap<object, QueryStats>();
/** Builds the request-scoped Db of a shared one (registered by openDb). */
const scopers = new WeakMap<object, (stats: QueryStats) => Db>();

/**
 * The Db one request works through: every statement it runs (Drizzle builder, raw, fast path, in a
 * transaction or not) is counted and timed into `stats`, and with a replica configured its reads go
 * where `stats.route` says. State lives on this object, not in AsyncLocalStorage: with an ALS store
 * active Node runs a promise hook for every promise of the request (measured: a tenth of the CPU of
 * a 360 query). A Db that openDb did not make is returned as it is.
 */
export function requestDb(db: Db, stats: QueryStats): Db {
  const scope = scopers.get(db);
  return scope ? scope(stats) : db;
}

/** The QueryStats of a request-scoped Db (undefined for a shared one). */
export function statsOf(db: object): QueryStats | undefined {
  return statsOfDb.get(db);
}

type Count = (s: QueryStats) => void;
const countPrimary: Count = (s) => { s.statements++; };
const countReplica: Count = (s) => { s.statements++; s.replicaStatements = (s.replicaStatements ?? 0) + 1; };
const addSqlMs = (s: QueryStats, t0: number) => { s.sqlMs = (s.sqlMs ?? 0) + performance.now() - t0; };

interface DrizzleInternals {
  session: { constructor: new (client: unknown, dialect: unknown, schema: unknown, options: { logger: DrizzleLogger }) => object; schema: unknown };
  dialect: unknown;
  _: Record<string, unknown>;
}

/**
 * A view of `shared` with its own Drizzle session (same driver class, same dialect and relational
 * schema) over `client`, a timing wrapper of the shared driver client, and a logger that counts.
 * Creating it costs two small objects per request; the relational `db.query` API (unused here) stays
 * on the shared session.
 */
function scopedDb(shared: Db, client: unknown, stats: QueryStats, count: Count): Db {
  const base = shared as unknown as DrizzleInternals;
  const Session = base.session.constructor;
  const session = new Session(client, base.dialect, base.session.schema, { logger: { logQuery: () => count(stats) } });
  const db = Object.create(shared as object) as DrizzleInternals;
  db.session = session as DrizzleInternals['session'];
  db._ = { ...base._, session };
  const fast = fastPaths.get(shared);
  if (fast) {
    fastPaths.set(db, async (text, params) => {
      count(stats);
      const t0 = performance.now();
      try {
        return await fast(text, params);
      } finally {
        addSqlMs(stats, t0);
      }
    });
  }
  statsOfDb.set(db, stats);
  return db as unknown as Db;
}

/** Times a postgres.js pending query from when it is awaited to when it settles. */
function timedQuery<Q extends PromiseLike<unknown>>(q: Q, stats: QueryStats): Q {
  const then = q.then;
  let recorded = false;
  (q as { then: unknown }).then = function (this: Q, ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) {
    const t0 = performance.now();
    const done = () => { if (!recorded) { recorded = true; addSqlMs(stats, t0); } };
    return then.call(this, (v) => { done(); return ok ? ok(v) : v; }, (e: unknown) => { done(); if (fail) return fail(e); throw e; });
  };
  return q;
}

/** postgres.js client (or transaction) whose statements are timed into `stats`, transactions included. */
function timedPg<T extends object>(pg: T, stats: QueryStats): T {
  return new Proxy(pg, {
    get(target, prop) {
      const t = target as unknown as Record<string | symbol, (...a: unknown[]) => unknown>;
      if (prop === 'unsafe') return (...a: unknown[]) => timedQuery(t.unsafe!(...a) as PromiseLike<unknown>, stats);
      if (prop === 'begin' || prop === 'savepoint') {
        return (...a: unknown[]) => {
          const fn = a.pop() as (tx: object) => unknown;
          return t[prop]!(...a, (tx: object) => fn(timedPg(tx, stats)));
        };
      }
      return Reflect.get(target, prop) as unknown;
    },
  });
}

/** The same for a PGlite instance (or transaction). */
function timedPglite<T extends object>(client: T, stats: QueryStats): T {
  return new Proxy(client, {
    get(target, prop) {
      const t = target as unknown as Record<string | symbol, (...a: unknown[]) => Promise<unknown>>;
      if (prop === 'query') {
        return async (...a: unknown[]) => {
          const t0 = performance.now();
          try {
            return await t.query!.apply(target, a);
          } finally {
            addSqlMs(stats, t0);
          }
        };
      }
      if (prop === 'transaction') return (fn: (tx: object) => unknown) => t.transaction!.call(target, (tx: object) => fn(timedPglite(tx, stats)));
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export type DbOptions = Pick<Config, 'databaseUrl' | 'pgliteDir' | 'databasePoolMax'> & Partial<Pick<Config, 'databaseSsl'>> & {
  /** PGlite only: keep the database in memory (tests). */
  inMemory?: boolean;
  /**
   * PGlite only: 'gateway' takes the directory's lock (or fails: another process has it) and serves the database on
   * a Unix socket; 'cli' (default) works through that socket when a gateway holds the directory, and otherwise
   * takes the lock itself for as long as the handle is open.
   */
  pgliteRole?: 'gateway' | 'cli';
  /** PGlite, role cli: how long to wait for a starting gateway to open its socket (default 60 s). */
  gatewaySocketWaitMs?: number;
  /** PGlite, role gateway: a socket client failed (it was disconnected; its open transaction rolled back). */
  onSocketError?: (err: unknown) => void;
  /** PostgreSQL only: server-side statement_timeout of every pooled connection. */
  statementTimeoutMs?: number;
  /** PostgreSQL only: give up connecting after this long (default 5 s). */
  databaseConnectTimeoutMs?: number;
  /** PostgreSQL only: close connections idle this long (default 60 s; 0 = never). */
  databaseIdleTimeoutMs?: number;
  /** PostgreSQL only: work_mem of every connection (unset: the server's). */
  databaseWorkMem?: string;
  /** PostgreSQL only: read replica for query operations. */
  databaseReplicaUrl?: string;
  /** PostgreSQL only: application_name of the connections (default customer360-gateway). */
  applicationName?: string;
  /** PostgreSQL only: consecutive connection faults that open the pool's circuit breaker (default 3; 0 = off). */
  databaseBreakerThreshold?: number;
  /** PostgreSQL only: probe interval of an open breaker (default 500 ms). */
  databaseBreakerProbeMs?: number;
};

/**
 * A pool behind its circuit breaker: while the database is unreachable, statements fail at once
 * instead of each waiting for a connect attempt (src/db/breaker.ts).
 */
function breakerPool(raw: postgres.Sql, config: DbOptions): { pg: postgres.Sql; breaker: DbBreaker } {
  const breaker = new DbBreaker({
    threshold: config.databaseBreakerThreshold ?? 3,
    probeMs: config.databaseBreakerProbeMs ?? 500,
    probeTimeoutMs: config.databaseConnectTimeoutMs ?? 5_000,
    probe: () => raw`SELECT 1`,
  });
  return { pg: guardedPg(raw, breaker), breaker };
}

function pgClient(url: string, config: DbOptions, applicationName: string): postgres.Sql {
  const tls = config.databaseSsl;
  return postgres(url, {
    max: config.databasePoolMax,
    // postgres.js takes seconds; fractions work (it multiplies by 1000).
    connect_timeout: (config.databaseConnectTimeoutMs ?? 5_000) / 1000,
    idle_timeout: config.databaseIdleTimeoutMs === 0 ? undefined : (config.databaseIdleTimeoutMs ?? 60_000) / 1000,
    // Reconnect delay in seconds. postgres.js counts failed closes across the whole pool and waits
    // 3^n/100 s, up to 20 s: after an outage of a minute the pool would stay away for up to 20 s once
    // the database is back. Capped at 0.5 s: connecting to a down server is cheap (connect_timeout).
    backoff: (retries: number) => Math.min(0.05 * 2 ** Math.max(0, retries - 1), 0.5),
    ...(tls && tls.mode !== 'disable'
      ? { ssl: tls.mode === 'require' ? 'require' : { rejectUnauthorized: true, ...(tls.caFile ? { ca: readFileSync(tls.caFile, 'utf8') } : {}) } }
      : {}),
    onnotice: () => {},
    connection: {
      application_name: applicationName,
      // Behavioural filters over a large base have high cost estimates, and PostgreSQL's JIT then
      // spends seconds compiling a plan that runs in milliseconds (measured: 6 s of JIT on a 4 s
      // filter count over 100,000 customers). The gateway's statements are short: no JIT.
      jit: 'off',
      ...(config.databaseWorkMem ? { work_mem: config.databaseWorkMem } : {}),
      ...(config.statementTimeoutMs ? { statement_timeout: config.statementTimeoutMs } : {}),
    },
  });
}

/**
 * Named prepared statements, cached per connection by text: parse and plan once, not per call.
 * A read whose pooled connection turns out to be gone (the backend was terminated, PostgreSQL
 * restarted, a proxy cut it) is sent once more, on a fresh connection: without it every request in
 * flight when backends die fails, although the next connection would serve it. Only plain SELECTs,
 * which cannot have changed anything, and only for errors that mean "this connection is lost".
 */
function pgFastPath(pg: postgres.Sql, poolMax: number): FastPath {
  const run = (text: string, params: unknown[]) => pg.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true }) as Promise<unknown[]>;
  return async (text, params) => {
    // Every pooled connection may be gone at once, and postgres.js reports a dead one twice (the reset
    // socket, then the buffered FATAL 57P01): up to two failures per connection, then one more try.
    for (let attempt = 1; ; attempt++) {
      try {
        return await run(text, params);
      } catch (e) {
        if (attempt > 2 * poolMax || !connectionLost(e) || !READ_ONLY.test(text)) throw e;
        // Let postgres.js see the socket close first: a query queued at once on the connection that
        // just reported FATAL can wait forever (measured: a hang until the request deadline).
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  };
}
const READ_ONLY = /^\s*SELECT\b/i;
/** The server ended the session (57P01 admin shutdown, 57P02 crash) or the socket closed under the query. */
function connectionLost(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ['57P01', '57P02', 'ECONNRESET', 'EPIPE', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED'].includes(code);
}

export async function openDb(config: DbOptions): Promise<DbHandle> {
  if (config.databaseUrl) {
    const app = config.applicationName ?? 'customer360-gateway';
    const rawPg = pgClient(config.databaseUrl, config, app);
    const { pg, breaker } = breakerPool(rawPg, config);
    const primary = drizzlePostgres(pg, { schema }) as unknown as Db;
    fastPaths.set(primary, pgFastPath(pg, config.databasePoolMax));
    const scopePrimary = (stats: QueryStats) => scopedDb(primary, timedPg(pg, stats), stats, countPrimary);
    const url = config.databaseUrl;
    const unboundedClient = () => pgClient(url, { ...config, databasePoolMax: 1, statementTimeoutMs: undefined }, `${app}-migrate`);
    if (!config.databaseReplicaUrl) {
      scopers.set(primary, scopePrimary);
      return {
        db: primary, driver: 'postgres', pg, unboundedClient, breakers: [{ target: 'primary', breaker }],
        close: () => { breaker.stop(); return rawPg.end({ timeout: 5 }); },
      };
    }
    const rawReplica = pgClient(config.databaseReplicaUrl, config, `${app}-replica`);
    const { pg: replicaPg, breaker: replicaBreaker } = breakerPool(rawReplica, config);
    const replica = drizzlePostgres(replicaPg, { schema }) as unknown as Db;
    fastPaths.set(replica, pgFastPath(replicaPg, config.databasePoolMax));
    // Outside requests (jobs, CLIs, workers) everything runs on the primary; requests get a router.
    scopers.set(primary, (stats) => routedDb(scopePrimary(stats), scopedDb(replica, timedPg(replicaPg, stats), stats, countReplica), stats));
    return {
      db: primary, driver: 'postgres', pg, replicaPg, unboundedClient,
      breakers: [{ target: 'primary', breaker }, { target: 'replica', breaker: replicaBreaker }],
      close: async () => {
        breaker.stop();
        replicaBreaker.stop();
        await Promise.all([rawPg.end({ timeout: 5 }), rawReplica.end({ timeout: 5 })]);
      },
    };
  }
  let dataDir: string | undefined;
  let lock: DirLock | undefined;
  if (!config.inMemory) {
    mkdirSync(config.pgliteDir, { recursive: true });
    dataDir = config.pgliteDir;
    const role = config.pgliteRole ?? 'cli';
    if (role === 'cli') {
      const served = await gatewayOf(config.pgliteDir, config.gatewaySocketWaitMs ?? 60_000);
      if (served) return viaGateway(config, served);
    }
    lock = lockDir(config.pgliteDir, role === 'gateway' ? 'gateway' : 'cli');
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { pg_trgm } });
  } catch (e) {
    lock?.release();
    throw e;
  }
  const db = drizzlePglite(pglite, { schema }) as unknown as Db;
  fastPaths.set(db, async (text, params) => (await pglite.query(text, params as unknown[])).rows);
  scopers.set(db, (stats) => scopedDb(db, timedPglite(pglite, stats), stats, countPrimary));
  const socket = lock && config.pgliteRole === 'gateway' ? await servePgliteSocket(pglite, { onError: config.onSocketError }) : undefined;
  if (socket) lock?.setSocket(socket.path);
  return {
    db, driver: 'pglite', pglite, ...(socket ? { socketPath: socket.path } : {}),
    close: async () => {
      try {
        lock?.setSocket(undefined);
        await socket?.close();
        await pglite.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/**
 * The gateway that holds `dir` and serves it on a socket, or null when the directory is free (or its lock is
 * stale). A gateway that is still starting gets `waitMs` to open its socket; a CLI holding the directory is an
 * error (DirLockedError): one command at a time without a gateway.
 */
async function gatewayOf(dir: string, waitMs: number): Promise<LockInfo | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const holder = lockHolder(dir);
    if (!holder) return null;
    if (holder.role === 'gateway' && holder.socket) return holder;
    if (holder.role !== 'gateway' || Date.now() > deadline) throw new DirLockedError(dir, holder);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A CLI's handle on the gateway's PGlite, over its socket (postgres.js, as for PostgreSQL). */
function viaGateway(config: DbOptions, holder: LockInfo): DbHandle {
  // No connection parameters (statement_timeout, work_mem, jit): PGlite has one session, the gateway's too.
  // Two connections: migrateDb holds its advisory lock on one and migrates on the other. Unnamed statements
  // only: named ones would stay in the shared session after this process is gone.
  const pg = postgres({ path: holder.socket!, max: 2, prepare: false, onnotice: () => {}, connect_timeout: 10, idle_timeout: 0 });
  const db = drizzlePostgres(pg, { schema }) as unknown as Db;
  fastPaths.set(db, (text, params) => pg.unsafe(text, params as postgres.ParameterOrJSON<never>[]) as Promise<unknown[]>);
  scopers.set(db, (stats) => scopedDb(db, timedPg(pg, stats), stats, countPrimary));
  return {
    db, driver: 'postgres', pg, via: { gatewayPid: holder.pid, socket: holder.socket!, dir: config.pgliteDir },
    close: () => pg.end({ timeout: 5 }),
  };
}

/**
 * One request's Db whose every use goes to the replica while the request is routed there
 * (`stats.route`), and to the primary otherwise. Transactions always run on the primary and pin the
 * request to it, so whatever a request reads after it has written comes from the primary.
 */
function routedDb(primary: Db, replica: Db, stats: QueryStats): Db {
  const target = (): Db => (stats.route === 'replica' ? replica : primary);
  const router = new Proxy(primary, {
    get(_t, prop) {
      if (prop === 'transaction') {
        stats.route = 'primary';
        return primary.transaction.bind(primary);
      }
      const db = target();
      const v = Reflect.get(db, prop, db) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(db) : v;
    },
  });
  fastPaths.set(router, (text, params) => {
    const fast = fastPaths.get(target());
    if (!fast) throw new Error('routed database without fast path');
    return fast(text, params);
  });
  statsOfDb.set(router, stats);
  return router;
}

/** Sends the request's remaining statements to the replica (query operations) or the primary. */
export function routeRequest(stats: QueryStats, route: 'primary' | 'replica'): void {
  if (stats.route !== 'primary') stats.route = route;
}

/** `db.execute` returns an array on postgres.js and `{ rows }` on PGlite; this is the one place that knows. */
/**
 * Reads outside a transaction skip Drizzle's session layer and run on the driver directly, as named
 * prepared statements on PostgreSQL (measured: a primary-key read went from 1.2 ms to 0.16 ms).
 * Inside a transaction the query must use the transaction's connection, so it goes through Drizzle.
 */
type FastPath = (text: string, params: unknown[]) => Promise<unknown[]>;
const fastPaths = new WeakMap<object, FastPath>();

/** Rows of a raw statement. `db.execute` returns an array on postgres.js and `{ rows }` on PGlite; this is the one place that knows. */
export async function execRows<T>(db: Pick<Executor, 'execute'>, query: SQL): Promise<T[]> {
  const fast = fastPaths.get(db);
  if (fast) {
    const { sql: text, params } = renderQuery(query);
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
  const [row] = await execRows<Record<string, unknown>>(db, partsStatement(parts));
  return parts.map((_, i) => {
    const v = row?.[`p${i}`];
    return (typeof v === 'string' ? JSON.parse(v) : v ?? []) as unknown[];
  });
}

/** The one statement of `execParts`: column `p<i>` holds part i's rows as a JSON array. */
export function partsStatement(parts: readonly SQL[]): SQL {
  const cols = parts.map((p, i) => sql`(SELECT coalesce(json_agg(${sql.raw(`q${i}`)}), '[]'::json) FROM (${p}) ${sql.raw(`q${i}`)}) AS ${sql.raw(`p${i}`)}`);
  return sql`SELECT ${sql.join(cols, sql`, `)}`;
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
