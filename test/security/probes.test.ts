import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeeder } from '../factories/index';
import { startApp, type TestApp } from '../helpers/app';

const codeOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => body.errors?.[0]?.extensions?.code;

describe('introspection and suggestion probes', () => {
  let dev: TestApp;
  let prod: TestApp;
  let partnerKey: string;
  beforeAll(async () => {
    dev = await startApp();
    prod = await startApp({ NODE_ENV: 'production' });
    const res = await dev.gql<{ createApiKey: { secret: string } }>(
      'mutation { createApiKey(input: { name: "probe", scopes: ["customers:read"], purpose: "partner_sharing" }) { secret } }');
    partnerKey = res.body.data!.createApiKey.secret;
  });
  afterAll(async () => { await dev?.close(); await prod?.close(); });

  it('refuses introspection to partner keys, directly or through a fragment', async () => {
    for (const q of ['{ __schema { types { name } } }', '{ ...F } fragment F on Query { __type(name: "Customer") { fields { name } } }']) {
      const res = await dev.gql(q, undefined, { authorization: `Bearer ${partnerKey}` });
      expect(codeOf(res.body)).toBe('FORBIDDEN');
      expect(JSON.stringify(res.body)).not.toContain('Customer"');
    }
    const typename = await dev.gql('{ __typename viewer { id } }', undefined, { authorization: `Bearer ${partnerKey}` });
    expect(typename.body.errors).toBeUndefined();
  });

  it('allows introspection to users outside production, and refuses it in production', async () => {
    expect((await dev.gql('{ __schema { queryType { name } } }')).body.errors).toBeUndefined();
    const res = await prod.gql('{ __schema { queryType { name } } }');
    expect(codeOf(res.body)).toBe('BAD_USER_INPUT');
    expect(res.body.data ?? null).toBeNull();
  });

  it('gives no field suggestions in production', async () => {
    const res = await prod.gql('{ customrs { totalCount } }');
    expect(codeOf(res.body)).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(res.body)).not.toMatch(/Did you mean/);
    const devRes = await dev.gql('{ customrs { totalCount } }');
    expect(JSON.stringify(devRes.body)).toMatch(/Did you mean/);
  });
});

describe('injection attempts in every string argument', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
    await createSeeder(app.db.db).customer({ firstName: 'Ivy' }).withIdentity('crm', 'I-1').withTransactions(2).create();
  });
  afterAll(async () => { await app?.close(); });

  const PAYLOADS = ["'; DROP TABLE customers; --", "' OR '1'='1", '") OR 1=1 --', '\\', '%_%', '$1', "Robert'); DELETE FROM customers;--", '{"$ne": null}'];
  const total = async () => (await app.gql<{ customers: { totalCount: number } }>('{ customers { totalCount } }')).body.data!.customers.totalCount;

  it.each(PAYLOADS)('treats %s as data in search, filters, lookups and tags', async (p) => {
    const queries: [string, Record<string, unknown>][] = [
      ['query($p: String) { customers(search: $p) { totalCount } }', { p }],
      ['query($p: String) { customers(filter: { nameContains: $p, email: $p, phone: $p }) { totalCount } }', { p }],
      ['query($p: String!) { customers(filter: { city: [$p], region: [$p], tag: { key: $p, equals: $p } }) { totalCount } }', { p }],
      ['query($p: String!) { customers(filter: { consent: { purpose: $p, status: GRANTED }, transactions: { channel: [$p], category: [$p] } }) { totalCount } }', { p }],
      ['query($p: String!) { customerByExternalId(source: $p, externalId: $p) { id } }', { p }],
      ['query($p: String) { customers(after: $p) { totalCount } }', { p }],
      ['query($p: ID!) { node(id: $p) { id } customer(id: $p) { id } }', { p }],
    ];
    for (const [q, vars] of queries) {
      const res = await app.gql(q, vars);
      expect([undefined, 'BAD_USER_INPUT', 'NOT_FOUND']).toContain(codeOf(res.body));
      expect(JSON.stringify(res.body)).not.toMatch(/syntax error at|INTERNAL_SERVER_ERROR/);
    }
    expect(await total()).toBe(1);
  });

  it('accepts only enum values as sort keys and dimensions (no column names)', async () => {
    for (const q of ['{ customers(orderBy: [email]) { totalCount } }', '{ customers(orderBy: ["created_at; DROP TABLE customers"]) { totalCount } }',
      '{ customerStats(groupBy: [{ dimension: email }]) { suppressedGroups } }']) {
      expect(codeOf((await app.gql(q)).body)).toBe('BAD_USER_INPUT');
    }
    const viaVar = await app.gql('query($o: [CustomerOrder!]) { customers(orderBy: $o) { totalCount } }', { o: ['display_name DESC'] });
    expect(codeOf(viaVar.body)).toBe('BAD_USER_INPUT');
  });

  it('rejects huge lists and deep filter trees as BAD_USER_INPUT', async () => {
    const many = Array.from({ length: 600 }, (_, i) => `city${i}`);
    expect(codeOf((await app.gql('query($c: [String!]) { customers(filter: { city: $c }) { totalCount } }', { c: many })).body)).toBe('BAD_USER_INPUT');
    const wide = Array.from({ length: 80 }, () => ({ gender: ['MALE'] }));
    expect(codeOf((await app.gql('query($f: CustomerFilter) { customers(filter: $f) { totalCount } }', { f: { or: wide } })).body)).toBe('BAD_USER_INPUT');
  });
});
