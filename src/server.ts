import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { ApolloServer, HeaderMap, type BaseContext } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import { Kind, type GraphQLFormattedError } from 'graphql';
import { AuditWriter, RequestAudit } from './auth/audit';
import { authenticate, rowScopeOf } from './auth/viewer';
import { compileCustomerFilter } from './modules/profile';
import { resolveAuthSettings } from './auth/token';
import { configureBlindIndexKey, configureFieldEncryption, resolveKeyring } from './lib/crypto';
import { resolvePrivacyHashKey } from './auth/privacy';
import type { Config } from './config';
import type { Context } from './context';
import type { QueryStats } from './db/client';
import { requestDb, routeRequest, type Db, type DbHandle } from './db/client';
import { checkSchemaCurrent } from './db/migrate';
import { databaseFault } from './db/breaker';
import { registerBreakers, unavailableStatusPlugin } from './ops/db-outage';
import { fieldErrorStatusPlugin, forbidden, isErrorCode, rateLimited, serviceUnavailable } from './errors';
import { ARMOR_REJECTION, armorProtection, costBudgetPlugin, suggestionGuardPlugin } from './auth/limits';
import { createRateLimiter } from './auth/rate-limit';
import { createLoaders } from './loaders';
import { inputGuardPlugin, introspectionGuardPlugin } from './lib/input-guard';
import type { Logger } from './logger';
import { createMetrics, type GatewayMetrics } from './ops/metrics';
import { createIdleCollector } from './ops/idle-gc';
import { createRegistrationCache, loadManifest, PersistedOperationStore, persistedQueryOf } from './ops/persisted';
import { ShutdownRegistry } from './ops/shutdown';
import { auditedAdminFields, buildBareSchema, buildSchema } from './schema';
import { compiledReadsPlugin } from './plan/index';
import { attachSubscriptions } from './modules/automation';
import { createCors } from './http/cors';
import { serveIde } from './http/ide';

/** Apollo's own codes for malformed requests, folded into the closed list. */
const CLIENT_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED',
]);

const APQ_REFUSALS = new Set(['provided sha does not match query', 'Unsupported persisted query version']);

export interface BuildServerOptions {
  config: Config;
  db: Db;
  logger: Logger;
  /** Benchmarks only: serve without the shield middleware. */
  shield?: boolean;
  /** Benchmarks only: serve without the field privacy middleware. */
  privacy?: boolean;
  /**
   * Benchmarks only: serve without the gateway's own Apollo plugins (request log and metrics, input,
   * introspection and suggestion guards, armor, cost budget, audit) and armor's validation rules.
   */
  plugins?: boolean;
  /** The database clients behind `db`, for pool metrics (PostgreSQL only). */
  handle?: Pick<DbHandle, 'pg' | 'replicaPg' | 'breakers'>;
}

export interface GatewayServer {
  apollo: ApolloServer<Context>;
  http: Server;
  /** Writes buffered audit entries now (tests; shutdown does it too). */
  flushAudit(): Promise<void>;
  /** Stops Apollo and closes the HTTP server (does not close the database). */
  stop(): Promise<void>;
  /**
   * Graceful stop (SIGTERM): /readyz answers 503, the listener closes, requests in flight finish
   * (at most `timeoutMs`, then their connections are cut), then the shutdown hooks run: `flush`
   * (audit writer, outbox writers) and `close` (pool: index.ts registers it). Resolves true when
   * every in-flight request finished in time.
   */
  drain(timeoutMs?: number): Promise<boolean>;
  /** Hooks joined to the shutdown sequence (webhook dispatchers, outboxes: `shutdown.add(name, fn)`). */
  shutdown: ShutdownRegistry;
  metrics: GatewayMetrics;
  /** Requests being served right now. */
  inFlight(): number;
}

