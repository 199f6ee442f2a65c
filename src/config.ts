import path from 'node:path';
import { z } from 'zod';
import { KeyringError, parseKeyring } from './lib/crypto';
import { DEFAULT_IDLE_FILL } from './ops/idle-gc';
import { validAllowedHost } from './lib/host';

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
  DATABASE_WORK_MEM: z.string().regex(/^[1-9][0-9]*(kB|MB|GB)$/, 'DATABASE_WORK_MEM must be a size such as 16MB').default('16MB'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  DATABASE_BREAKER_THRESHOLD: z.coerce.number().int().min(0).max(1000).default(3),
  DATABASE_BREAKER_PROBE_MS: z.coerce.number().int().min(50).max(60_000).default(500),
  AUDIT_BUFFER_MAX: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  AUDIT_SPILL_FILE: z.string().min(1).optional(),
  AUDIT_RETRY_MAX_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  METRICS_ENABLED: bool.default(true),
  IDLE_GC: bool.default(true),
  IDLE_GC_FILL: z.coerce.number().min(0.05).max(1).default(DEFAULT_IDLE_FILL),
  FEDERATION: bool.default(false),
  PERSISTED_OPERATIONS_FILE: z.string().min(1).optional(),
  APQ_TTL_SECONDS: z.coerce.number().int().min(0).max(31_536_000).default(86_400),
  DOCUMENT_CACHE_MB: z.coerce.number().min(0).max(4096).default(30),
  COMPILED_READS: bool.default(true),
  COMPILED_PLAN_CACHE: z.coerce.number().int().min(1).max(100_000).default(1000),
  PGLITE_DIR: z.string().min(1).default('./data'),
  DEV_SECRETS_DIR: z.string().min(1).optional(),
  BASE_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD').default('USD'),
  DEFAULT_PHONE_REGION: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as US').default('US'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  PRIVACY_HASH_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().min(1).default('customer360'),
  JWT_AUDIENCE: z.string().min(1).default('customer360-gateway'),
  JWT_ALGORITHMS: z.string().regex(/^\s*[A-Z0-9]+(\s*,\s*[A-Z0-9]+)*\s*$/, 'must be a comma-separated list such as RS256,ES256').optional(),
  JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  JWT_JWKS_FILE: z.string().min(1).optional(),
  JWT_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  JWT_JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  JWT_JWKS_CACHE_MAX_AGE_MS: z.coerce.number().int().min(0).max(86_400_000).default(600_000),
  JWT_REQUIRE_MFA_ROLES: z.string().regex(/^\s*(ADMIN|AGENT|MARKETER|ANALYST)(\s*,\s*(ADMIN|AGENT|MARKETER|ANALYST))*\s*$/, 'must be a comma-separated list of ADMIN, AGENT, MARKETER, ANALYST').optional(),
  JWT_MFA_ACR: z.string().min(1).optional(),
  ENCRYPTION_KEYS: z.string().min(1).optional(),
  ENCRYPTION_ACTIVE_KEY: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50_000_000).default(1_000_000),
  SEED_DEMO: bool.optional(),
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
  TAG_RULES_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(604_800).default(900),
  TAG_RULES_INCREMENTAL: bool.default(true),
  TAG_EXPIRY_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(604_800).default(300),
  TAG_MODELS_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(604_800).default(3600),
  TAG_JOB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(86_400_000).default(600_000),
  RFM_WINDOW: z.string().regex(/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$/, 'must be an ISO 8601 duration in days, weeks, months or years such as P365D').default('P365D'),
  LIFECYCLE_NEW_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  LIFECYCLE_ACTIVE_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  LIFECYCLE_CHURN_DAYS: z.coerce.number().int().min(2).max(3650).default(180),
  INTEREST_MIN_AFFINITY: z.coerce.number().min(0).max(1).default(0.2),
  INTEREST_HALF_LIFE_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  INTEREST_MAX_TAGS: z.coerce.number().int().min(1).max(20).default(3),
  SEGMENT_REFRESH_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(300_000),
  SEGMENT_REFRESH_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(300_000),
  WEBHOOK_DISPATCH_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(5000),
  WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(10).max(86_400_000).default(900_000),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(30),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  WEBHOOK_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(50),
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  WEBHOOK_ALLOWED_HOSTS: z.string().optional(),
  SUBSCRIPTION_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  SUBSCRIPTION_MAX_LAG_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  INGEST_MATCH_RULES: z.string().regex(/^(external_id|email|phone)(,(external_id|email|phone))*$/, 'must be a comma-separated list of external_id, email, phone').default('external_id,email,phone'),
  INGEST_BLOCKED_VALUES: z.string().default('test@test.com,test@example.com,noreply@example.com,none@none.com,no@email.com,0000000000,1234567890,+10000000000,+11111111111'),
  INGEST_SOURCE_PRIORITY: z.string().regex(/^[A-Za-z0-9_.:-]+(,[A-Za-z0-9_.:-]+)*$/, 'must be a comma-separated list of source names').default('crm,shop,pos,helpdesk'),
  INGEST_DATE_ORDER: z.enum(['DMY', 'MDY']).default('DMY'),
  INGEST_BATCH_SIZE: z.coerce.number().int().min(1).max(50_000).default(2500),
  CORS_ORIGINS: z.string().optional(),
  GRAPHQL_IDE: bool.optional(),
});

