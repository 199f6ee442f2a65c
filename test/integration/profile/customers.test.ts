import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeeder, type Seeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

interface Conn {
  customers: {
    totalCount: number;
    edges: { cursor: string; node: { id: string; displayName: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const LIST = `query($filter: CustomerFilter, $orderBy: [CustomerOrder!], $first: Int, $after: String) {
  customers(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount edges { cursor node { id displayName } } pageInfo { hasNextPage endCursor } } }`;

describe('customers: filters', () => {
  let app: TestApp;
  let seed: Seeder;
  beforeAll(async () => {
    app = await startApp();
    seed = createSeeder(app.db.db);
    await seed.customer({ firstName: 'Ada', lastName: 'Lovelace', email: 'Ada@Example.com', emailNormalized: 'ada@example.com', phone: '+14155550132', phoneE164: '+14155550132', country: 'GB', lifecycleStage: 'ACTIVE', createdAt: new Date('2024-01-10T00:00:00Z') }).create();
    await seed.customer({ firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com', emailNormalized: 'grace@example.com', phone: '+4930123456', phoneE164: '+4930123456', country: 'US', lifecycleStage: 'AT_RISK', createdAt: new Date('2024-03-01T00:00:00Z') }).create();
    await seed.customer({ firstName: 'Alan', lastName: '100%_Turing', country: 'GB', lifecycleStage: 'CHURNED', createdAt: new Date('2024-06-01T00:00:00Z') }).create();
  });
  afterAll(async () => { await app?.close(); });

  const names = async (filter: Record<string, unknown>) => {
    const res = await app.gql<Conn>(LIST, { filter, orderBy: ['NAME_ASC'] });
    expect(res.body.errors).toBeUndefined();
    return { names: res.body.data?.customers.edges.map((e) => e.node.displayName), total: res.body.data?.customers.totalCount };
  };

  it('matches an exact email whatever its case and surrounding spaces', async () => {
    expect(await names({ email: '  ADA@example.COM ' })).toEqual({ names: ['Ada Lovelace'], total: 1 });
  });

  it.each(['(415) 555-0132', '415.555.0132', '+1 415 555 0132', '1-415-555-0132', '011 1 415 555 0132'])('matches a phone typed as %s', async (phone) => {
    expect((await names({ phone })).names).toEqual(['Ada Lovelace']);
  });

  it('matches an international phone in its own format', async () => {
    expect((await names({ phone: '+49 30 123456' })).names).toEqual(['Grace Hopper']);
  });

  it('matches nobody for an invalid email or phone instead of failing', async () => {
    expect(await names({ email: 'not-an-email' })).toEqual({ names: [], total: 0 });
    expect(await names({ phone: '12' })).toEqual({ names: [], total: 0 });
  });

  it('finds names containing the text, case-insensitively, with % and _ taken literally', async () => {
    expect((await names({ nameContains: 'LOVE' })).names).toEqual(['Ada Lovelace']);
    expect((await names({ nameContains: '100%_' })).names).toEqual(['Alan 100%_Turing']);
    expect((await names({ nameContains: '%' })).names).toEqual(['Alan 100%_Turing']);
  });

  it('filters by created-at range (from inclusive, to exclusive), country and lifecycle stage together', async () => {
    expect((await names({ createdAt: { from: '2024-01-10T00:00:00Z', to: '2024-06-01T00:00:00Z' } })).names).toEqual(['Ada Lovelace', 'Grace Hopper']);
    expect((await names({ country: 'gb' })).names).toEqual(['Ada Lovelace', 'Alan 100%_Turing']);
    expect((await names({ lifecycleStage: ['AT_RISK', 'CHURNED'] })).names).toEqual(['Alan 100%_Turing', 'Grace Hopper']);
    expect(await names({ country: 'GB', lifecycleStage: ['CHURNED'] })).toEqual({ names: ['Alan 100%_Turing'], total: 1 });
  });

  it('rejects a malformed country with BAD_USER_INPUT', async () => {
    const res = await app.gql<Conn>(LIST, { filter: { country: 'Germany' } });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('customers: keyset pagination', () => {
  let app: TestApp;
  let seed: Seeder;
  beforeAll(async () => {
    app = await startApp();
    seed = createSeeder(app.db.db);
    for (let i = 0; i < 25; i++) {
      await seed.customer({ firstName: `Name${String(i).padStart(2, '0')}`, lastName: 'X', createdAt: new Date(Date.UTC(2024, 0, 1 + i)) }).create();
    }
  });
  afterAll(async () => { await app?.close(); });

  async function readAll(orderBy: string[], first: number, between?: (page: number) => Promise<void>) {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const res: Awaited<ReturnType<typeof app.gql<Conn>>> = await app.gql<Conn>(LIST, { orderBy, first, after });
      expect(res.body.errors).toBeUndefined();
      const c = res.body.data!.customers;
      seen.push(...c.edges.map((e) => e.node.displayName));
      if (!c.pageInfo.hasNextPage) return seen;
      after = c.pageInfo.endCursor;
      await between?.(page);
    }
    throw new Error('did not finish paging');
  }

  it('pages through every customer exactly once by name', async () => {
    const all = await readAll(['NAME_ASC'], 7);
    expect(all).toHaveLength(25);
    expect(all).toEqual([...all].sort());
  });

  it('neither repeats nor skips existing rows when rows are inserted between pages', async () => {
    const before = await readAll(['CREATED_AT_DESC'], 5);
    let n = 0;
    const during = await readAll(['CREATED_AT_DESC'], 5, async () => {
      // One row newer than everything (sorts before the cursor) and one in the middle of the range.
      await seed.customer({ firstName: `Inserted${n++}`, lastName: 'New', createdAt: new Date() }).create();
      await seed.customer({ firstName: `Inserted${n++}`, lastName: 'Mid', createdAt: new Date(Date.UTC(2024, 0, 3, 12)) }).create();
    });
    const existing = during.filter((name) => !name.startsWith('Inserted'));
    expect(existing).toEqual(before);
    expect(new Set(during).size).toBe(during.length);
  });

  it('orders by several keys and returns a totalCount independent of the page', async () => {
    const res = await app.gql<Conn>(LIST, { orderBy: ['NAME_DESC', 'CREATED_AT_ASC'], first: 3 });
    expect(res.body.errors).toBeUndefined();
    const c = res.body.data!.customers;
    expect(c.edges).toHaveLength(3);
    const names = c.edges.map((e) => e.node.displayName);
    expect(names).toEqual([...names].sort().reverse());
    const next = await app.gql<Conn>(LIST, { orderBy: ['NAME_DESC', 'CREATED_AT_ASC'], first: 3, after: c.pageInfo.endCursor });
    expect(next.body.data!.customers.totalCount).toBe(c.totalCount);
    expect(next.body.data!.customers.edges[0]!.node.displayName < names[2]!).toBe(true);
  });

  it('rejects a cursor of another ordering with BAD_USER_INPUT', async () => {
    const res = await app.gql<Conn>(LIST, { orderBy: ['NAME_ASC'], first: 2 });
    const other = await app.gql<Conn>(LIST, { orderBy: ['CREATED_AT_DESC'], first: 2, after: res.body.data!.customers.pageInfo.endCursor });
    expect(other.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('defaults to 20 per page and refuses more than 100', async () => {
    const res = await app.gql<Conn>(LIST, {});
    expect(res.body.data!.customers.edges).toHaveLength(20);
    const tooMany = await app.gql<Conn>(LIST, { first: 101 });
    expect(tooMany.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('lookups', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app?.close(); });

  it('resolves customer, customerByExternalId and node to the same record', async () => {
    const seed = createSeeder(app.db.db);
    await seed.customer({ firstName: 'Katherine', lastName: 'Johnson' }).withIdentity('crm', 'CRM-42').withTransactions(1).create();
    const byExt = await app.gql<{ customerByExternalId: { id: string; displayName: string; transactions: { edges: { node: { id: string } }[] } } }>(
      '{ customerByExternalId(source: "crm", externalId: "CRM-42") { id displayName transactions { edges { node { id } } } } }');
    const c = byExt.body.data!.customerByExternalId;
    expect(c.displayName).toBe('Katherine Johnson');
    const byId = await app.gql<{ customer: { displayName: string } }>('query($id: ID!) { customer(id: $id) { displayName } }', { id: c.id });
    expect(byId.body.data!.customer.displayName).toBe('Katherine Johnson');
    const node = await app.gql<{ c: { __typename: string; displayName: string }; t: { __typename: string; id: string } }>(
      'query($c: ID!, $t: ID!) { c: node(id: $c) { __typename ... on Customer { displayName } } t: node(id: $t) { __typename id } }',
      { c: c.id, t: c.transactions.edges[0]!.node.id });
    expect(node.body.data).toEqual({
      c: { __typename: 'Customer', displayName: 'Katherine Johnson' },
      t: { __typename: 'Transaction', id: c.transactions.edges[0]!.node.id },
    });
  });

  it('returns null for unknown external ids and for malformed node ids', async () => {
    const res = await app.gql<{ customerByExternalId: null; node: null }>(
      '{ customerByExternalId(source: "crm", externalId: "nope") { id } node(id: "garbage!") { id } }');
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ customerByExternalId: null, node: null });
  });
});
