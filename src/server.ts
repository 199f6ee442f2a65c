import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type BaseContext } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { Kind, type GraphQLFormattedError } from 'graphql';
import { AuditWriter, RequestAudit } from './auth/audit';
import { authenticate, rowScopeOf } from './auth/viewer';
import { compileCustomerFilter } from './modules/profile/customer-filter';
import { resolveAuthSettings } from './auth/token';
import { configureFieldEncryption, resolveKeyring } from './lib/crypto';
import { resolvePrivacyHashKey } from './auth/privacy';
import type { Config } from './config';
import type { Context } from './context';
import { queryStats, type Db } from './db/client';
import { checkSchemaCurrent } from './db/migrate';
import { isErrorCode, rateLimited } from './errors';
import { ARMOR_REJECTION, armorProtection, costBudgetPlugin, suggestionGuardPlugin } from './auth/limits';
import { createRateLimiter } from './auth/rate-limit';
import { createLoaders } from './loaders';
import { inputGuardPlugin, introspectionGuardPlugin } from './lib/input-guard';
import type { Logger } from './logger';
import { buildSchema } from './schema';
import { attachSubscriptions } from './modules/automation/subscriptions';

/** Apollo's own codes for malformed requests, folded into the closed list. */
const CLIENT_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED',
]);

export interface BuildServerOptions {
  config: Config;
  db: Db;
  logger: Logger;
  /** Benchmarks only: serve without the shield middleware. */
  shield?: boolean;
  /** Benchmarks only: serve without the field privacy middleware. */
  privacy?: boolean;
}

export interface GatewayServer {
  apollo: ApolloServer<Context>;
  http: Server;
  /** Writes buffered audit entries now (tests; shutdown does it too). */
  flushAudit(): Promise<void>;
  /** Stops Apollo and closes the HTTP server (does not close the database). */
  stop(): Promise<void>;
}

/** Builds the Apollo server and its HTTP front; does not listen (tests and index.ts do). */
export async function buildServer({ config, db, logger, shield = true, privacy = true }: BuildServerOptions): Promise<GatewayServer> {
  const auth = resolveAuthSettings(config);
  // One keyring per process: repositories encrypt and decrypt with it (src/lib/crypto.ts).
  configureFieldEncryption(resolveKeyring(config));
  const dev = config.nodeEnv === 'development';
  const schema = buildSchema({ shield, privacy, hashKey: resolvePrivacyHashKey(config) });
  const armor = armorProtection(config);
  const limiter = createRateLimiter(config);
  const auditWriter = new AuditWriter(db, logger);

  const apollo = new ApolloServer<Context>({
    schema,
    validationRules: armor.validationRules,
    allowBatchedHttpRequests: false,
    parseOptions: { maxTokens: config.limits.maxTokens },
    introspection: config.nodeEnv !== 'production',
    includeStacktraceInErrorResponses: dev,
    plugins: [
      // No cache hints, no Apollo Studio: these plugins would otherwise visit every field.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ...(config.nodeEnv === 'production' ? [ApolloServerPluginLandingPageDisabled()] : []),
      requestLogPlugin(logger),
      inputGuardPlugin<Context>(),
      introspectionGuardPlugin<Context>(),
      suggestionGuardPlugin(),
      ...(armor.plugins as ApolloServerPlugin<Context>[]),
      costBudgetPlugin(schema, config),
      auditPlugin(auditWriter),
    ],
    formatError: (formatted, error) => formatError(formatted, error, logger, dev),
  });
  await apollo.start();

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const ready = await readiness(db);
      return sendJson(res, ready.ok ? 200 : 503, ready.ok ? { status: 'ready' } : { status: 'unavailable', reason: ready.reason });
    }
    if (url.pathname !== '/graphql') return sendJson(res, 404, { errors: [{ message: 'Not found: POST /graphql', extensions: { code: 'NOT_FOUND' } }] });

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
    const stats = { statements: 0, requestId };
    const deadline = Date.now() + config.requestTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    // The response is bounded by the deadline; queries still running are bounded by statement_timeout.
    const expired = new Promise<'deadline'>((resolve) => { timer = setTimeout(() => resolve('deadline'), config.requestTimeoutMs); });
    try {
      const result = await Promise.race([expired, queryStats.run(stats, () => apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: async (): Promise<Context> => {
          const apiKey = req.headers['x-api-key'];
          const viewer = await authenticate({ authorization: req.headers.authorization, apiKey: Array.isArray(apiKey) ? apiKey[0] : apiKey }, auth, db);
          const bucket = await limiter.take(`${viewer.kind}:${viewer.id}`, viewer.kind === 'apiKey' ? viewer.rateLimitPerMinute : null);
          if (!bucket.allowed) throw rateLimited(bucket.retryAfterSeconds);
          const scope = rowScopeOf(viewer);
          const rowScope = scope ? compileCustomerFilter(scope, config) : undefined;
          return { viewer, loaders: createLoaders(db, rowScope), db, config, logger, requestId, deadline, rowScope, audit: new RequestAudit() };
        },
      }))]);
      if (result === 'deadline') {
        logger.warn({ requestId }, 'request deadline exceeded');
        return sendJson(res, 504, gqlError(`The request took longer than ${config.requestTimeoutMs} ms`, 'TIMEOUT', requestId));
      }
      clearTimeout(timer);
      for (const [k, v] of result.headers) res.setHeader(k, v);
      if (config.sqlCountHeader) res.setHeader('x-sql-statements', String(stats.statements));
      res.statusCode = result.status ?? 200;
      if (result.body.kind === 'complete') {
        res.end(result.body.string);
      } else {
        for await (const chunk of result.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } catch (e) {
      clearTimeout(timer);
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
    flushAudit: () => auditWriter.flush(),
    async stop() {
      await subscriptions.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await apollo.stop();
      await limiter.close();
      await auditWriter.close();
    },
  };
}

