import type postgres from 'postgres';

/**
 * Database faults: which driver and PostgreSQL errors mean "the database cannot serve now" (clients
 * get SERVICE_UNAVAILABLE, HTTP 503, and retry) or "a statement ran out of time" (TIMEOUT), and a
 * circuit breaker that stops sending statements to a pool whose database is unreachable.
 */

const CIRCUIT_OPEN = 'DB_CIRCUIT_OPEN';

/**
 * A new connection could not be opened: the database is unreachable or refuses sessions. What the
 * breaker counts. (A pooled connection that is lost, 57P01 after pg_terminate_backend or a reset
 * socket, says nothing about the next one: the pool reconnects, and only if that fails does it count.)
 */
const CONNECT_CODES = new Set([
  'ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'CONNECT_TIMEOUT',
  // 53300 too_many_connections, 57P03 cannot_connect_now (starting up, shutting down, in recovery),
  // 08001 / 08004 the server could not establish / rejected the connection.
  '53300', '57P03', '08001', '08004',
  CIRCUIT_OPEN,
]);

/** A connection that was open is gone, or the session was ended by the server. */
const LOST_CODES = new Set([
  'ECONNRESET', 'EPIPE', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED',
  // 57P01 admin_shutdown (pg_terminate_backend, fast shutdown), 57P02 crash_shutdown, 57P04 database_dropped.
  '57P01', '57P02', '57P04',
]);

interface ErrorLike { code?: unknown; severity?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown }

/** The error and what it wraps (Drizzle's `cause`, GraphQL's `originalError`, a connect AggregateError's `errors`). */
function* chain(err: unknown): Generator<ErrorLike> {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length && seen.size < 12) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const x = e as ErrorLike;
    yield x;
    queue.push(x.cause, x.originalError, ...(Array.isArray(x.errors) ? x.errors : []));
  }
}

function isConnectCode(x: ErrorLike): boolean {
  const code = x.code;
  if (typeof code !== 'string') return false;
  if (CONNECT_CODES.has(code)) return true;
  // 55000 object_not_in_prerequisite_state as FATAL at connect: "database … is not currently accepting
  // connections" (ALTER DATABASE … ALLOW_CONNECTIONS false: maintenance, failover).
  return code === '55000' && (x.severity === 'FATAL' || x.severity === 'PANIC');
}

/** No new connection can be opened (refused, timed out, database not accepting sessions). */
export function isConnectFault(err: unknown): boolean {
  for (const x of chain(err)) if (isConnectCode(x)) return true;
  return false;
}

/**
 * The code a database failure answers with: TIMEOUT for a cancelled statement (statement_timeout),
 * SERVICE_UNAVAILABLE when the database cannot serve now (unreachable, refusing connections, out of
 * connections or resources, read-only after a failover), null for anything else (a bug: masked as
 * INTERNAL_SERVER_ERROR and logged).
 */
export function databaseFault(err: unknown): 'TIMEOUT' | 'SERVICE_UNAVAILABLE' | null {
  for (const x of chain(err)) {
    if (x.code === '57014') return 'TIMEOUT';
    if (isConnectCode(x) || (typeof x.code === 'string' && (LOST_CODES.has(x.code) || x.code.startsWith('08')))) return 'SERVICE_UNAVAILABLE';
    // 53xxx insufficient_resources (disk full, out of memory, configuration limit), 25006
    // read_only_sql_transaction (a write reached a standby: failover in progress).
    if (typeof x.code === 'string' && (x.code.startsWith('53') || x.code === '25006')) return 'SERVICE_UNAVAILABLE';
  }
  return null;
}

/** Thrown instead of sending a statement while the breaker is open. */
export class CircuitOpenError extends Error {
  readonly code = CIRCUIT_OPEN;
  constructor() {
    super('database unreachable: circuit breaker open, statement not sent');
    this.name = 'CircuitOpenError';
  }
}

export interface BreakerOptions {
  /** Consecutive connect faults (isConnectFault) that open the breaker (0 = never opens). */
  threshold: number;
  /** While open: how often the probe (`SELECT 1` on the pool) checks whether the database is back. */
  probeMs: number;
  /** A probe that has not answered after this long counts as a connect fault. */
  probeTimeoutMs: number;
  probe: () => Promise<unknown>;
}

export type BreakerListener = (state: 'open' | 'closed', err?: unknown) => void;

/**
 * A circuit breaker in front of one postgres.js pool. Closed: statements go through. A connect fault
 * (isConnectFault) starts a probe (`SELECT 1` on the pool, every `probeMs`, bounded by `probeTimeoutMs`)
 * whose outcomes count too, so the breaker learns the database's state without waiting for traffic;
 * `threshold` faults in a row (no success between them) open it. Open: every statement fails at once
 * with CircuitOpenError, without touching the pool (no connect attempt, no queueing behind the connect
 * timeout), reads still waiting in the pool are failed too (guardedPg), and the first probe that
 * succeeds closes it. Requests never probe.
 */
export class DbBreaker {
  state: 'closed' | 'open' = 'closed';
  /** Statements refused while open. */
  rejected = 0;
  /** Statements handed to the pool (passed the breaker). */
  sent = 0;
  /** Times the breaker opened. */
  opened = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private stopped = false;
  private readonly listeners: BreakerListener[] = [];