/** Builds the Apollo server and its HTTP front; does not listen (tests and index.ts do). */
export async function buildServer({ config, db, logger, shield = true, privacy = true, plugins = true, handle }: BuildServerOptions): Promise<GatewayServer> {
  const auth = resolveAuthSettings(config);
  // One keyring per process: repositories encrypt and decrypt with it (src/lib/crypto.ts), and key blind indexes with PRIVACY_HASH_KEY.
  configureFieldEncryption(resolveKeyring(config));
  configureBlindIndexKey(resolvePrivacyHashKey(config));
  const dev = config.stackTraces;
  const schema = buildSchema({ shield, privacy, hashKey: resolvePrivacyHashKey(config), federation: config.federation });
  const armor = armorProtection(config);
  // A Redis outage degrades rate limiting to per-instance buckets; say so at most every 30 s.
  let redisWarnedAt = 0;
  const limiter = createRateLimiter(config, (err) => {
    if (Date.now() - redisWarnedAt < 30_000) return;
    redisWarnedAt = Date.now();
    logger.warn({ err }, 'rate limiter: Redis unavailable, limiting in memory for now');
  });
  const auditWriter = new AuditWriter(db, logger, { bufferMax: config.audit.bufferMax, spillFile: config.audit.spillFile, retryMaxMs: config.audit.retryMaxMs });
  const auditAccepting = () => auditWriter.accepting;
  const shutdown = new ShutdownRegistry();
  shutdown.add('audit', () => auditWriter.close());
  shutdown.add('rate-limiter', () => limiter.close(), 'close');
  const metrics = createMetrics({
    pools: [
      ...(handle?.pg ? [{ target: 'primary' as const, pg: handle.pg, max: config.databasePoolMax }] : []),
      ...(handle?.replicaPg ? [{ target: 'replica' as const, pg: handle.replicaPg, max: config.databasePoolMax }] : []),
    ],
  });
  registerBreakers(handle?.breakers ?? [], metrics.registry, logger);
  const registrations = createRegistrationCache(config.redisUrl, logger);
  shutdown.add('apq-redis', () => registrations.close(), 'close');
  const persisted = new PersistedOperationStore(config.persistedOperationsFile ? loadManifest(config.persistedOperationsFile) : new Map(), registrations);

  const apollo = new ApolloServer<Context>({
    schema,
    validationRules: plugins ? armor.validationRules : [],
    allowBatchedHttpRequests: false,
    parseOptions: { maxTokens: config.limits.maxTokens },
    // Parsed and validated documents, by query hash; sized in MiB (each entry's JSON length).
    documentStore: config.documentCacheMb > 0 ? new InMemoryLRUCache({ maxSize: Math.round(config.documentCacheMb * 1024 * 1024) }) : null,
    persistedQueries: { cache: persisted, ttl: config.apqTtlSeconds || null },
    introspection: config.nodeEnv !== 'production',
    includeStacktraceInErrorResponses: dev,
    // The gateway's drain owns SIGTERM/SIGINT (index.ts -> drain()): Apollo's own handler (on unless
    // NODE_ENV=test) stopped Apollo at once while the drain still served open connections (HTTP 500).
    stopOnTerminationSignals: false,
    plugins: [
      // No cache hints, no Apollo Studio: these plugins would otherwise visit every field.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      fieldErrorStatusPlugin<Context>(),
      // Apollo's landing page loads Sandbox from Apollo's CDN; the IDE is served by src/http/ide.ts.
      ApolloServerPluginLandingPageDisabled(),
      ...(plugins ? [
        requestLogPlugin(logger, metrics),
        inputGuardPlugin<Context>(),
        introspectionGuardPlugin<Context>(),
        suggestionGuardPlugin(),
        ...(armor.plugins as ApolloServerPlugin<Context>[]),
        costBudgetPlugin(schema, config),
        auditPlugin(auditWriter),
      ] : []),
      unavailableStatusPlugin(),
      // The compiled read path (src/plan/): only where the shield and the privacy policy are both on.
      ...(config.compiledReads && shield && privacy && !config.federation ? [compiledReadsPlugin({
        schema: buildBareSchema(), hashKey: resolvePrivacyHashKey(config), maxPlans: config.compiledPlanCache, includeStacktrace: dev,
        formatError: (formatted, error) => formatError(formatted, error, logger, dev),
        didEncounterErrors: (errors, ctx) => { for (const e of errors) errorRequestIds.set(e, ctx.requestId); },
      })] : []),
    ],
    formatError: (formatted, error) => formatError(formatted, error, logger, dev),
  });
  await apollo.start();

  const cors = createCors(config.corsOrigins);
  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  // Scavenges between requests instead of inside them (IDLE_GC, src/ops/idle-gc.ts).
  const idleGc = config.idleGc ? createIdleCollector({ fill: config.idleGcFill, busy: () => inFlight > 0, onCollect: () => metrics.idleCollection() }) : null;
  if (config.idleGc && !idleGc) logger.warn('IDLE_GC: V8 did not expose gc(); collecting only when V8 decides to');
  // Connections whose last response promised keep-alive and which have not brought a new request yet.
  const keptAlive = new Set<Socket>();
  const watched = new WeakSet<Socket>();
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const startedAt = performance.now();
    const socket = req.socket;
    keptAlive.delete(socket);
    if (!watched.has(socket)) {
      watched.add(socket);
      socket.once('close', () => keptAlive.delete(socket));
    }
    res.once('finish', () => {
      if (!socket.destroyed && !/close/i.test(String(res.getHeader('connection') ?? ''))) keptAlive.add(socket);
    });
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    // While draining, tell keep-alive clients not to reuse this connection (they reconnect elsewhere).
    // Checked again when the response is written: a request already running when SIGTERM came
    // answers with `connection: close` too, so its client does not send the next request on a socket
    // the drain is about to close (that race surfaced as ECONNRESET in the shutdown test).
    const closeIfDraining = () => { if (draining && !res.headersSent) res.setHeader('connection', 'close'); };
    closeIfDraining();
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Browser clients: CORS (CORS_ORIGINS, preflights answered here) and the IDE (GRAPHQL_IDE); src/http.
    if (url.pathname === '/graphql' && cors(req, res)) return;
    if (config.graphqlIde && await serveIde(req, res, url)) return;
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      if (draining) return sendJson(res, 503, { status: 'unavailable', reason: 'shutting down' });
      const ready = await readiness(db);
      return sendJson(res, ready.ok ? 200 : 503, ready.ok ? { status: 'ready' } : { status: 'unavailable', reason: ready.reason });
    }
    if (url.pathname === '/metrics' && config.metricsEnabled) {
      res.writeHead(200, { 'content-type': metrics.contentType });
      res.end(await metrics.render());
      return;
    }
    if (url.pathname !== '/graphql') return sendJson(res, 404, { errors: [{ message: 'Not found: POST /graphql', extensions: { code: 'NOT_FOUND' } }] });
    inFlight++;
    metrics.inFlight.inc();
    res.once('close', () => {
      inFlight--;
      metrics.inFlight.dec();
      metrics.recordHttp(res.statusCode);
      if (inFlight === 0) {
        idle?.();
        idleGc?.idle();
      }
    });

    let body: unknown;
    if (req.method === 'POST') {
      const raw = await readBody(req, config.bodyLimitBytes);
      if (raw === null) return sendJson(res, 413, gqlError(`Request body larger than ${config.bodyLimitBytes} bytes`, 'BAD_USER_INPUT'));
      const type = req.headers['content-type'] ?? '';
      if (type.includes('application/json')) {
        try {
          body = raw.length ? JSON.parse(raw) : undefined;
        } catch {
          return sendJson(res, 400, gqlError('Request body is not valid JSON', 'BAD_USER_INPUT'));
        }
      } else {
        body = raw;
      }
    }

    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    const stats: QueryStats = { statements: 0, requestId, batchSizes: [] };
    // Everything this request runs goes through its own Db view: counted, timed, replica-routed.
    const rdb = requestDb(db, stats);
    const deadline = Date.now() + config.requestTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    // The response is bounded by the deadline; queries still running are bounded by statement_timeout.
    const expired = new Promise<'deadline'>((resolve) => { timer = setTimeout(() => resolve('deadline'), config.requestTimeoutMs); });
    try {
      const result = await Promise.race([expired, apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: async (): Promise<Context> => {
          const apiKey = req.headers['x-api-key'];
          const viewer = await authenticate({ authorization: req.headers.authorization, apiKey: Array.isArray(apiKey) ? apiKey[0] : apiKey }, auth, rdb)
            .catch((e: unknown) => { throw databaseErrorCode(e) ? serviceUnavailable('The database is unavailable; retry shortly') : e; });
          const bucket = await limiter.take(`${viewer.kind}:${viewer.id}`, viewer.kind === 'apiKey' ? { perMinute: viewer.rateLimitPerMinute, burst: viewer.rateLimitBurst } : undefined);
          if (!bucket.allowed) {
            metrics.rateLimited(viewer.kind);
            throw rateLimited(bucket.retryAfterSeconds);
          }
          if (viewer.kind === 'apiKey' && viewer.persistedOnly) {
            // Only the manifest's operations: an APQ hash anyone registered would let the key run any document.
            const pq = persistedQueryOf(body, url.searchParams);
            if (!pq.hash) throw forbidden('This API key accepts only persisted operations: send extensions.persistedQuery.sha256Hash');
            if (!persisted.inManifest(pq.hash)) throw forbidden('This API key accepts only the operations of the persisted-operation manifest (PERSISTED_OPERATIONS_FILE)');
          }
          const scope = rowScopeOf(viewer);
          const rowScope = scope ? compileCustomerFilter(scope, config) : undefined;
          return { viewer, loaders: createLoaders(rdb, rowScope), db: rdb, stats, config, logger, requestId, deadline, rowScope, audit: new RequestAudit(auditAccepting) };
        },
      })]);
      closeIfDraining();
      if (result === 'deadline') {
        logger.warn({ requestId }, 'request deadline exceeded');
        return sendJson(res, 504, gqlError(`The request took longer than ${config.requestTimeoutMs} ms`, 'TIMEOUT', requestId));
      }
      clearTimeout(timer);
      for (const [k, v] of result.headers) res.setHeader(k, v);
      if (config.sqlCountHeader) {
        res.setHeader('x-sql-statements', String(stats.statements));
        // Where the request's time went, for browser dev tools and the benchmarks: SQL wall time
        // (overlapping statements add up) and the whole request up to here.
        // The execution path that answered: `compiled;dur=` (plan execution) or `resolvers`.
        const path = stats.executionPath === 'compiled' ? `compiled;dur=${(stats.executionMs ?? 0).toFixed(2)}` : 'resolvers';
        res.setHeader('server-timing', `sql;dur=${(stats.sqlMs ?? 0).toFixed(2)};desc="${stats.statements} statements", ${path}, total;dur=${(performance.now() - startedAt).toFixed(2)}`);
      }
      res.statusCode = result.status ?? 200;
      if (result.body.kind === 'complete') {
        res.end(result.body.string);
      } else {
        for await (const chunk of result.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } catch (e) {
      clearTimeout(timer);
      closeIfDraining();
      logger.error({ err: e, requestId }, 'request failed outside GraphQL execution');
      if (!res.headersSent) sendJson(res, 500, gqlError('Internal server error', 'INTERNAL_SERVER_ERROR', requestId));
      else res.end();
    }
  };

  const http = createServer((req, res) => {
    handler(req, res).catch((e: unknown) => {
      logger.error({ err: e }, 'unhandled request error');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  http.keepAliveTimeout = 65_000;
  // graphql-ws on upgrade requests to /graphql (same schema, same JWT via connectionParams).
  const subscriptions = attachSubscriptions({ http, schema, db, config, logger });

  return {
    apollo,
    http,
    shutdown,
    metrics,
    inFlight: () => inFlight,
    flushAudit: () => auditWriter.flush(),
    async stop() {
      idleGc?.close();
      await subscriptions.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await apollo.stop();
      await limiter.close();
      await auditWriter.close();
      await registrations.close();
    },
    async drain(timeoutMs = config.shutdownTimeoutMs) {
      draining = true;
      // net.Server's close: stop accepting but keep open connections. (http.Server#close would also cut
      // idle keep-alive connections at once, racing clients that are just sending on them.) Requests
      // arriving on open connections are served with `connection: close`, so clients move on.
      const closed = new Promise<void>((resolve) => netClose.call(http, () => resolve()));
      const deadline = Date.now() + timeoutMs;
      const settle = async (): Promise<boolean> => {
        if (inFlight === 0) return true;
        let timer: NodeJS.Timeout | undefined;
        const done = await Promise.race([
          new Promise<true>((resolve) => { idle = () => resolve(true); }),
          new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now())); }),
        ]);
        clearTimeout(timer);
        return done;
      };
      let finished = await settle();
      // Before cutting idle keep-alive connections, wait for the ones whose last response (sent before
      // the drain) promised keep-alive: their client may be sending the next request right now (in the
      // socket buffer, not parsed yet), and cutting the socket then is an ECONNRESET for a request the
      // client believes was sent. Each such connection either brings a request (served with
      // `connection: close`), is closed by its client, or stays quiet for SHUTDOWN_LINGER_MS.
      const lingerUntil = Math.min(deadline, Date.now() + SHUTDOWN_LINGER_MS);
      while (finished && Date.now() < lingerUntil) {
        if (inFlight > 0) { finished = await settle(); continue; }
        if (keptAlive.size === 0) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      if (!finished) logger.warn({ inFlight, timeoutMs }, 'shutdown: requests still in flight after the timeout; closing their connections');
      http.closeIdleConnections();
      if (!finished) http.closeAllConnections();
      await closed;
      // Last: no request can reach Apollo any more.
      await apollo.stop();
      await shutdown.run(logger);
      return finished;
    },
  };
}

