import { z } from 'zod';

/**
 * The only place that reads the environment. Every problem is reported at once
 * (`ConfigError.issues`); `src/index.ts` prints them and exits non-zero.
 */
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_SSL: z.enum(['disable', 'require', 'verify-full']).default('disable'),
  DATABASE_SSL_CA: z.string().min(1).optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
  DATABASE_REPLICA_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
  DATABASE_IDLE_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  METRICS_ENABLED: bool.default(true),
  FEDERATION: bool.default(false),
  PERSISTED_OPERATIONS_FILE: z.string().min(1).optional(),
  APQ_TTL_SECONDS: z.coerce.number().int().min(0).max(31_536_000).default(86_400),
  DOCUMENT_CACHE_MB: z.coerce.number().min(0).max(4096).default(30),
  PGLITE_DIR: z.string().min(1).default('./data'),
  BASE_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD').default('USD'),
  DEFAULT_PHONE_REGION: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as US').default('US'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  PRIVACY_HASH_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().min(1).default('customer360'),
  JWT_AUDIENCE: z.string().min(1).default('customer360-gateway'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50_000_000).default(1_000_000),
  SEED_DEMO: bool.default(true),
  SEED_CUSTOMERS: z.coerce.number().int().min(0).max(10_000_000).default(1000),
  SQL_COUNT_HEADER: bool.optional(),
  LIMIT_MAX_DEPTH: z.coerce.number().int().min(2).max(100).default(12),
  LIMIT_MAX_ALIASES: z.coerce.number().int().min(0).max(1000).default(30),
  LIMIT_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(1000).default(20),
  LIMIT_MAX_TOKENS: z.coerce.number().int().min(100).max(100_000).default(5000),
  LIMIT_MAX_COST: z.coerce.number().int().min(10).max(10_000_000).default(20_000),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(100_000).default(60),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).optional(),
  FILTER_COST_LIMIT: z.coerce.number().positive().default(2_000_000),
  AGGREGATE_MIN_GROUP_SIZE: z.coerce.number().int().min(1).max(1000).default(5),
});

export type Config = {
  nodeEnv: 'development' | 'test' | 'production';
  port: number;
  host: string;
  databaseUrl: string | undefined;
  databasePoolMax: number;
  /** Read replica: queries run there, mutations (and everything after a write) on the primary. */
  databaseReplicaUrl: string | undefined;
  /** Give up opening a PostgreSQL connection after this long (SERVICE_UNAVAILABLE). */
  databaseConnectTimeoutMs: number;
  /** Close pooled connections idle this long (0 = never). */
  databaseIdleTimeoutMs: number;
  /** SIGTERM: how long in-flight requests may take to finish before the process exits anyway. */
  shutdownTimeoutMs: number;
  /** Serve Prometheus metrics on GET /metrics. */
  metricsEnabled: boolean;
  /** Serve the schema as an Apollo Federation 2 subgraph (`_service`, `_entities`, `Customer @key(fields: "id")`). */
  federation: boolean;
  /** Persisted-operation manifest (sha256 -> document) written by `npm run persisted -- build`. */
  persistedOperationsFile: string | undefined;
  /** Lifetime of automatic-persisted-query registrations (0 = no expiry). */
  apqTtlSeconds: number;
  /** Parsed-and-validated document cache of Apollo, in MiB (0 = off). */
  documentCacheMb: number;
  /** TLS to PostgreSQL: off, encrypted, or encrypted with the server certificate verified (against DATABASE_SSL_CA if given). */
  databaseSsl: { mode: 'disable' | 'require' | 'verify-full'; caFile: string | undefined };
  pgliteDir: string;
  baseCurrency: string;
  defaultPhoneRegion: string;
  auth: { jwtSecret: string | undefined; issuer: string; audience: string };
  /** HMAC key of HASH-policy pseudonyms; a dev key in the data directory when unset (not in production). */
  privacyHashKey: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  requestTimeoutMs: number;
  bodyLimitBytes: number;
  seed: { demo: boolean; customers: number };
  /** Adds `x-sql-statements` to responses (statement count of the request); off in production by default. */
  sqlCountHeader: boolean;
  limits: { maxDepth: number; maxAliases: number; maxDirectives: number; maxTokens: number; maxCost: number };
  rateLimit: { perMinute: number; burst: number };
  redisUrl: string | undefined;
  /** PostgreSQL statement_timeout; defaults to the request timeout. */
  statementTimeoutMs: number;
  /** Planner cost above which a behavioural filter is refused with QUERY_TOO_COMPLEX. */
  filterCostLimit: number;
  /** k: aggregate groups smaller than this are suppressed for ANALYST (and partner) viewers. */
  aggregateMinGroupSize: number;
};

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings are "unset": shells and .env files often export VAR= for nothing.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  const issues = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  // Cross-field rules run on the raw values too, so every problem is reported in one go.
  if (cleaned.NODE_ENV === 'production') {
    if (!cleaned.JWT_SECRET) issues.push('JWT_SECRET: required when NODE_ENV=production');
    if (!cleaned.PRIVACY_HASH_KEY) issues.push('PRIVACY_HASH_KEY: required when NODE_ENV=production');
  }
  if (!parsed.success || issues.length) throw new ConfigError(issues);
  const e = parsed.data;
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseReplicaUrl: e.DATABASE_REPLICA_URL,
    databaseConnectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
    databaseIdleTimeoutMs: e.DATABASE_IDLE_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    metricsEnabled: e.METRICS_ENABLED,
    federation: e.FEDERATION,
    persistedOperationsFile: e.PERSISTED_OPERATIONS_FILE,
    apqTtlSeconds: e.APQ_TTL_SECONDS,
    documentCacheMb: e.DOCUMENT_CACHE_MB,
    databaseSsl: { mode: e.DATABASE_SSL, caFile: e.DATABASE_SSL_CA },
    pgliteDir: e.PGLITE_DIR,
    baseCurrency: e.BASE_CURRENCY,
    defaultPhoneRegion: e.DEFAULT_PHONE_REGION,
    auth: { jwtSecret: e.JWT_SECRET, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    privacyHashKey: e.PRIVACY_HASH_KEY,
    logLevel: e.LOG_LEVEL,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    seed: { demo: e.SEED_DEMO, customers: e.SEED_CUSTOMERS },
    sqlCountHeader: e.SQL_COUNT_HEADER ?? e.NODE_ENV !== 'production',
    filterCostLimit: e.FILTER_COST_LIMIT,
    limits: { maxDepth: e.LIMIT_MAX_DEPTH, maxAliases: e.LIMIT_MAX_ALIASES, maxDirectives: e.LIMIT_MAX_DIRECTIVES, maxTokens: e.LIMIT_MAX_TOKENS, maxCost: e.LIMIT_MAX_COST },
    rateLimit: { perMinute: e.RATE_LIMIT_PER_MINUTE, burst: e.RATE_LIMIT_BURST },
    redisUrl: e.REDIS_URL,
    statementTimeoutMs: e.STATEMENT_TIMEOUT_MS ?? e.REQUEST_TIMEOUT_MS,
    aggregateMinGroupSize: e.AGGREGATE_MIN_GROUP_SIZE,
  };
}