/** Mutations are audited as WRITE (key management and erasure as ADMIN); reads of @pii fields as READ. */
const ADMIN_FIELDS = new Set(['createApiKey', 'revokeApiKey', 'eraseCustomer', 'exportCustomerData', 'apiKeys', 'auditLog']);
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
function requestLogPlugin(logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async willSendResponse({ response, operationName, errors }) {
          const codes = [...new Set((errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
          const single = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const outcome = codes.length || single?.length ? 'error' : 'ok';
          logger.info({
            requestId: contextValue?.requestId ?? queryStats.getStore()?.requestId,
            operationName: operationName ?? null,
            viewer: contextValue?.viewer ? { kind: contextValue.viewer.kind, role: contextValue.viewer.role } : null,
            ms: Math.round((performance.now() - started) * 10) / 10,
            statements: queryStats.getStore()?.statements,
            outcome,
            ...(codes.length ? { codes } : {}),
          }, 'graphql request');
        },
      };
    },
  };
}

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
  const dbCode = databaseErrorCode(unwrapResolverError(error));
  if (dbCode === 'TIMEOUT' || dbCode === 'SERVICE_UNAVAILABLE') {
    logger.warn({ err: unwrapResolverError(error), requestId: queryStats.getStore()?.requestId }, 'database error');
    return {
      message: dbCode === 'TIMEOUT' ? 'A database statement took longer than its timeout' : 'The database is unavailable; retry shortly',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: dbCode },
    };
  }
  if (isErrorCode(code) && code !== 'INTERNAL_SERVER_ERROR') return keep(code);
  const requestId = queryStats.getStore()?.requestId;
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

/**
 * PostgreSQL and driver failures that have a code of their own: a cancelled statement (timeout) and a
 * lost or refused connection. Looks through Drizzle's wrapper (`cause`).
 */
function databaseErrorCode(err: unknown): 'TIMEOUT' | 'SERVICE_UNAVAILABLE' | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === '57014') return 'TIMEOUT';
    if (typeof code === 'string' && (/^(08|57P)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'EPIPE'].includes(code))) {
      return 'SERVICE_UNAVAILABLE';
    }
  }
  return null;
}

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