export type Config = {
  nodeEnv: 'development' | 'test' | 'production';
  /** Stack traces in error responses: only when NODE_ENV=development is set explicitly (not by the default). */
  stackTraces: boolean;
  /** Origins (exact `scheme://host[:port]`) browsers may call the API from (CORS); none by default. */
  corsOrigins: string[];
  /** Serve the GraphQL IDE (GET / and GET /graphql from a browser); on in development. */
  graphqlIde: boolean;
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
  /**
   * PostgreSQL only: work_mem of the gateway's connections. PostgreSQL's 4MB default makes the sorts of
   * BI aggregates over a large base spill to disk (measured on 1,000,000 customers: customerStats'
   * percentile sorts wrote 29 MB of temporary files).
   */
  databaseWorkMem: string;
  /** SIGTERM: how long in-flight requests may take to finish before the process exits anyway. */
  shutdownTimeoutMs: number;
  /** Consecutive failed connects that open a pool's circuit breaker (0 = off); probe interval while open. */
  databaseBreakerThreshold: number;
  databaseBreakerProbeMs: number;
  /** Audit entries kept unwritten (memory + spill file) before PII reads are refused; the spill file ('off' = none); retry backoff cap. */
  audit: { bufferMax: number; spillFile: string | null; retryMaxMs: number };
  /** Serve Prometheus metrics on GET /metrics. */
  metricsEnabled: boolean;
  /** Collect V8's young generation when no request is running (src/ops/idle-gc.ts)... */
  idleGc: boolean;
  /** ...and it is at least this full (0.05-1). */
  idleGcFill: number;
  /** Serve the schema as an Apollo Federation 2 subgraph (`_service`, `_entities`, `Customer @key(fields: "id")`). */
  federation: boolean;
  /** Persisted-operation manifest (sha256 -> document) written by `npm run persisted -- build`. */
  persistedOperationsFile: string | undefined;
  /** Lifetime of automatic-persisted-query registrations (0 = no expiry). */
  apqTtlSeconds: number;
  /** Parsed-and-validated document cache of Apollo, in MiB (0 = off). */
  documentCacheMb: number;
  /** Serve covered query operations through the compiled read path (src/plan/); false = resolvers only. */
  compiledReads: boolean;
  /** Plans kept (operation x viewer policy), least recently used evicted. */
  compiledPlanCache: number;
  /** TLS to PostgreSQL: off, encrypted, or encrypted with the server certificate verified (against DATABASE_SSL_CA if given). */
  databaseSsl: { mode: 'disable' | 'require' | 'verify-full'; caFile: string | undefined };
  pgliteDir: string;
  /**
   * Where the development secrets live (encryption key, privacy hash key, JWT secret; used only when ENCRYPTION_KEYS,
   * PRIVACY_HASH_KEY or JWT_SECRET are unset): DEV_SECRETS_DIR, else with the data: PGLITE_DIR on PGlite, ./data with
   * DATABASE_URL (never PGLITE_DIR then: a CLI run with another PGLITE_DIR would make a new key the data does not open).
   */
  devSecretsDir: string;
  baseCurrency: string;
  defaultPhoneRegion: string;
  auth: {
    jwtSecret: string | undefined; issuer: string; audience: string;
    /** Accepted `alg` values; nothing else verifies (no `none`, no algorithm the key was not meant for). */
    algorithms: JwtAlgorithm[];
    /** Public keys of asymmetric tokens: a remote JWKS (cached, refetched on an unknown kid), a JWKS file or a PEM key. */
    jwksUrl: string | undefined; jwksFile: string | undefined; publicKeyFile: string | undefined;
    jwksCooldownMs: number; jwksCacheMaxAgeMs: number;
    /** Roles whose tokens must show multi-factor authentication: `amr` contains `mfa`, or `acr` is one of `mfaAcr`. */
    requireMfaRoles: ('ADMIN' | 'AGENT' | 'MARKETER' | 'ANALYST')[]; mfaAcr: string[];
  };
  /** AES-256-GCM keys of the encrypted columns (`kid:base64,...`) and the one new values use; a dev key in the data directory when unset (not in production). */
  encryption: { keys: string | undefined; activeKey: string | undefined };
  /** HMAC key of HASH-policy pseudonyms; a dev key in the data directory when unset (not in production). */
  privacyHashKey: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  requestTimeoutMs: number;
  bodyLimitBytes: number;
  /** Demo data on an empty database: on by default except in production (there only with SEED_DEMO=true). */
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
  /** Tag engine: schedules (seconds, 0 = off), incremental re-evaluation, model parameters. */
  tagEngine: {
    rulesIntervalSeconds: number;
    incremental: boolean;
    expiryIntervalSeconds: number;
    modelsIntervalSeconds: number;
    jobStatementTimeoutMs: number;
    rfmWindow: string;
    lifecycle: { newDays: number; activeDays: number; churnDays: number };
    interest: { minAffinity: number; halfLifeDays: number; maxTags: number };
  };
  /** Scheduled refresh of segments not refreshed for this long (0 = no schedule; refresh on demand or by CLI). */
  segmentRefreshIntervalMs: number;
  /** statement_timeout inside segment refresh transactions (they scan the whole base; requests keep theirs). */
  segmentRefreshTimeoutMs: number;
  /** Webhook dispatcher: poll interval (0 = not in process), retry backoff, attempts, request timeout, batch size. */
  webhooks: {
    dispatchIntervalMs: number; retryBaseMs: number; retryMaxMs: number; maxAttempts: number; timeoutMs: number; batchSize: number;
    /** Receivers may be on loopback, private, CGNAT and unique-local addresses (never link-local or cloud metadata). */
    allowPrivate: boolean;
    /** Hosts (names, IP addresses, CIDR ranges) webhooks may reach whatever they resolve to. */
    allowedHosts: string[];
  };
  /** How often subscriptions read the outbox. */
  subscriptionPollIntervalMs: number;
  /** Longest a subscription event waits for an unrelated long-running transaction (see OutboxFeed). */
  subscriptionMaxLagMs: number;
  /** Identity resolution and survivorship of imports (src/modules/ingest). */
  ingest: {
    /** Order in which incoming customer records are matched to existing ones. */
    matchRules: ('external_id' | 'email' | 'phone')[];
    /** Normalized emails and E.164 phones that never match anyone (placeholders such as test@test.com). */
    blockedValues: string[];
    /** Sources, most trusted first; a field from a more trusted source wins over a less trusted one. */
    sourcePriority: string[];
    /** How ambiguous dates such as 02/03/2025 are read. */
    dateOrder: 'DMY' | 'MDY';
    batchSize: number;
  };
};

