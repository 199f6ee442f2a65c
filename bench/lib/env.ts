/**
 * Settings shared by the orchestrator and the two servers it starts, so that the gateway, the
 * baseline and the token the load generator sends always agree.
 */
export const DEFAULT_BENCH_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/c360_bench';

/** Fixed HS256 secret of the benchmark gateway (never used outside the bench database). */
export const BENCH_JWT_SECRET = 'customer360-bench-only-secret-0123456789abcdef';
/** Fixed privacy hashing key (required in production mode; bench data only). */
export const BENCH_PRIVACY_HASH_KEY = 'customer360-bench-only-privacy-key-0123456789';

/** Fixed keys of the encrypted columns (required in production mode; bench data only). Seeder and gateway share them. */
export const BENCH_ENCRYPTION_KEYS = `bench1:${Buffer.from('customer360-bench-only-aes-key!!').toString('base64')}`;

/** Same pool size for the gateway and the baseline (the gateway's own default). */
export const DEFAULT_POOL_MAX = 10;

export function benchDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.BENCH_DATABASE_URL || DEFAULT_BENCH_DATABASE_URL;
}

export function baseCurrency(env: NodeJS.ProcessEnv = process.env): string {
  return env.BASE_CURRENCY || 'USD';
}

/**
 * The gateway's environment in the benchmark: production mode, statement counting on, no seeding.
 * Empty strings count as unset for loadConfig.
 */
export function gatewayEnv(opts: { databaseUrl: string; poolMax: number; port: number; env?: NodeJS.ProcessEnv }): Record<string, string | undefined> {
  const env = opts.env ?? process.env;
  return {
    ...env,
    NODE_ENV: 'production',
    DATABASE_URL: opts.databaseUrl,
    DATABASE_POOL_MAX: String(opts.poolMax),
    SQL_COUNT_HEADER: 'true',
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    JWT_SECRET: BENCH_JWT_SECRET,
    PRIVACY_HASH_KEY: BENCH_PRIVACY_HASH_KEY,
    ENCRYPTION_KEYS: BENCH_ENCRYPTION_KEYS,
    ENCRYPTION_ACTIVE_KEY: '',
    HOST: '127.0.0.1',
    PORT: String(opts.port),
    BASE_CURRENCY: baseCurrency(env),
    // One caller (the bench token) sends thousands of requests a second: lift the per-caller rate
    // limit to its maximum so it never answers RATE_LIMITED (the limiter itself still runs), and keep
    // its buckets in process memory (one gateway instance).
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_BURST: '100000',
    REDIS_URL: '',
  };
}

/** What a server child prints on stdout once it accepts connections. */
export const READY_PREFIX = 'BENCH-READY ';
/** What the gateway prints when it has written a CPU profile (see gateway-server.ts --profile-dir). */
export const PROFILE_PREFIX = 'BENCH-PROFILE ';
/** Line of bench/gateway-server.ts --memory-probe after SIGHUP: memory after full garbage collections. */
export const MEMORY_PREFIX = 'BENCH-MEMORY ';
export interface ReadyLine { port: number; pid: number }

export function formatReadyLine(port: number): string {
  return `${READY_PREFIX}${JSON.stringify({ port, pid: process.pid } satisfies ReadyLine)}\n`;
}

export function parsePort(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port: ${raw}`);
  return n;
}

/**
 * The Node binary that runs the servers under test, the seeder and the import CLI: BENCH_NODE
 * (e.g. /opt/node24/bin/node), else the one running the benchmark (so `PATH=…/node24/bin:$PATH
 * npm run bench` runs everything on that Node). The load generator always runs in this process.
 */
export function benchNode(env: NodeJS.ProcessEnv = process.env): string {
  return env.BENCH_NODE || process.execPath;
}
