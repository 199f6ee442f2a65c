import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customers, interactions, transactions } from '../../src/db/schema/index';
import { toGlobalId } from '../../src/lib/global-id';
import { createSeeder } from '../factories/index';
import { startApp, type GqlResponse, type TestApp } from '../helpers/app';

interface ViewerData { viewer: { id: string; role: string } }
interface LeakData extends ViewerData { customers: { totalCount: number; edges: { node: { email: string | null } }[] } }

/** Reads the viewer and customer PII: any data in the answer to a rejected token is a leak. */
const LEAK_QUERY = '{ viewer { id role } customers(first: 5) { totalCount edges { node { email } } } }';
const now = () => Math.floor(Date.now() / 1000);
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('authentication and authorization', () => {
  let app: TestApp;
  let customerGid: string;
  beforeAll(async () => {
    app = await startApp();
    const row = await createSeeder(app.db.db).customer({ email: 'secret.person@example.com' }).withIdentity('crm', 'AUTH-1').create();
    customerGid = toGlobalId('Customer', row.id);
  });
  afterAll(async () => { await app?.close(); });

  /** Every response of this file, whatever the test, must be free of stack traces and SQL. */
  const expectNoInternals = (res: GqlResponse<unknown>) => {
    const text = JSON.stringify(res.body);
    expect(text).not.toMatch(/stacktrace/i);
    expect(text).not.toMatch(/\bSELECT\b|\bINSERT\b|pg_advisory/i);
    expect(text).not.toMatch(/\bat .+\.ts:\d+/);
  };
  const gql = async <T>(query: string, variables?: Record<string, unknown>, opts?: Parameters<TestApp['gql']>[2]) => {
    const res = await app.gql<T>(query, variables, opts);
    expectNoInternals(res);
    return res;
  };

  /** A token like the real ones, with overrides; signed HS256 with the test secret unless told otherwise. */
  const sign = (opts: {
    claims?: Record<string, unknown>; sub?: string | null; issuer?: string; audience?: string; exp?: number; alg?: string; secret?: Uint8Array;
  } = {}) => {
    const jwt = new SignJWT({ role: 'ADMIN', ...opts.claims })
      .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' })
      .setIssuer(opts.issuer ?? app.auth.issuer)
      .setAudience(opts.audience ?? app.auth.audience)
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? now() + 600);
    if (opts.sub !== null) jwt.setSubject(opts.sub ?? 'attacker');
    return jwt.sign(opts.secret ?? app.auth.secret);
  };

  const expectRejected = (res: GqlResponse<LeakData>) => {
    expect(res.status).toBe(401);
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(JSON.stringify(res.body)).not.toContain('secret.person');
  };

  it('rejects a request without Authorization with HTTP 401 and UNAUTHENTICATED', async () => {
    expectRejected(await gql<LeakData>(LEAK_QUERY, undefined, { authorization: null }));
  });

  it.each([
    ['a Basic header', 'Basic xyz'],
    ['a bare token without the Bearer scheme', 'eyJhbGciOiJIUzI1NiJ9.e30.sig'],
    ['a garbage bearer token', 'Bearer not-a-jwt'],
    ['a three-part garbage token', 'Bearer aaa.bbb.ccc'],
    ['an empty bearer token', 'Bearer '],
  ])('rejects %s', async (_label, authorization) => {
    expectRejected(await gql<LeakData>(LEAK_QUERY, undefined, { authorization }));
  });

  it.each([
    ['signed with another secret', () => sign({ secret: new TextEncoder().encode('another-secret-that-is-long-enough-0123456789') })],
    ['expired', () => sign({ exp: now() - 60 })],
    ['for another audience', () => sign({ audience: 'someone-else' })],
    ['from another issuer', () => sign({ issuer: 'evil-issuer' })],
    ['signed with HS512 and the right secret', () => sign({ alg: 'HS512' })],
    ['with role SUPERUSER', () => sign({ claims: { role: 'SUPERUSER' } })],
    ['without a role', () => sign({ claims: { role: undefined } })],
    ['with a lowercase role', () => sign({ claims: { role: 'admin' } })],
    ['without sub', () => sign({ sub: null })],
    ['with an empty sub', () => sign({ sub: '' })],
  ])('rejects a token %s', async (_label, make) => {
    expectRejected(await gql<LeakData>(LEAK_QUERY, undefined, { authorization: `Bearer ${await make()}` }));
  });

  it('rejects an unsigned alg:none token', async () => {
    const payload = { sub: 'attacker', role: 'ADMIN', iss: app.auth.issuer, aud: app.auth.audience, iat: now(), exp: now() + 600 };
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
    expectRejected(await gql<LeakData>(LEAK_QUERY, undefined, { authorization: `Bearer ${token}` }));
  });

  it('rejects a valid token whose payload was re-encoded with a higher role', async () => {
    const [header, , signature] = (await app.token('ANALYST')).split('.');
    const payload = { sub: 'test-analyst', role: 'ADMIN', iss: app.auth.issuer, aud: app.auth.audience, iat: now(), exp: now() + 600 };
    expectRejected(await gql<LeakData>(LEAK_QUERY, undefined, { authorization: `Bearer ${header}.${b64url(payload)}.${signature}` }));
  });

  it('stops accepting a token the moment it expires, although its verification is cached', async () => {
    const exp = now() + 2;
    const token = await sign({ sub: 'short-lived', exp });
    const first = await gql<ViewerData>('{ viewer { id } }', undefined, { authorization: `Bearer ${token}` });
    expect(first.body.data?.viewer.id).toBe('short-lived');
    // Served from the cache of verified tokens.
    const second = await gql<ViewerData>('{ viewer { id } }', undefined, { authorization: `Bearer ${token}` });
    expect(second.body.data?.viewer.id).toBe('short-lived');
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
    expectRejected(await gql<LeakData>(LEAK_QUERY, undefined, { authorization: `Bearer ${token}` }));
  });

  it('does not let a cached token vouch for a tampered copy of it', async () => {
    const token = await sign({ sub: 'cached-user', claims: { role: 'ANALYST' } });
    expect((await gql<ViewerData>('{ viewer { role } }', undefined, { authorization: `Bearer ${token}` })).body.data?.viewer.role).toBe('ANALYST');
    const [header, , signature] = token.split('.');
    const payload = { sub: 'cached-user', role: 'ADMIN', iss: app.auth.issuer, aud: app.auth.audience, iat: now(), exp: now() + 600 };
    expectRejected(await gql<LeakData>(LEAK_QUERY, undefined, { authorization: `Bearer ${header}.${b64url(payload)}.${signature}` }));
  });

  it('rejects a token without exp', async () => {
    const token = await new SignJWT({ role: 'ADMIN' }).setProtectedHeader({ alg: 'HS256' }).setSubject('attacker')
      .setIssuer(app.auth.issuer).setAudience(app.auth.audience).sign(app.auth.secret);
    expectRejected(await gql<LeakData>(LEAK_QUERY, undefined, { authorization: `Bearer ${token}` }));
  });

  it('accepts a hand-signed token with the right claims and returns its sub and role as viewer', async () => {
    const res = await gql<ViewerData>('{ viewer { id role } }', undefined, { authorization: `Bearer ${await sign({ sub: 'user-42', claims: { role: 'MARKETER' } })}` });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ viewer: { id: 'user-42', role: 'MARKETER' } });
  });

  it('returns the token sub and role from viewer', async () => {
    const token = await app.token('ANALYST', 'analyst-7');
    const res = await gql<ViewerData>('{ viewer { id role } }', undefined, { authorization: `bearer ${token}` });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ viewer: { id: 'analyst-7', role: 'ANALYST' } });
  });

  describe('roles', () => {
    const UPSERT = `mutation ($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { created customer { id } userErrors { field code } } }`;
    const RECORD_TX = `mutation ($input: RecordTransactionInput!) { recordTransaction(input: $input) { created userErrors { code } } }`;
    const RECORD_IX = `mutation ($input: RecordInteractionInput!) { recordInteraction(input: $input) { created userErrors { code } } }`;
    const counts = async () => ({
      customers: await app.db.db.$count(customers), transactions: await app.db.db.$count(transactions), interactions: await app.db.db.$count(interactions),
    });
    const txInput = () => ({
      source: 'shop', externalId: 'AUTH-TX-1', customer: { id: customerGid }, occurredAt: '2025-05-01T10:00:00Z', type: 'ORDER', currency: 'USD', amount: '10',
    });

    it('forbids MARKETER to upsert customers and writes nothing', async () => {
      const before = await counts();
      const res = await gql(UPSERT, { input: { source: 'crm', externalId: 'MKT-1', firstName: 'Sneaky' } }, { role: 'MARKETER' });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ upsertCustomer: null });
      expect(res.body.errors).toEqual([expect.objectContaining({ path: ['upsertCustomer'], extensions: { code: 'FORBIDDEN' } })]);
      expect(await counts()).toEqual(before);
    });

    it('reports an allowed write next to a refused one in the same operation (payloads are nullable)', async () => {
      const tagKey = 'auth_mixed_op';
      await createSeeder(app.db.db).tagDefinition(tagKey);
      const customer = await createSeeder(app.db.db).customer().create();
      const res = await gql<{ assignTag: { changed: boolean } | null; upsertCustomer: null }>(
        `mutation($c: ID!) { assignTag(input: { customerId: $c, tagKey: "${tagKey}" }) { changed }
          upsertCustomer(input: { source: "crm", externalId: "MKT-MIXED" }) { created } }`,
        { c: toGlobalId('Customer', customer.id) }, { role: 'MARKETER' });
      expect(res.body.data).toEqual({ assignTag: { changed: true }, upsertCustomer: null });
      expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['upsertCustomer'], 'FORBIDDEN']]);
    });

    it('forbids MARKETER to record transactions and writes nothing', async () => {
      const before = await counts();
      const res = await gql(RECORD_TX, { input: txInput() }, { role: 'MARKETER' });
      expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['recordTransaction'], 'FORBIDDEN']]);
      expect(await counts()).toEqual(before);
    });

    it('forbids ANALYST to record interactions and writes nothing', async () => {
      const before = await counts();
      const input = { source: 'helpdesk', externalId: 'AUTH-IX-1', customer: { id: customerGid }, channel: 'EMAIL', type: 'TICKET', occurredAt: '2025-05-01T10:00:00Z' };
      const res = await gql(RECORD_IX, { input }, { role: 'ANALYST' });
      expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(await counts()).toEqual(before);
    });

    it('lets ANALYST read customers', async () => {
      const res = await gql<{ viewer: { role: string }; customers: { totalCount: number } }>('{ viewer { role } customers(first: 5) { totalCount } }', undefined, { role: 'ANALYST' });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.viewer).toEqual({ role: 'ANALYST' });
      expect(res.body.data?.customers.totalCount).toBeGreaterThanOrEqual(1);
    });

    it('lets AGENT past the shield for upsertCustomer (validation answers, not FORBIDDEN)', async () => {
      const res = await gql<{ upsertCustomer: { created: boolean; userErrors: { field: string[]; code: string }[] } }>(
        UPSERT, { input: { source: 'crm', externalId: 'AGENT-0', email: 'not-an-email' } }, { role: 'AGENT' });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.upsertCustomer).toEqual({ created: false, customer: null, userErrors: [{ field: ['input', 'email'], code: 'BAD_USER_INPUT' }] });
    });

    it('lets AGENT upsert a customer', async () => {
      const before = await counts();
      const res = await gql<{ upsertCustomer: { created: boolean; userErrors: unknown[] } }>(
        UPSERT, { input: { source: 'crm', externalId: 'AGENT-1', firstName: 'Agent', lastName: 'Made' } }, { role: 'AGENT' });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.upsertCustomer).toMatchObject({ created: true, userErrors: [] });
      expect((await counts()).customers).toBe(before.customers + 1);
    });
  });

  it('never answers with a stack trace or SQL text, whatever the failure', async () => {
    const responses = await Promise.all([
      app.gql('{ customers(first: 1000) { totalCount } }'),
      app.gql('{ customer(id: "garbage") { id } }'),
      app.gql('{ nope }'),
      app.gql('{ customers(first: 1) {'),
      app.gql(LEAK_QUERY, undefined, { authorization: 'Bearer x.y.z' }),
      app.gql('mutation { upsertCustomer(input: { source: "crm", externalId: "X" }) { created } }', undefined, { role: 'ANALYST' }),
      // Passes validation and reaches the database (an internal failure, if any, must be masked too).
      app.gql('mutation ($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { created } }', { input: { source: 'crm', externalId: 'LEAK-1', firstName: 'X' } }),
    ]);
    expect(responses.every((r) => (r.body.errors?.length ?? 0) > 0 || r.body.data)).toBe(true);
    for (const res of responses) expectNoInternals(res);
  });
});
