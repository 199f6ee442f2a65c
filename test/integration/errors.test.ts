import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cursorScope, sealCursor, type CursorValue } from '../../src/lib/cursor';
import { toGlobalId, tryGlobalId } from '../../src/lib/global-id';
import { createSeeder } from '../factories/index';
import { startApp, type GqlResponse, type TestApp } from '../helpers/app';

interface ErrorBody { data?: unknown; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] }
interface CustomersPage { customers: { edges: { cursor: string; node: { id: string } }[] } }

const codes = (res: { body: ErrorBody }) => res.body.errors?.map((e) => e.extensions?.code);
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** POST /graphql with a raw body and extra headers (what `app.gql` cannot send). */
async function post(app: TestApp, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await app.token('ADMIN')}`, ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as ErrorBody };
}

describe('error contract', () => {
  let app: TestApp;
  let customerGid: string;
  let txCursor: string;
  beforeAll(async () => {
    app = await startApp();
    const seed = createSeeder(app.db.db);
    const row = await seed.customer().withTransactions(2).create();
    await seed.customer().create();
    customerGid = toGlobalId('Customer', row.id);
    const res = await app.gql<{ customer: { transactions: { edges: { cursor: string }[] } } }>(
      'query ($id: ID!) { customer(id: $id) { transactions(first: 1) { edges { cursor } } } }', { id: customerGid });
    txCursor = res.body.data!.customer.transactions.edges[0]!.cursor;
  });
  afterAll(async () => { await app?.close(); });

  const customersAfter = (after: string) =>
    app.gql<CustomersPage>('query ($after: String) { customers(first: 1, after: $after, orderBy: [CREATED_AT_DESC]) { edges { cursor node { id } } } }', { after });
  const expectBadInput = (res: GqlResponse<unknown>) => {
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    // Refused before execution (no data), or at its (nullable) root field.
    expect([null, { customers: null }]).toContainEqual(res.body.data ?? null);
  };

  it('answers a GraphQL syntax error with HTTP 400 and BAD_USER_INPUT', async () => {
    const res = await app.gql('{ customers(first: 1) { totalCount ');
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  });

  it('answers an unknown field with HTTP 400 and BAD_USER_INPUT', async () => {
    const res = await app.gql('{ customers { noSuchField } }');
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  });

  it('answers a variable of the wrong type with HTTP 400 and BAD_USER_INPUT', async () => {
    const res = await app.gql('query ($n: Int) { customers(first: $n) { totalCount } }', { n: 'ten' });
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  });

  it('answers an invalid Decimal variable with BAD_USER_INPUT', async () => {
    const res = await app.gql('mutation ($input: RecordTransactionInput!) { recordTransaction(input: $input) { created } }', {
      input: { source: 's', externalId: 'e', customer: { id: customerGid }, occurredAt: '2025-01-01T00:00:00Z', type: 'ORDER', currency: 'USD', amount: '1e3' },
    });
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  });

  it('answers customers(first: 1000) with BAD_USER_INPUT', async () => {
    const res = await app.gql('{ customers(first: 1000) { totalCount } }');
    expectBadInput(res);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.field).toBe('first');
  });

  it('accepts a cursor it issued', async () => {
    const first = await app.gql<CustomersPage>('{ customers(first: 1) { edges { cursor node { id } } } }');
    const next = await customersAfter(first.body.data!.customers.edges[0]!.cursor);
    expect(next.body.errors).toBeUndefined();
    expect(next.body.data?.customers.edges).toHaveLength(1);
    expect(next.body.data?.customers.edges[0]?.node.id).not.toBe(first.body.data?.customers.edges[0]?.node.id);
  });

  /**
   * Cursors are sealed with the server's key (this process shares it): a client cannot make these,
   * but the checks after decryption must still refuse them (defence in depth).
   */
  const CREATED_DESC = cursorScope('customers', null, { orderBy: ['CREATED_AT_DESC'], search: null, filter: null });
  const sealed = (values: CursorValue[]) => sealCursor(CREATED_DESC, values);
  const UUID = '0b6f3c52-1d4e-4b8a-9c3e-2f1a5d7e9b10';
  const AT = '2099-01-01T00:00:00.000000Z';

  it('accepts a position sealed under the right scope (so the refusals below are about their contents)', async () => {
    const res = await customersAfter(sealed([AT, UUID]));
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.customers.edges).toHaveLength(1);
  });

  const flip = (c: string) => { const b = Buffer.from(c, 'base64url'); b[b.length - 20]! ^= 1; return b.toString('base64url'); };
  it.each([
    ['random base64', () => b64('just some random bytes')],
    ['a non-base64 string', async () => '%%%not-base64%%%'],
    ['a cursor in the old base64-JSON format', async () => b64(['customers:CREATED_AT_DESC:', AT, UUID])],
    ['a cursor from transactions', async () => txCursor],
    ['a cursor of another ordering', async () => {
      const page = await app.gql<CustomersPage>('{ customers(first: 1, orderBy: [NAME_ASC]) { edges { cursor node { id } } } }');
      return page.body.data!.customers.edges[0]!.cursor;
    }],
    ['a real cursor with one bit changed', async () => {
      const page = await app.gql<CustomersPage>('{ customers(first: 1, orderBy: [CREATED_AT_DESC]) { edges { cursor node { id } } } }');
      return flip(page.body.data!.customers.edges[0]!.cursor);
    }],
    ['a cursor with a non-uuid id', async () => sealed([AT, 'not-a-uuid'])],
    ['a cursor with a 36-character id that is not a uuid', async () => sealed([AT, '-'.repeat(36)])],
    ['a cursor with a number as id', async () => sealed([AT, 42])],
    ['a cursor with a created-at value that is not a timestamp', async () => sealed(['yesterday', UUID])],
    ['a cursor with a missing value', async () => sealed([UUID])],
    ['a cursor of another scope', async () => sealCursor(cursorScope('customers:HACKED', null), [AT, UUID])],
  ])('answers a tampered customers cursor (%s) with HTTP 400 and BAD_USER_INPUT, never INTERNAL_SERVER_ERROR', async (_label, cursor) => {
    const res = await customersAfter(await cursor());
    expectBadInput(res);
    expect(res.status).toBe(400);
  });

  it('answers a customers cursor with an impossible created-at timestamp with BAD_USER_INPUT', async () => {
    expectBadInput(await customersAfter(sealed(['2025-13-45T99:99:99.000000Z', UUID])));
  });

  it('keeps a refused cursor at its path, with HTTP 200, when other root fields answer', async () => {
    const res = await app.gql<{ viewer: { role: string } }>('query ($after: String) { viewer { role } customers(after: $after) { totalCount } }', { after: 'garbage' });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ viewer: { role: 'ADMIN' }, customers: null });
    expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['customers'], 'BAD_USER_INPUT']]);
  });

  it('answers a customers cursor used on transactions with BAD_USER_INPUT', async () => {
    const page = await app.gql<CustomersPage>('{ customers(first: 1) { edges { cursor node { id } } } }');
    const res = await app.gql('query ($id: ID!, $after: String) { customer(id: $id) { transactions(after: $after) { totalCount } } }', {
      id: customerGid, after: page.body.data!.customers.edges[0]!.cursor,
    });
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  });

  it('answers a transactions cursor with an impossible timestamp with BAD_USER_INPUT', async () => {
    const customerId = tryGlobalId(customerGid, 'Customer')!;
    const after = sealCursor(cursorScope('Customer.transactions', customerId, { from: null, to: null }), ['2025-13-45T99:99:99.000000Z', '0b6f3c52-1d4e-4b8a-9c3e-2f1a5d7e9b10']);
    const ok = sealCursor(cursorScope('Customer.transactions', customerId, { from: null, to: null }), ['2099-01-01T00:00:00.000000Z', '0b6f3c52-1d4e-4b8a-9c3e-2f1a5d7e9b10']);
    const q = 'query ($id: ID!, $after: String) { customer(id: $id) { transactions(after: $after) { totalCount } } }';
    expect((await app.gql(q, { id: customerGid, after: ok })).body.errors).toBeUndefined();
    expect(codes(await app.gql(q, { id: customerGid, after }))).toEqual(['BAD_USER_INPUT']);
  });

  it('answers a body that is not JSON with HTTP 400', async () => {
    const res = await post(app, '{"query": "{ viewer { id } }"');
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  });

  it('answers a JSON body without a query with HTTP 400 and BAD_USER_INPUT', async () => {
    const res = await post(app, JSON.stringify({ variables: {} }));
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  });

  it('echoes a given X-Request-Id', async () => {
    const res = await post(app, JSON.stringify({ query: '{ viewer { id } }' }), { 'x-request-id': 'my-req-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('my-req-1');
  });

  it('reports the statement count and where the time went (SQL within total) when SQL_COUNT_HEADER is on', async () => {
    const res = await app.gql('query ($id: ID!) { customer(id: $id) { id transactions(first: 1) { edges { node { id } } } } }', { id: customerGid });
    expect(res.statements).toBeGreaterThanOrEqual(1);
    const timing = res.headers.get('server-timing') ?? '';
    // Between them, the execution path that answered (src/plan/): `compiled;dur=` or `resolvers`.
    const m = /^sql;dur=(\d+\.\d{2});desc="(\d+) statements", (compiled;dur=\d+\.\d{2}|resolvers), total;dur=(\d+\.\d{2})$/.exec(timing);
    expect(m, timing).not.toBeNull();
    expect(Number(m![2])).toBe(res.statements);
    expect(m![3]).toMatch(/^compiled;/);
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![1])).toBeLessThanOrEqual(Number(m![4]));
  });

  it('replaces an unsafe X-Request-Id with a generated one', async () => {
    const res = await post(app, JSON.stringify({ query: '{ viewer { id } }' }), { 'x-request-id': 'bad id <script>' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('answers with codes from the closed list only', async () => {
    const allowed = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'RATE_LIMITED', 'QUERY_TOO_COMPLEX', 'TIMEOUT', 'SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR'];
    const responses = await Promise.all([
      app.gql('{ customers(first: 1) {'),
      app.gql('query ($n: Int) { customers(first: $n) { totalCount } }', { n: 'x' }),
      app.gql('{ customer(id: "x") { id } }'),
      app.gql('query { customer(id: "x") { id } } query B { viewer { id } }'),
      app.gql('{ viewer { id } }', undefined, { authorization: null }),
    ]);
    for (const res of responses) {
      expect(res.body.errors?.length).toBeGreaterThan(0);
      for (const code of codes(res) ?? []) expect(allowed).toContain(code);
    }
  });
});

describe('body limit', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp({ BODY_LIMIT_BYTES: '2048' }); });
  afterAll(async () => { await app?.close(); });

  it('answers a body over the limit with HTTP 413', async () => {
    const res = await post(app, JSON.stringify({ query: `{ viewer { id } } # ${'x'.repeat(3000)}` }));
    expect(res.status).toBe(413);
    expect(res.body.data ?? null).toBeNull();
  });

  it('serves a body under the limit', async () => {
    const res = await post(app, JSON.stringify({ query: `{ viewer { id } } # ${'x'.repeat(1500)}` }));
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ viewer: { id: 'test-admin' } });
  });
});

