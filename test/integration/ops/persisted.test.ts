import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildManifest, sha256 } from '../../../src/ops/persisted';
import { buildBareSchema } from '../../../src/schema';
import { startApp, type TestApp } from '../../helpers/app';

/** Automatic persisted queries (Redis-backed), the manifest, and API keys limited to persisted operations. */
const ME = 'query Me { viewer { kind role } }';
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('persisted operations', () => {
  let app: TestApp;
  let manifestId: string;
  let redis: Redis;
  let persistedKey: string;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'c360-persisted-'));
    const { manifest, problems } = buildManifest([{ path: 'me.graphql', text: `# the agent desk's own query\n${ME}` }], buildBareSchema());
    expect(problems).toEqual([]);
    manifestId = manifest.operations[0]!.id;
    const file = path.join(dir, 'manifest.json');
    writeFileSync(file, JSON.stringify(manifest));
    app = await startApp({ PERSISTED_OPERATIONS_FILE: file, REDIS_URL: redisUrl });
    redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const created = await app.gql<{ createApiKey: { secret: string; apiKey: { persistedOnly: boolean } } }>(
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { persistedOnly } userErrors { message } } }',
      { input: { name: 'kiosk app', role: 'ANALYST', scopes: ['customers:read'], persistedOnly: true } },
    );
    expect(created.body.data?.createApiKey.apiKey.persistedOnly).toBe(true);
    persistedKey = created.body.data!.createApiKey.secret;
  });
  afterAll(async () => {
    redis?.disconnect();
    await app?.close();
  });

  async function send(body: Record<string, unknown>, headers: Record<string, string> = {}) {
    const res = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(headers['x-api-key'] ? {} : { authorization: `Bearer ${await app.token('ADMIN')}` }), ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown>; errors?: { message: string; extensions?: { code?: string } }[] } };
  }
  const pq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

  it('APQ: an unknown hash asks for the document (PersistedQueryNotFound), registers it in Redis, then serves the hash alone', async () => {
    const query = `query Apq { viewer { kind } } # ${randomBytes(4).toString('hex')}`;
    const hash = sha256(query);
    const miss = await send({ extensions: pq(hash) });
    expect(miss.body.errors?.[0]?.message).toBe('PersistedQueryNotFound');
    const register = await send({ query, extensions: pq(hash) });
    expect(register.body.data).toEqual({ viewer: { kind: 'USER' } });
    expect(await redis.get(`c360:apq:${hash}`)).toBe(query);
    const hit = await send({ extensions: pq(hash) });
    expect(hit.body.data).toEqual({ viewer: { kind: 'USER' } });
  });

  it('refuses a hash that does not match the document', async () => {
    const res = await send({ query: ME, extensions: pq('0'.repeat(64)) });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('serves manifest operations by hash without any registration', async () => {
    expect(await redis.get(`c360:apq:${manifestId}`)).toBeNull();
    const res = await send({ extensions: pq(manifestId) });
    expect(res.body.data).toEqual({ viewer: { kind: 'USER', role: 'ADMIN' } });
  });

  it('a persisted-operations-only key runs manifest hashes', async () => {
    const res = await send({ extensions: pq(manifestId) }, { 'x-api-key': persistedKey });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ viewer: { kind: 'API_KEY', role: 'ANALYST' } });
  });

  it('a persisted-operations-only key is refused ad-hoc documents (FORBIDDEN)', async () => {
    const res = await send({ query: ME }, { 'x-api-key': persistedKey });
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('a persisted-operations-only key may not register new APQ hashes', async () => {
    const query = `query Mine { viewer { role } } # ${randomBytes(4).toString('hex')}`;
    const refused = await send({ query, extensions: pq(sha256(query)) }, { 'x-api-key': persistedKey });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await redis.get(`c360:apq:${sha256(query)}`)).toBeNull();
  });

  it('a persisted-operations-only key may not run a hash another caller registered (only the manifest)', async () => {
    // Any logged-in user can register any document by APQ: were its hash enough, the key could run anything.
    const query = `query Theirs { customers(first: 1) { totalCount } } # ${randomBytes(4).toString('hex')}`;
    const registered = await send({ query, extensions: pq(sha256(query)) });
    expect(registered.body.errors).toBeUndefined();
    expect(await redis.get(`c360:apq:${sha256(query)}`)).toBe(query);
    const byKey = await send({ extensions: pq(sha256(query)) }, { 'x-api-key': persistedKey });
    expect(byKey.body.data ?? null).toBeNull();
    expect(byKey.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(byKey.body.errors?.[0]?.message).toMatch(/only the operations of the persisted-operation manifest/);
    // The same hash sent with its document (an Apollo client retrying after PersistedQueryNotFound) is refused too.
    const withDoc = await send({ query, extensions: pq(sha256(query)) }, { 'x-api-key': persistedKey });
    expect(withDoc.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });

  it('a persisted-operations-only key may send a manifest operation together with its document', async () => {
    const { manifest } = buildManifest([{ path: 'me.graphql', text: ME }], buildBareSchema());
    const res = await send({ query: manifest.operations[0]!.body, extensions: pq(manifestId) }, { 'x-api-key': persistedKey });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ viewer: { kind: 'API_KEY', role: 'ANALYST' } });
  });

  it('ordinary keys and users still send ad-hoc documents', async () => {
    const res = await send({ query: ME });
    expect(res.body.data).toEqual({ viewer: { kind: 'USER', role: 'ADMIN' } });
  });

  it('the manifest builder reports invalid documents with their file', () => {
    const { problems } = buildManifest([{ path: 'bad.graphql', text: '{ nope }' }], buildBareSchema());
    expect(problems).toEqual([expect.stringMatching(/^bad\.graphql: Cannot query field "nope"/)]);
  });
});

describe('APQ registrations with Redis unreachable', () => {
  let app: TestApp;
  // Nothing listens on port 1: every registration read is a miss, every write a no-op; never an error.
  beforeAll(async () => { app = await startApp({ REDIS_URL: 'redis://127.0.0.1:1' }); });
  afterAll(async () => { await app?.close(); });

  const send = async (body: Record<string, unknown>) => {
    const started = performance.now();
    const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await app.token('ADMIN')}` }, body: JSON.stringify(body) });
    return { status: res.status, ms: performance.now() - started, body: (await res.json()) as { data?: unknown; errors?: { message: string }[] } };
  };

  it('answers every request (a hash alone asks for the document again), without waiting for Redis', async () => {
    const query = `query Down { viewer { kind } } # ${randomBytes(4).toString('hex')}`;
    const ext = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
    // The first call may wait for the first connection attempt (at most 2 s after start-up).
    await send({ query: '{ viewer { kind } }' });
    const register = await send({ query, extensions: ext });
    expect([register.status, register.body.data]).toEqual([200, { viewer: { kind: 'USER' } }]);
    const miss = await send({ extensions: ext });
    expect(miss.body.errors?.[0]?.message).toBe('PersistedQueryNotFound');
    expect(register.ms).toBeLessThan(1000);
    expect(miss.ms).toBeLessThan(1000);
  });
});