const netClose = NetServer.prototype.close;
/** How long a draining server waits at most for keep-alive connections to bring their next request. */
const SHUTDOWN_LINGER_MS = 2_000;

/** Mutations are audited as WRITE (key management and erasure as ADMIN); reads of @pii fields as READ. */
const ADMIN_FIELDS = auditedAdminFields();
function auditPlugin(writer: AuditWriter): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, operation, operationName }) {
          if (!contextValue?.audit || !contextValue.viewer) return;
          const roots = operation?.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : [])) ?? [];
          const admin = roots.filter((f) => ADMIN_FIELDS.has(f));
          // Resolvers that know the customer (export, erasure) note it themselves.
          if (admin.length && !contextValue.audit.hasActions) contextValue.audit.noteAction('ADMIN', null, admin);
          else if (operation?.operation === 'mutation' && !contextValue.audit.hasActions) contextValue.audit.noteAction('WRITE', null, roots);
          writer.push(contextValue.audit.entries(contextValue.viewer, contextValue.requestId, operationName ?? null));
        },
      };
    },
  };
}

/** One structured line per operation: request id, operation, duration, viewer kind, outcome. Never PII. */
function requestLogPlugin(logger: Logger, metrics: GatewayMetrics): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async didEncounterErrors({ errors }) {
          // formatError runs next with the same error objects but without the request: note its id.
          if (contextValue?.requestId) for (const e of errors) errorRequestIds.set(e, contextValue.requestId);
        },
        async didResolveOperation({ operation }) {
          // Read replica: queries read there; mutations stay on the primary for the whole request.
          if (contextValue?.stats) routeRequest(contextValue.stats, operation?.operation === 'query' ? 'replica' : 'primary');
        },
        async willSendResponse({ response, operationName: resolvedName, errors, operation, request }) {
          // Before validation passes Apollo knows only the name the client sent.
          const operationName = resolvedName ?? request.operationName;
          const single = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          // The codes clients see (after formatError), else the raw ones.
          const codes = [...new Set((single ?? errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
          const outcome = codes.length ? 'error' : 'ok';
          const seconds = (performance.now() - started) / 1000;
          metrics.recordOperation({ operationName: operationName ?? null, operationType: operation?.operation ?? null, outcome, seconds, codes, stats: contextValue?.stats });
          logger.info({
            requestId: contextValue?.requestId,
            operationName: operationName ?? null,
            viewer: contextValue?.viewer ? { kind: contextValue.viewer.kind, role: contextValue.viewer.role } : null,
            ms: Math.round(seconds * 10_000) / 10,
            statements: contextValue?.stats?.statements,
            outcome,
            ...(codes.length ? { codes } : {}),
          }, 'graphql request');
        },
      };
    },
  };
}