describe('masking of internal failures', () => {
  let app: TestApp;
  let customerGid: string;
  beforeAll(async () => {
    app = await startApp();
    customerGid = toGlobalId('Customer', (await createSeeder(app.db.db).customer().create()).id);
    await app.db.db.execute(sql`DROP TABLE customer_identities CASCADE`);
  });
  afterAll(async () => { await app?.close(); });

  it('masks a database failure as INTERNAL_SERVER_ERROR with the request id and no detail', async () => {
    const res = await post(app, JSON.stringify({ query: 'query ($id: ID!) { customer(id: $id) { id externalIds { source } } }', variables: { id: customerGid } }));
    expect(res.body.errors).toHaveLength(1);
    const [error] = res.body.errors!;
    expect(error?.message).toBe('Internal server error');
    expect(error?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: res.headers.get('x-request-id') });
    expect(error?.path).toEqual(['customer', 'externalIds']);
    const text = JSON.stringify(res.body);
    expect(text).not.toContain('customer_identities');
    expect(text).not.toMatch(/stacktrace|SELECT|relation/i);
  });

  it('puts a given X-Request-Id into the masked error', async () => {
    const res = await post(app, JSON.stringify({ query: 'query ($id: ID!) { customer(id: $id) { externalIds { source } } }', variables: { id: customerGid } }),
      { 'x-request-id': 'my-req-1' });
    expect(res.headers.get('x-request-id')).toBe('my-req-1');
    expect(res.body.errors?.[0]?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: 'my-req-1' });
  });

  it('keeps the fields that did not fail', async () => {
    const res = await app.gql<{ viewer: { id: string }; customer: null }>(
      'query ($id: ID!) { viewer { id } customer(id: $id) { externalIds { source } } }', { id: customerGid });
    expect(res.body.data?.viewer).toEqual({ id: 'test-admin' });
    expect(codes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
  });
});
