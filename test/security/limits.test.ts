import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/auth/token';
import { FULL_360 } from '../helpers/queries';
import { createSeeder } from '../factories/index';
import { startApp, type TestApp } from '../helpers/app';
import { usingPostgres } from '../helpers/db';

const codeOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => body.errors?.[0]?.extensions?.code;

describe('query limits (graphql-armor and per-role cost budgets)', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp({ LIMIT_MAX_DEPTH: '6', LIMIT_MAX_COST: '400' }); });
  afterAll(async () => { await app?.close(); });

  it('refuses queries deeper than the limit with QUERY_TOO_COMPLEX', async () => {
    const res = await app.gql(FULL_360, { first: 1 });
    expect(codeOf(res.body)).toBe('QUERY_TOO_COMPLEX');
    expect(res.body.errors?.[0]?.message).toMatch(/depth limit of 6/);
  });

  it('refuses alias floods', async () => {
    const q = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: viewer { id }`).join(' ')} }`;
    expect(codeOf((await app.gql(q)).body)).toBe('QUERY_TOO_COMPLEX');
  });

  it('refuses directive floods', async () => {
    const q = `{ viewer ${'@include(if: true) '.repeat(25)}{ id } }`;
    expect(codeOf((await app.gql(q)).body)).toBe('QUERY_TOO_COMPLEX');
  });

  it('refuses documents with too many tokens before parsing them fully', async () => {
    const q = `{ viewer { ${'id '.repeat(6000)} } }`;
    expect(codeOf((await app.gql(q)).body)).toBe('QUERY_TOO_COMPLEX');
  });

  it('refuses batched operations in one HTTP request', async () => {
    const res = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await app.token('ADMIN')}` },
      body: JSON.stringify([{ query: '{ viewer { id } }' }, { query: '{ viewer { id } }' }]),
    });
    expect(res.status).toBe(400);
    expect(codeOf(await res.json() as { errors?: { extensions?: Record<string, unknown> }[] })).toBe('BAD_USER_INPUT');
  });
});

describe('per-role cost budgets', () => {
  let app: TestApp;
  // This query costs 131.875 in graphql-armor's model; ADMIN's budget is 200, the other roles' 100.
  const Q = '{ customers(first: 5) { edges { node { id displayName email phone lifecycleStage } } } }';
  beforeAll(async () => { app = await startApp({ LIMIT_MAX_COST: '200' }); });
  afterAll(async () => { await app?.close(); });

  it('lets ADMIN run a query that is over ANALYST\'s smaller budget', async () => {
    const admin = await app.gql(Q, undefined, { role: 'ADMIN' });
    expect(admin.body.errors).toBeUndefined();
    const analyst = await app.gql(Q, undefined, { role: 'ANALYST' });
    expect(codeOf(analyst.body)).toBe('QUERY_TOO_COMPLEX');
    expect(analyst.body.errors?.[0]?.message).toMatch(/Cost limit of 100 exceeded, found 131.875/);
  });
});

describe.each([
  ['in memory', {}],
  ['in Redis', { REDIS_URL: 'redis://127.0.0.1:6379' }],
  // Nothing listens on port 1: every call falls back to this instance's buckets (never a 500).
  ['with Redis unreachable (in memory instead)', { REDIS_URL: 'redis://127.0.0.1:1' }],
])('rate limiting %s', (_name, env) => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp({ RATE_LIMIT_BURST: '3', RATE_LIMIT_PER_MINUTE: '6', ...env }); });
  afterAll(async () => { await app?.close(); });

  it('answers RATE_LIMITED with HTTP 429 and Retry-After once a caller spends its burst, other callers unaffected', async () => {
    const sub = `rl-${Math.random().toString(36).slice(2)}`;
    const mine = `Bearer ${await signToken(app.auth, { sub, role: 'AGENT' }, '5m')}`;
    const other = `Bearer ${await signToken(app.auth, { sub: `${sub}-other`, role: 'AGENT' }, '5m')}`;
    for (let i = 0; i < 3; i++) expect((await app.gql('{ viewer { id } }', undefined, { authorization: mine })).status).toBe(200);
    const limited = await app.gql('{ viewer { id } }', undefined, { authorization: mine });
    expect(limited.status).toBe(429);
    expect(codeOf(limited.body)).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await app.gql('{ viewer { id } }', undefined, { authorization: other })).status).toBe(200);
  });
});

describe.runIf(usingPostgres())('deadlines (PostgreSQL)', () => {
  let app: TestApp;
  let slowApp: TestApp;
  beforeAll(async () => {
    app = await startApp({ STATEMENT_TIMEOUT_MS: '300' });
    await createSeeder(app.db.db).customer().create();
  });
  afterAll(async () => { await app?.close(); await slowApp?.close(); });

  /** Holds an exclusive lock on `customers` in another session so reads wait. */
  async function withLockedCustomers<T>(dbUrl: string, fn: () => Promise<T>): Promise<T> {
    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    const reserved = await sql.reserve();
    await reserved`BEGIN`;
    await reserved`LOCK TABLE customers IN ACCESS EXCLUSIVE MODE`;
    try {
      return await fn();
    } finally {
      await reserved`ROLLBACK`;
      reserved.release();
      await sql.end();
    }
  }
  const urlOf = async (a: TestApp) => {
    const [row] = await a.db.pg!`SELECT current_database() AS db`;
    const u = new URL(process.env.TEST_DATABASE_URL!);
    u.pathname = `/${String(row!.db)}`;
    return u.toString();
  };

  it('answers TIMEOUT when a statement outlives statement_timeout, and recovers after', async () => {
    const res = await withLockedCustomers(await urlOf(app), () => app.gql('{ customers { totalCount } }'));
    expect(codeOf(res.body)).toBe('TIMEOUT');
    expect(JSON.stringify(res.body)).not.toMatch(/customers.*lock|canceling/i);
    const after = await app.gql<{ customers: { totalCount: number } }>('{ customers { totalCount } }');
    expect(after.body.data?.customers.totalCount).toBe(1);
  });

  it('answers HTTP 504 TIMEOUT when the whole request outlives REQUEST_TIMEOUT_MS', async () => {
    slowApp = await startApp({ REQUEST_TIMEOUT_MS: '300', STATEMENT_TIMEOUT_MS: '3000' });
    const res = await withLockedCustomers(await urlOf(slowApp), () => slowApp.gql('{ customers { totalCount } }'));
    expect(res.status).toBe(504);
    expect(codeOf(res.body)).toBe('TIMEOUT');
  });
});
