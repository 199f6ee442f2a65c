import type { AddressInfo } from 'node:net';
import { signToken } from '../../src/auth/token';
import type { AuthSettings } from '../../src/auth/viewer';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { buildServer, type GatewayServer } from '../../src/server';
import type { Role } from '../../src/__generated__/resolvers-types';
import { createTestDb, type TestDb } from './db';
import { TEST_ENCRYPTION_KEYS, TEST_HASH_KEY } from './encryption';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export { TEST_HASH_KEY };

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };
  /** SQL statements the request ran (x-sql-statements). */
  statements: number;
}

export interface TestApp {
  url: string;
  db: TestDb;
  config: Config;
  server: GatewayServer;
  /** The HS256 settings tests sign tokens with. */
  auth: AuthSettings & { secret: Uint8Array };
  token(role?: Role, sub?: string): Promise<string>;
  /** POST /graphql as `role` (default ADMIN), or with an explicit Authorization header value (null = none). */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, opts?: { role?: Role; authorization?: string | null }): Promise<GqlResponse<T>>;
  close(): Promise<void>;
}

/** The real HTTP server on an ephemeral port over a fresh database (PGlite or TEST_DATABASE_URL). */
export async function startApp(env: Record<string, string> = {}): Promise<TestApp> {
  const db = await createTestDb();
  const config = loadConfig({
    NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, PRIVACY_HASH_KEY: TEST_HASH_KEY, LOG_LEVEL: 'silent', PGLITE_DIR: '/nonexistent-test-dir',
    // Suites send hundreds of requests as one user; the rate-limit tests set their own budget.
    SQL_COUNT_HEADER: 'true', SEED_DEMO: 'false', RATE_LIMIT_BURST: '100000', ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS, AUDIT_SPILL_FILE: 'off', ...env,
  });
  const server = await buildServer({ config, db: db.db, logger: createLogger(config) });
  await new Promise<void>((resolve) => server.http.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.http.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/graphql`;
  const auth: AuthSettings & { secret: Uint8Array } = { secret: new TextEncoder().encode(TEST_JWT_SECRET), issuer: config.auth.issuer, audience: config.auth.audience };
  const tokens = new Map<string, string>();
  const token = async (role: Role = 'ADMIN', sub = `test-${role.toLowerCase()}`) => {
    const key = `${role}:${sub}`;
    let t = tokens.get(key);
    if (!t) { t = await signToken(auth, { sub, role }, '1h'); tokens.set(key, t); }
    return t;
  };
  return {
    url, db, config, server, auth, token,
    async gql(query, variables, opts = {}) {
      const authorization = opts.authorization === undefined ? `Bearer ${await token(opts.role ?? 'ADMIN')}` : opts.authorization;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as GqlResponse['body'];
      return { status: res.status, headers: res.headers, body: body as GqlResponse<never>['body'], statements: Number(res.headers.get('x-sql-statements') ?? -1) };
    },
    async close() {
      await server.stop();
      await db.destroy();
    },
  };
}
