import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/auth/token';
import { TEST_ENCRYPTION_KEYS, TEST_HASH_KEY } from '../helpers/encryption';
import { startApp, type TestApp } from '../helpers/app';
import { startGateway, type GatewayProcess } from './gateway-process';

/**
 * Defaults of the real server process (`npm start`): no stack traces unless NODE_ENV=development is
 * set, no demo data in production unless SEED_DEMO=true, no IDE in production unless GRAPHQL_IDE=true.
 */
const SECRET = 'e2e-defaults-secret-that-is-long-enough-0123456789';

describe('npm start with NODE_ENV unset', () => {
  let gw: GatewayProcess;
  beforeAll(async () => { gw = await startGateway({ SEED_CUSTOMERS: '3' }); }, 240_000);
  afterAll(async () => { await gw?.stop(); }, 30_000);

  it('answers a missing token with 401 and no stack trace or file path', async () => {
    const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ viewer { id } }' }) });
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ errors: [{ message: expect.stringMatching(/Authorization/), extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(text).not.toMatch(/stacktrace|\.ts:\d+|\/src\//);
  });

  it('still seeds demo data on an empty database (development defaults)', () => {
    expect(gw.output()).toMatch(/"msg":"demo data seeded"/);
  });
});

describe('npm start with NODE_ENV=production on an empty database', () => {
  let gw: GatewayProcess;
  const PROD = { NODE_ENV: 'production', JWT_SECRET: SECRET, PRIVACY_HASH_KEY: TEST_HASH_KEY, ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS, SEED_CUSTOMERS: '3' };
  beforeAll(async () => { gw = await startGateway(PROD); }, 240_000);
  afterAll(async () => { await gw?.stop(); }, 30_000);

  it('seeds no demo customers without SEED_DEMO=true', async () => {
    const token = await signToken({ secret: new TextEncoder().encode(SECRET), issuer: 'customer360', audience: 'customer360-gateway' }, { sub: 'ops', role: 'ADMIN' }, '5m');
    const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ customers { totalCount } }' }) });
    expect(await res.json()).toEqual({ data: { customers: { totalCount: 0 } } });
    expect(gw.output()).not.toMatch(/seeding demo data/);
  });

  it('serves no IDE: GET / is not found and a browser GET /graphql gets no page', async () => {
    expect((await fetch(gw.url.replace(/\/graphql$/, '/'), { redirect: 'manual' })).status).toBe(404);
    const page = await fetch(gw.url, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).not.toMatch(/text\/html/);
    expect((await fetch(gw.url.replace(/\/graphql$/, '/ide/ruru.js'))).status).toBe(404);
  });
});

describe('GRAPHQL_IDE=true in production', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp({ NODE_ENV: 'production', GRAPHQL_IDE: 'true' }); });
  afterAll(async () => { await app?.close(); });

  it('serves the IDE', async () => {
    const root = await fetch(app.url.replace(/\/graphql$/, '/'), { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, '/graphql']);
    const page = await fetch(app.url, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Customer 360 gateway: GraphQL IDE</title>');
    // API clients still get GraphQL at the same URL.
    const api = await app.gql<{ viewer: { id: string } }>('{ viewer { id } }');
    expect(api.body.data?.viewer.id).toBe('test-admin');
  });
});
