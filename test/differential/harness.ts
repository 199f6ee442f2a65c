import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { signToken } from '../../src/auth/token';
import { loadConfig } from '../../src/config';
import { execRows } from '../../src/db/client';
import { createLogger } from '../../src/logger';
import { buildServer, type GatewayServer } from '../../src/server';
import type { Role } from '../../src/__generated__/resolvers-types';
import { TEST_JWT_SECRET } from '../helpers/app';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_ENCRYPTION_KEYS, TEST_HASH_KEY } from '../helpers/encryption';
import { createDecipheriv } from 'node:crypto';
import { cursorKeys } from '../../src/lib/cursor';
import { fieldKeyring } from '../../src/lib/crypto';

/**
 * Two real gateways on ONE database: COMPILED_READS=true and COMPILED_READS=false, otherwise the
 * same configuration. Every operation is sent to both as the same viewer; answers and audit rows
 * are compared.
 */
export interface Pair {
  db: TestDb;
  compiled: Endpoint;
  resolvers: Endpoint;
  close(): Promise<void>;
}

export interface Endpoint { url: string; server: GatewayServer }

export interface Answer {
  status: number;
  body: { data?: unknown; errors?: { message: string; path?: (string | number)[]; locations?: unknown; extensions?: Record<string, unknown> }[] };
  /** The execution path the server says it took (server-timing). */
  path: 'compiled' | 'resolvers' | 'unknown';
  statements: number;
}

export type Viewer = { role: Role } | { key: string; name: string };

export async function startPair(): Promise<Pair> {
  const db = await createTestDb();
  const start = async (compiled: boolean): Promise<Endpoint> => {
    const config = loadConfig({
      NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, PRIVACY_HASH_KEY: TEST_HASH_KEY, LOG_LEVEL: 'silent', PGLITE_DIR: '/nonexistent-test-dir',
      SQL_COUNT_HEADER: 'true', SEED_DEMO: 'false', RATE_LIMIT_BURST: '100000', ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
      AGGREGATE_MIN_GROUP_SIZE: '1', COMPILED_READS: String(compiled),
    });
    const server = await buildServer({ config, db: db.db, logger: createLogger(config) });
    await new Promise<void>((resolve) => server.http.listen(0, '127.0.0.1', () => resolve()));
    return { url: `http://127.0.0.1:${(server.http.address() as AddressInfo).port}/graphql`, server };
  };
  const compiled = await start(true);
  const resolvers = await start(false);
  return {
    db, compiled, resolvers,
    async close() {
      await compiled.server.stop();
      await resolvers.server.stop();
      await db.destroy();
    },
  };
}

const tokens = new Map<string, string>();
export async function authorizationOf(v: Viewer): Promise<string> {
  if ('key' in v) return `Bearer ${v.key}`;
  let t = tokens.get(v.role);
  if (!t) {
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' });
    t = await signToken({ secret: new TextEncoder().encode(TEST_JWT_SECRET), issuer: config.auth.issuer, audience: config.auth.audience },
      { sub: `diff-${v.role.toLowerCase()}`, role: v.role }, '1h');
    tokens.set(v.role, t);
  }
  return `Bearer ${t}`;
}

export async function send(endpoint: Endpoint, authorization: string, query: string, variables: Record<string, unknown> | undefined, requestId: string): Promise<Answer> {
  const res = await fetch(endpoint.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization, 'x-request-id': requestId },
    body: JSON.stringify({ query, variables }),
  });
  const timing = res.headers.get('server-timing') ?? '';
  const path = /(^|, )compiled[;,]/.test(timing) ? 'compiled' : /(^|, )resolvers(,|$)/.test(timing) ? 'resolvers' : 'unknown';
  return { status: res.status, body: (await res.json()) as Answer['body'], path, statements: Number(res.headers.get('x-sql-statements') ?? -1) };
}

/**
 * A cursor's plaintext position (hex), for comparing the two paths: cursors are sealed with a fresh
 * random IV, so two cursors of one position differ as strings. GCM's ciphertext decrypts without the
 * tag, so this needs no scope; the binding to a scope is tested by test/security/cursors.test.ts.
 */
function cursorPosition(cursor: string): string {
  const buf = Buffer.from(cursor, 'base64url');
  const iv = buf.subarray(1, 13);
  const body = buf.subarray(13, buf.length - 16);
  const key = cursorKeys(fieldKeyring())[0]!;
  return `cursor:${createDecipheriv('aes-256-gcm', key, iv).update(body).toString('hex')}`;
}

/** cursor, startCursor, endCursor, and the generator's aliases of them (`a2_endCursor`). */
const CURSOR_FIELD = /(^|_)(cursor|startCursor|endCursor)$/;
/** `data` with every cursor replaced by its position. */
function withPositions(value: unknown, key?: string): unknown {
  if (typeof value === 'string' && key !== undefined && CURSOR_FIELD.test(key)) return cursorPosition(value);
  if (Array.isArray(value)) return value.map((v) => withPositions(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withPositions(v, k)]));
  return value;
}

/** What must be identical on both paths: status, data (cursors by position), and errors without the per-request id. */
export function comparable(a: Answer): unknown {
  const errors = a.body.errors?.map((e) => {
    const { requestId: _r, ...ext } = e.extensions ?? {};
    return { message: e.message, path: e.path ?? null, locations: e.locations ?? null, extensions: ext };
  }).sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
  return { status: a.status, data: withPositions(a.body.data), errors: errors ?? null };
}

export interface AuditRow { request: string; actor: string; role: string; action: string; customer: string | null; fields: string[]; operation: string | null }

/** Audit rows written for the given request ids (after both servers flushed), keyed by request id. */
export async function auditRows(pair: Pair, requestIds: readonly string[]): Promise<Map<string, AuditRow[]>> {
  await pair.compiled.server.flushAudit();
  await pair.resolvers.server.flushAudit();
  const rows = await execRows<AuditRow>(pair.db.db, sql`
    SELECT request_id AS request, actor_kind || ':' || actor_id AS actor, role, action, customer_id::text AS customer, fields, operation_name AS operation
    FROM audit_log WHERE request_id = ANY(${sql.param([...requestIds])}::text[])
    ORDER BY request_id, action, customer_id, operation_name`);
  const out = new Map<string, AuditRow[]>();
  for (const r of rows) {
    const list = out.get(r.request) ?? [];
    list.push({ ...r, fields: [...r.fields].sort() });
    out.set(r.request, list);
  }
  return out;
}
