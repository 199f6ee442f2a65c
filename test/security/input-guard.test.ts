import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../helpers/app';

describe('strings PostgreSQL cannot store', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app?.close(); });

  it.each([
    ['a variable', 'query($s: String) { customers(search: $s) { totalCount } }', { s: 'Ada\u0000' }],
    ['a nested input variable', 'mutation($i: UpsertCustomerInput!) { upsertCustomer(input: $i) { created } }', { i: { source: 'crm', externalId: 'X\u0000' } }],
    ['an inline literal', 'query { customers(filter: { nameContains: "a\\u0000b" }) { totalCount } }', undefined],
  ])('refuses a NUL character in %s with BAD_USER_INPUT, not an internal error', async (_what, query, variables) => {
    const res = await app.gql(query, variables);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('rejects control characters in external ids as userErrors', async () => {
    const res = await app.gql<{ upsertCustomer: { userErrors: { field: string[] }[] } }>(
      'mutation($i: UpsertCustomerInput!) { upsertCustomer(input: $i) { userErrors { field } } }', { i: { source: 'crm', externalId: 'A\tB' } });
    expect(res.body.data!.upsertCustomer.userErrors.map((e) => e.field.join('.'))).toEqual(['input.externalId']);
  });
});