  constructor(private readonly opts: BreakerOptions) {}

  /** Told when the breaker opens (with the fault that opened it) and closes (logs). */
  onChange(fn: BreakerListener): void { this.listeners.push(fn); }

  /** Before a statement: throws CircuitOpenError while open. */
  check(): void {
    if (this.state === 'open') {
      this.rejected++;
      throw new CircuitOpenError();
    }
    this.sent++;
  }

  /** After a statement settled: a connect fault counts; a success or an SQL error (the database answered) resets. */
  settled(err?: unknown): void {
    if (err instanceof CircuitOpenError) return;
    if (err !== undefined && isConnectFault(err)) return this.fault(err);
    // A lost connection says nothing either way (the pool reconnects for the next statement).
    if (err !== undefined && databaseFault(err) === 'SERVICE_UNAVAILABLE') return;
    if (this.state === 'closed') this.failures = 0;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private fault(err: unknown): void {
    if (this.opts.threshold <= 0) return;
    this.failures++;
    if (this.state === 'closed' && this.failures >= this.opts.threshold) {
      this.state = 'open';
      this.opened++;
      for (const fn of this.listeners) fn('open', err);
    }
    if (!this.probing) this.scheduleProbe();
  }

  /** Probes until one succeeds: then the breaker is closed and the count of faults is zero. */
  private scheduleProbe(): void {
    if (this.stopped) return;
    this.probing = true;
    this.timer = setTimeout(() => {
      let timer: NodeJS.Timeout | undefined;
      const bounded = Promise.race([
        this.opts.probe(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(Object.assign(new Error('probe timed out'), { code: 'CONNECT_TIMEOUT' })), this.opts.probeTimeoutMs); }),
      ]);
      bounded.then(() => {
        clearTimeout(timer);
        this.probing = false;
        this.failures = 0;
        if (this.state === 'open') {
          this.state = 'closed';
          for (const fn of this.listeners) fn('closed');
        }
      }, (e: unknown) => {
        clearTimeout(timer);
        if (isConnectFault(e)) this.fault(e);
        this.scheduleProbe();
      });
    }, this.opts.probeMs);
    this.timer.unref();
  }
}

const READ_ONLY = /^\s*(\/\*[^]*?\*\/\s*)?(SELECT|WITH\s+[^]*\bSELECT)\b/i;
const WRITES = /\b(INSERT|UPDATE|DELETE|MERGE|COPY|CALL|LOCK|CREATE|ALTER|DROP|TRUNCATE|REFRESH)\b/i;

/**
 * Sends the settling of a postgres.js pending query through `done` (without running it early: the
 * query starts when awaited). `abort`, when given, registers a way to fail it from outside.
 */
function observed<Q extends PromiseLike<unknown>>(q: Q, done: (err?: unknown) => void, abortable?: Set<(e: Error) => void>): Q {
  const then = q.then;
  (q as { then: unknown }).then = function (this: Q, ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) {
    let abort: ((e: Error) => void) | undefined;
    const settled = new Promise<unknown>((resolve, reject) => {
      then.call(this, resolve, reject);
      if (abortable) { abort = reject; abortable.add(abort); }
    });
    const forget = () => { if (abort) abortable?.delete(abort); };
    return settled.then((v) => { forget(); done(); return ok ? ok(v) : v; }, (e: unknown) => { forget(); done(e); if (fail) return fail(e); throw e; });
  };
  return q;
}

/**
 * The pool behind `breaker`: `unsafe` (Drizzle's statements and the fast path) and `begin`
 * (transactions) pass the breaker first and report how they ended. The tagged-template form (COPY,
 * the probe) goes straight to the pool. When the breaker opens, reads still waiting in the pool fail
 * at once too (measured: with the database refusing sessions, postgres.js can leave a queued query
 * waiting until the request deadline); a write waits for its own outcome (it may have committed).
 */
export function guardedPg(pg: postgres.Sql, breaker: DbBreaker): postgres.Sql {
  const waitingReads = new Set<(e: Error) => void>();
  breaker.onChange((state) => {
    if (state !== 'open') return;
    for (const abort of [...waitingReads]) abort(new CircuitOpenError());
    waitingReads.clear();
  });
  return new Proxy(pg, {
    get(target, prop) {
      const t = target as unknown as Record<string | symbol, (...a: unknown[]) => unknown>;
      if (prop === 'unsafe') {
        return (...a: unknown[]) => {
          breaker.check();
          let reported = false;
          const text = typeof a[0] === 'string' ? a[0] : '';
          const read = READ_ONLY.test(text) && !WRITES.test(text);
          return observed(t.unsafe!(...a) as PromiseLike<unknown>, (err) => { if (!reported) { reported = true; breaker.settled(err); } }, read ? waitingReads : undefined);
        };
      }
      if (prop === 'begin') {
        return (...a: unknown[]) => {
          breaker.check();
          return (t.begin!(...a) as Promise<unknown>).then((v) => { breaker.settled(); return v; }, (e: unknown) => { breaker.settled(e); throw e; });
        };
      }
      return Reflect.get(target, prop) as unknown;
    },
  });
}
