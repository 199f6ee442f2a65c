import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type postgres from 'postgres';
import type { QueryStats } from '../db/client';

/**
 * Prometheus metrics of one gateway server (its own registry: tests run several servers in one
 * process). The hot path stays cheap: resolvers and statements only bump integers in the request's
 * QueryStats; this records them once per request. No per-field timers.
 */
export interface GatewayMetrics {
  registry: Registry;
  /** One finished GraphQL operation. */
  recordOperation(o: { operationName: string | null; operationType: string | null; outcome: 'ok' | 'error'; seconds: number; codes: readonly string[]; stats: QueryStats | undefined }): void;
  /** One HTTP response of /graphql (including deadline and body errors, which never reach Apollo). */
  recordHttp(status: number): void;
  rateLimited(viewerKind: string): void;
  /** One young-generation collection run while idle (IDLE_GC). */
  idleCollection(): void;
  inFlight: Gauge;
  /** The Prometheus text format. */
  render(): Promise<string>;
  contentType: string;
}

/** Operation names come from clients: keep the label set bounded. */
const MAX_OPERATION_NAMES = 200;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function createMetrics(opts: { pools: { target: 'primary' | 'replica'; pg: postgres.Sql; max: number }[]; defaultMetrics?: boolean }): GatewayMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'c360_' });
  const requests = new Counter({ name: 'c360_graphql_operations_total', help: 'GraphQL operations by operation name, outcome and execution path (compiled, resolvers)', labelNames: ['operation', 'outcome', 'path'], registers: [registry] });
  const duration = new Histogram({
    name: 'c360_graphql_operation_duration_seconds', help: 'GraphQL operation latency (parse to response)', labelNames: ['operation_type', 'outcome'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
  });
  const errors = new Counter({ name: 'c360_graphql_errors_total', help: 'GraphQL errors by extensions.code', labelNames: ['code'], registers: [registry] });
  const http = new Counter({ name: 'c360_http_responses_total', help: 'HTTP responses of /graphql by status', labelNames: ['status'], registers: [registry] });
  const statements = new Counter({ name: 'c360_sql_statements_total', help: 'SQL statements run by GraphQL requests, by database', labelNames: ['target'], registers: [registry] });
  const perRequest = new Histogram({
    name: 'c360_sql_statements_per_operation', help: 'SQL statements per GraphQL operation', buckets: [0, 1, 2, 3, 5, 8, 13, 21, 50, 100], registers: [registry],
  });
  const sqlSeconds = new Histogram({
    name: 'c360_sql_duration_seconds', help: 'Time a GraphQL operation spent waiting on SQL (sum over its statements, Drizzle builder and raw)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [registry],
  });
  const batches = new Histogram({
    name: 'c360_dataloader_batch_size', help: 'Keys per DataLoader batch', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], registers: [registry],
  });
  const rateLimitRejections = new Counter({ name: 'c360_rate_limit_rejections_total', help: 'Requests refused by the rate limiter', labelNames: ['viewer_kind'], registers: [registry] });
  const idleCollections = new Counter({ name: 'c360_idle_gc_total', help: 'Young-generation collections run while no request was in flight (IDLE_GC)', registers: [registry] });
  const inFlight = new Gauge({ name: 'c360_http_requests_in_flight', help: 'HTTP requests being served', registers: [registry] });
  new Gauge({
    name: 'c360_db_pool_max', help: 'Configured pool size per database', labelNames: ['target'], registers: [registry],
    collect() { for (const p of opts.pools) this.set({ target: p.target }, p.max); },
  });
  // postgres.js has no public pool counters; the server's view (this application's backends) is the honest one.
  new Gauge({
    name: 'c360_db_connections', help: 'Connections of this application (application_name) to each database, by state, from pg_stat_activity',
    labelNames: ['target', 'state'], registers: [registry],
    async collect() {
      this.reset();
      for (const p of opts.pools) {
        try {
          const rows = await p.pg<{ state: string | null; n: number }[]>`
            SELECT coalesce(state, 'unknown') AS state, count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = current_setting('application_name') GROUP BY 1`;
          for (const r of rows) this.set({ target: p.target, state: r.state ?? 'unknown' }, r.n);
        } catch {
          this.set({ target: p.target, state: 'unreachable' }, 1);
        }
      }
    },
  });

  const names = new Set<string>();
  const label = (name: string | null): string => {
    if (!name) return 'anonymous';
    if (names.has(name)) return name;
    if (!NAME.test(name) || names.size >= MAX_OPERATION_NAMES) return 'other';
    names.add(name);
    return name;
  };

  return {
    registry,
    inFlight,
    contentType: registry.contentType,
    recordOperation({ operationName, operationType, outcome, seconds, codes, stats }) {
      requests.inc({ operation: label(operationName), outcome, path: stats?.executionPath ?? 'resolvers' });
      duration.observe({ operation_type: operationType ?? 'unknown', outcome }, seconds);
      for (const c of codes) errors.inc({ code: c });
      if (stats) {
        const replica = stats.replicaStatements ?? 0;
        if (stats.statements - replica) statements.inc({ target: 'primary' }, stats.statements - replica);
        if (replica) statements.inc({ target: 'replica' }, replica);
        perRequest.observe(stats.statements);
        if (stats.sqlMs) sqlSeconds.observe(stats.sqlMs / 1000);
        for (const b of stats.batchSizes ?? []) batches.observe(b);
      }
    },
    recordHttp(status) { http.inc({ status: String(status) }); },
    rateLimited(viewerKind) { rateLimitRejections.inc({ viewer_kind: viewerKind }); },
    idleCollection() { idleCollections.inc(); },
    render: () => registry.metrics(),
  };
}