export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
const isHmac = (a: string) => a.startsWith('HS');
/** A comma-separated setting as a list (unset: empty). */
const list = (v: string | undefined): string[] => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);

/**
 * CORS_ORIGINS: exact origins such as `https://console.example.com,http://localhost:5173`. No `*`
 * and no patterns: an allowed origin may send credentials, so each one is named.
 */
function parseCorsOrigins(raw: string, issues: string[]): string[] {
  const origins: string[] = [];
  for (const item of raw.split(',').map((o) => o.trim()).filter(Boolean)) {
    let url: URL | undefined;
    try { url = new URL(item); } catch { /* reported below */ }
    if (item === '*' || item.includes('*')) issues.push(`CORS_ORIGINS: "${item}": wildcards are not allowed; list each origin`);
    else if (!url || !/^https?:$/.test(url.protocol) || url.origin !== item.toLowerCase()) {
      issues.push(`CORS_ORIGINS: "${item}" is not an origin such as https://app.example.com or http://localhost:5173 (scheme, host and port only)`);
    } else origins.push(url.origin);
  }
  return origins;
}

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
  const keySources = ['JWT_JWKS_URL', 'JWT_JWKS_FILE', 'JWT_PUBLIC_KEY_FILE'].filter((k) => cleaned[k]);
  if (keySources.length > 1) issues.push(`${keySources.join(', ')}: set only one source of public keys`);
  // Default: HS256 with the shared secret, or the common asymmetric algorithms when public keys are configured.
  const algorithms = (cleaned.JWT_ALGORITHMS ?? (keySources.length ? 'RS256,ES256' : 'HS256')).split(',').map((a) => a.trim()).filter(Boolean);
  for (const a of algorithms) {
    if (!(JWT_ALGORITHMS as readonly string[]).includes(a)) issues.push(`JWT_ALGORITHMS: ${a} is not supported (one of ${JWT_ALGORITHMS.join(', ')}; never "none")`);
  }
  if (algorithms.some((a) => !isHmac(a)) && !keySources.length) issues.push('JWT_ALGORITHMS: asymmetric algorithms need JWT_JWKS_URL, JWT_JWKS_FILE or JWT_PUBLIC_KEY_FILE');
  if (cleaned.ENCRYPTION_KEYS) {
    try {
      parseKeyring(cleaned.ENCRYPTION_KEYS, cleaned.ENCRYPTION_ACTIVE_KEY);
    } catch (e) {
      issues.push(`ENCRYPTION_KEYS: ${e instanceof KeyringError ? e.message : String(e)}`);
    }
  } else if (cleaned.ENCRYPTION_ACTIVE_KEY) {
    issues.push('ENCRYPTION_ACTIVE_KEY: set ENCRYPTION_KEYS too');
  }
  if (cleaned.NODE_ENV === 'production') {
    if (!cleaned.JWT_SECRET && algorithms.some(isHmac)) issues.push('JWT_SECRET: required when NODE_ENV=production');
    if (!cleaned.PRIVACY_HASH_KEY) issues.push('PRIVACY_HASH_KEY: required when NODE_ENV=production');
    if (!cleaned.ENCRYPTION_KEYS) issues.push('ENCRYPTION_KEYS: required when NODE_ENV=production');
  }
  if (parsed.success && !(parsed.data.LIFECYCLE_NEW_DAYS <= parsed.data.LIFECYCLE_ACTIVE_DAYS && parsed.data.LIFECYCLE_ACTIVE_DAYS < parsed.data.LIFECYCLE_CHURN_DAYS)) {
    issues.push('LIFECYCLE_*_DAYS: need LIFECYCLE_NEW_DAYS <= LIFECYCLE_ACTIVE_DAYS < LIFECYCLE_CHURN_DAYS');
  }
  const corsOrigins = parseCorsOrigins(cleaned.CORS_ORIGINS ?? '', issues);
  for (const h of list(cleaned.WEBHOOK_ALLOWED_HOSTS)) {
    if (!validAllowedHost(h)) issues.push(`WEBHOOK_ALLOWED_HOSTS: ${h} is not a host name, IP address or CIDR range`);
  }
  if (!parsed.success || issues.length) throw new ConfigError(issues);
  const e = parsed.data;
  return {
    nodeEnv: e.NODE_ENV,
    stackTraces: cleaned.NODE_ENV === 'development',
    corsOrigins,
    graphqlIde: e.GRAPHQL_IDE ?? e.NODE_ENV === 'development',
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseReplicaUrl: e.DATABASE_REPLICA_URL,
    databaseConnectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
    databaseIdleTimeoutMs: e.DATABASE_IDLE_TIMEOUT_MS,
    databaseWorkMem: e.DATABASE_WORK_MEM,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    databaseBreakerThreshold: e.DATABASE_BREAKER_THRESHOLD,
    databaseBreakerProbeMs: e.DATABASE_BREAKER_PROBE_MS,
    audit: {
      bufferMax: e.AUDIT_BUFFER_MAX,
      spillFile: e.AUDIT_SPILL_FILE === 'off' ? null : (e.AUDIT_SPILL_FILE ?? path.join(e.PGLITE_DIR, 'audit-spill.ndjson')),
      retryMaxMs: e.AUDIT_RETRY_MAX_MS,
    },
    metricsEnabled: e.METRICS_ENABLED,
    idleGc: e.IDLE_GC,
    idleGcFill: e.IDLE_GC_FILL,
    federation: e.FEDERATION,
    persistedOperationsFile: e.PERSISTED_OPERATIONS_FILE,
    apqTtlSeconds: e.APQ_TTL_SECONDS,
    documentCacheMb: e.DOCUMENT_CACHE_MB,
    compiledReads: e.COMPILED_READS,
    compiledPlanCache: e.COMPILED_PLAN_CACHE,
    databaseSsl: { mode: e.DATABASE_SSL, caFile: e.DATABASE_SSL_CA },
    pgliteDir: e.PGLITE_DIR,
    devSecretsDir: e.DEV_SECRETS_DIR ?? (e.DATABASE_URL ? './data' : e.PGLITE_DIR),
    baseCurrency: e.BASE_CURRENCY,
    defaultPhoneRegion: e.DEFAULT_PHONE_REGION,
    auth: {
      jwtSecret: e.JWT_SECRET, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE, algorithms: algorithms as JwtAlgorithm[],
      jwksUrl: e.JWT_JWKS_URL, jwksFile: e.JWT_JWKS_FILE, publicKeyFile: e.JWT_PUBLIC_KEY_FILE,
      jwksCooldownMs: e.JWT_JWKS_COOLDOWN_MS, jwksCacheMaxAgeMs: e.JWT_JWKS_CACHE_MAX_AGE_MS,
      requireMfaRoles: list(e.JWT_REQUIRE_MFA_ROLES) as Config['auth']['requireMfaRoles'],
      mfaAcr: list(e.JWT_MFA_ACR),
    },
    encryption: { keys: e.ENCRYPTION_KEYS, activeKey: e.ENCRYPTION_ACTIVE_KEY },
    privacyHashKey: e.PRIVACY_HASH_KEY,
    logLevel: e.LOG_LEVEL,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    seed: { demo: e.SEED_DEMO ?? e.NODE_ENV !== 'production', customers: e.SEED_CUSTOMERS },
    sqlCountHeader: e.SQL_COUNT_HEADER ?? e.NODE_ENV !== 'production',
    filterCostLimit: e.FILTER_COST_LIMIT,
    limits: { maxDepth: e.LIMIT_MAX_DEPTH, maxAliases: e.LIMIT_MAX_ALIASES, maxDirectives: e.LIMIT_MAX_DIRECTIVES, maxTokens: e.LIMIT_MAX_TOKENS, maxCost: e.LIMIT_MAX_COST },
    rateLimit: { perMinute: e.RATE_LIMIT_PER_MINUTE, burst: e.RATE_LIMIT_BURST },
    redisUrl: e.REDIS_URL,
    statementTimeoutMs: e.STATEMENT_TIMEOUT_MS ?? e.REQUEST_TIMEOUT_MS,
    aggregateMinGroupSize: e.AGGREGATE_MIN_GROUP_SIZE,
    tagEngine: {
      rulesIntervalSeconds: e.TAG_RULES_INTERVAL_SECONDS,
      incremental: e.TAG_RULES_INCREMENTAL,
      expiryIntervalSeconds: e.TAG_EXPIRY_INTERVAL_SECONDS,
      modelsIntervalSeconds: e.TAG_MODELS_INTERVAL_SECONDS,
      jobStatementTimeoutMs: e.TAG_JOB_STATEMENT_TIMEOUT_MS,
      rfmWindow: e.RFM_WINDOW,
      lifecycle: { newDays: e.LIFECYCLE_NEW_DAYS, activeDays: e.LIFECYCLE_ACTIVE_DAYS, churnDays: e.LIFECYCLE_CHURN_DAYS },
      interest: { minAffinity: e.INTEREST_MIN_AFFINITY, halfLifeDays: e.INTEREST_HALF_LIFE_DAYS, maxTags: e.INTEREST_MAX_TAGS },
    },
    segmentRefreshIntervalMs: e.SEGMENT_REFRESH_INTERVAL_MS,
    segmentRefreshTimeoutMs: e.SEGMENT_REFRESH_TIMEOUT_MS,
    webhooks: {
      dispatchIntervalMs: e.WEBHOOK_DISPATCH_INTERVAL_MS, retryBaseMs: e.WEBHOOK_RETRY_BASE_MS, retryMaxMs: e.WEBHOOK_RETRY_MAX_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS, timeoutMs: e.WEBHOOK_TIMEOUT_MS, batchSize: e.WEBHOOK_BATCH_SIZE,
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE, allowedHosts: list(e.WEBHOOK_ALLOWED_HOSTS),
    },
    subscriptionPollIntervalMs: e.SUBSCRIPTION_POLL_INTERVAL_MS,
    subscriptionMaxLagMs: e.SUBSCRIPTION_MAX_LAG_MS,
    ingest: {
      matchRules: e.INGEST_MATCH_RULES.split(',') as ('external_id' | 'email' | 'phone')[],
      blockedValues: e.INGEST_BLOCKED_VALUES.split(',').map((v) => v.trim()).filter(Boolean),
      sourcePriority: e.INGEST_SOURCE_PRIORITY.split(','),
      dateOrder: e.INGEST_DATE_ORDER,
      batchSize: e.INGEST_BATCH_SIZE,
    },
  };
}
