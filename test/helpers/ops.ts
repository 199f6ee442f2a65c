import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import { openDb, type DbHandle } from '../../src/db/client';
import { createLogger } from '../../src/logger';
import { buildServer, type GatewayServer } from '../../src/server';
import { signToken } from '../../src/auth/token';
import { TEST_HASH_KEY, TEST_JWT_SECRET } from './app';
import { withDatabase } from './global-setup';

/** A fresh clone of the migrated template on TEST_DATABASE_URL's server (PostgreSQL-only tests). */
export async function createPgDatabase(prefix = 'c360_ops'): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const url = process.env.TEST_DATABASE_URL;
  const template = inject('templateDb');
  if (!url || !template) throw new Error('createPgDatabase needs TEST_DATABASE_URL');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  return {
    url: withDatabase(url, name),
    name,
    async drop() {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

export interface OpsApp {
  base: string;
  url: string;
  config: Config;
  handle: DbHandle;
  server: GatewayServer;
  bearer(role?: string): Promise<string>;
  /** POST /graphql; never throws on GraphQL errors, returns status, body and elapsed ms. */
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] }; ms: number; headers: Headers }>;
  close(): Promise<void>;
}

/** The real HTTP server with the gateway's own openDb(config) (pool options, replica) from env. */
export async function startOpsApp(env: Record<string, string>): Promise<OpsApp> {
  const config = loadConfig({
    NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, PRIVACY_HASH_KEY: TEST_HASH_KEY, LOG_LEVEL: 'silent', PGLITE_DIR: '/nonexistent-test-dir',
    SQL_COUNT_HEADER: 'true', SEED_DEMO: 'false', RATE_LIMIT_BURST: '100000', AUDIT_SPILL_FILE: 'off', ...env,
  });
  const handle = await openDb(config);
  const server = await buildServer({ config, db: handle.db, logger: createLogger(config), handle });
  await new Promise<void>((resolve) => server.http.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.http.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const auth = { secret: new TextEncoder().encode(TEST_JWT_SECRET), issuer: config.auth.issuer, audience: config.auth.audience };
  const bearer = async (role = 'ADMIN') => `Bearer ${await signToken(auth, { sub: `ops-${role.toLowerCase()}`, role: role as 'ADMIN' }, '1h')}`;
  const admin = await bearer();
  return {
    base, url: `${base}/graphql`, config, handle, server, bearer,
    async post(body, headers = {}) {
      const t0 = performance.now();
      const res = await fetch(`${base}/graphql`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: admin, ...headers }, body: JSON.stringify(body),
      });
      const json = (await res.json()) as Awaited<ReturnType<OpsApp['post']>>['body'];
      return { status: res.status, body: json, ms: performance.now() - t0, headers: res.headers };
    },
    async close() {
      await server.stop();
      await handle.close();
    },
  };
}