const errorRequestIds = new WeakMap<object, string>();
const requestIdOfError = (error: unknown): string | undefined =>
  (typeof error === 'object' && error !== null ? errorRequestIds.get(error) : undefined);

/**
 * Keeps codes from the closed list (with their messages); everything else becomes
 * INTERNAL_SERVER_ERROR with a generic message, logged with the request id.
 */
function formatError(formatted: GraphQLFormattedError, error: unknown, logger: Logger, dev: boolean): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  const { http: _http, stacktrace, ...ext } = formatted.extensions ?? {};
  const keep = (c: string) => ({
    ...formatted,
    extensions: { ...ext, code: c, ...(dev && stacktrace ? { stacktrace } : {}) },
  });
  if (ARMOR_REJECTION.test(formatted.message)) {
    return { ...keep('QUERY_TOO_COMPLEX'), message: formatted.message.replace(/^Syntax Error: /, '') };
  }
  if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) return keep('BAD_USER_INPUT');
  // Apollo's APQ refusals carry no code of their own.
  if (APQ_REFUSALS.has(formatted.message)) return keep('BAD_USER_INPUT');
  const dbCode = databaseErrorCode(unwrapResolverError(error));
  if (dbCode === 'TIMEOUT' || dbCode === 'SERVICE_UNAVAILABLE') {
    logger.warn({ err: unwrapResolverError(error), requestId: requestIdOfError(error) }, 'database error');
    return {
      message: dbCode === 'TIMEOUT' ? 'A database statement took longer than its timeout' : 'The database is unavailable; retry shortly',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: dbCode },
    };
  }
  if (isErrorCode(code) && code !== 'INTERNAL_SERVER_ERROR') return keep(code);
  const requestId = requestIdOfError(error);
  logger.error({ err: unwrapResolverError(error), requestId, path: formatted.path }, 'internal error');
  return {
    message: 'Internal server error',
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}), ...(dev && stacktrace ? { stacktrace } : {}) },
  };
}

/** Database reachable (within 2 s) and migrations current. */
async function readiness(db: Db): Promise<{ ok: true } | { ok: false; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeoutP = new Promise<{ ok: false; reason: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: 'database did not answer within 2 s' }), 2000);
  });
  try {
    return await Promise.race([
      checkSchemaCurrent(db).catch(() => ({ ok: false as const, reason: 'database unreachable' })),
      timeoutP,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Database faults with a code of their own (TIMEOUT, SERVICE_UNAVAILABLE): src/db/breaker.ts. */
const databaseErrorCode = databaseFault;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Reads the body up to `limit` bytes; null when it is larger (the rest is drained, not buffered). */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) { over = true; chunks.length = 0; return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function gqlError(message: string, code: string, requestId?: string) {
  return { errors: [{ message, extensions: { code, ...(requestId ? { requestId } : {}) } }] };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

export type { BaseContext };
