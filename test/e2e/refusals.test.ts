import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type GqlResponse, type TestApp } from '../helpers/app';

/**
 * Requests the gateway refuses on purpose answer a 4xx with a code from the closed list, through the
 * real HTTP server: never a 500 (issue 18, points 8 and 9).
 */
const refusal = (res: GqlResponse) => ({ status: res.status, code: res.body.errors?.[0]?.extensions?.code, data: res.body.data ?? null });

/** `{ and: [{ and: [ ... { nameContains: "a" } ] }] }`, `levels` deep. */
function nestedFilter(levels: number): Record<string, unknown> {
  let f: Record<string, unknown> = { nameContains: 'a' };
  for (let i = 0; i < levels; i++) f = { and: [f] };
  return f;
}

describe('refused requests answer 4xx, not 500', () => {
  let app: TestApp;
  let partnerKey: string;
  let slowKey: string;
  const createKey = async (name: string, rate: number) => (await app.gql<{ createApiKey: { secret: string } }>(
    `mutation { createApiKey(input: { name: "${name}", scopes: ["customers:read"], purpose: "partner_sharing", rateLimitPerMinute: ${rate} }) { secret } }`)).body.data!.createApiKey.secret;
  beforeAll(async () => {
    // LIMIT_MAX_COST 200: ADMIN's budget is 200, ANALYST's 100.
    app = await startApp({ LIMIT_MAX_COST: '200' });
    partnerKey = await createKey('refusals', 600);
    slowKey = await createKey('slow', 1);
  });
  afterAll(async () => { await app?.close(); });

  it('answers 400 BAD_USER_INPUT to a NUL character in a variable and in a literal', async () => {
    expect(refusal(await app.gql('query($s: String) { customers(search: $s) { totalCount } }', { s: 'Ada\u0000' })))
      .toEqual({ status: 400, code: 'BAD_USER_INPUT', data: null });
    expect(refusal(await app.gql('{ customers(filter: { nameContains: "a\\u0000b" }) { totalCount } }')))
      .toEqual({ status: 400, code: 'BAD_USER_INPUT', data: null });
  });

  it('answers 400 QUERY_TOO_COMPLEX over the cost budget', async () => {
    const res = await app.gql('{ customers(first: 5) { edges { node { id displayName email phone lifecycleStage } } } }', undefined, { role: 'ANALYST' });
    expect(refusal(res)).toEqual({ status: 400, code: 'QUERY_TOO_COMPLEX', data: null });
    expect(res.body.errors?.[0]?.message).toBe('Query Cost limit of 100 exceeded, found 131.875.');
  });

  it('answers 400 QUERY_TOO_COMPLEX to first: 99999999', async () => {
    expect(refusal(await app.gql('{ customers(first: 99999999) { totalCount edges { node { id } } } }')))
      .toEqual({ status: 400, code: 'QUERY_TOO_COMPLEX', data: null });
  });

  it('answers 403 FORBIDDEN to introspection by a partner key', async () => {
    const res = await app.gql('{ __schema { types { name } } }', undefined, { authorization: `Bearer ${partnerKey}` });
    expect(refusal(res)).toEqual({ status: 403, code: 'FORBIDDEN', data: null });
  });

  it('answers 429 RATE_LIMITED with retry-after once the key\'s bucket is empty', async () => {
    // The key's rate is 1 per minute: its bucket holds one request.
    const statuses: number[] = [];
    let last: GqlResponse | undefined;
    for (let i = 0; i < 2; i++) {
      last = await app.gql('{ viewer { id } }', undefined, { authorization: `Bearer ${slowKey}` });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 429]);
    expect(last!.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('answers 401 UNAUTHENTICATED without a token', async () => {
    expect(refusal(await app.gql('{ viewer { id } }', undefined, { authorization: null })))
      .toEqual({ status: 401, code: 'UNAUTHENTICATED', data: null });
  });

  it('keeps HTTP 200 and the rest of the data when one field is refused while executing', async () => {
    const res = await app.gql<{ viewer: { id: string }; customer: null }>('{ viewer { id } customer(id: "bogus") { id } }');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ viewer: { id: 'test-admin' }, customer: null });
    expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['customer'], 'BAD_USER_INPUT']]);
    // FORBIDDEN at a field: still a GraphQL result, not an HTTP 403.
    const agent = await app.gql('{ apiKeys { id } }', undefined, { role: 'AGENT' });
    expect(agent.status).toBe(200);
    expect(agent.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['apiKeys'], 'FORBIDDEN']]);
  });

  it('never shows the http extension to clients', async () => {
    const res = await app.gql('{ __schema { types { name } } }', undefined, { authorization: `Bearer ${partnerKey}` });
    expect(res.body.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN' });
  });
});

describe('deeply nested variables (issue 18, point 9)', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app?.close(); });
  const Q = 'query($f: CustomerFilter) { customers(filter: $f) { totalCount } }';

  it('refuses an `and` nested 2,000 deep with 400 BAD_USER_INPUT before coercion', async () => {
    const res = await app.gql(Q, { f: nestedFilter(2000) });
    expect(refusal(res)).toEqual({ status: 400, code: 'BAD_USER_INPUT', data: null });
    expect(res.body.errors?.[0]?.message).toBe('Variables nest deeper than 32 levels');
  });

  it('refuses variables with more than 50,000 values', async () => {
    const res = await app.gql('mutation($ids: [ID!]!) { addSegmentMembers(segmentId: "x", customerIds: $ids) { userErrors { message } } }', { ids: Array.from({ length: 50_001 }, (_, i) => `c${i}`) });
    expect(refusal(res)).toEqual({ status: 400, code: 'BAD_USER_INPUT', data: null });
    expect(res.body.errors?.[0]?.message).toBe('Variables hold more than 50000 values');
  });

  it('runs a filter nested as deep as filters may nest (6 levels)', async () => {
    const res = await app.gql<{ customers: { totalCount: number } }>(Q, { f: nestedFilter(6) });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.customers.totalCount).toBe(0);
  });
});
