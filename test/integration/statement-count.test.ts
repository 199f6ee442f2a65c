import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeeder } from '../factories/index';
import { startApp, type TestApp } from '../helpers/app';
import { FULL_360 } from '../helpers/queries';

interface Page { customers: { totalCount: number; edges: { node: { transactions: { totalCount: number; edges: unknown[] }; timeline: { edges: unknown[] } } }[] } }

describe('SQL statements of the full 360 query', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
    const seed = createSeeder(app.db.db);
    for (let i = 0; i < 50; i++) {
      await seed.customer().withIdentity('crm', `CRM-SC-${i}`).withTransactions(12).withInteractions(3).withTag('vip').create();
    }
  });
  afterAll(async () => { await app?.close(); });

  it('is the same for 5 and for 50 customers: the page, then every relation in one statement', async () => {
    const five = await app.gql<Page>(FULL_360, { first: 5 });
    const fifty = await app.gql<Page>(FULL_360, { first: 50 });
    expect(five.body.errors).toBeUndefined();
    expect(fifty.body.errors).toBeUndefined();
    expect(five.body.data?.customers.edges).toHaveLength(5);
    expect(fifty.body.data?.customers.edges).toHaveLength(50);
    expect(fifty.statements).toBe(five.statements);
    expect(five.statements).toBe(2);
  });

  it('pages every child list for all parents (10 of 12 transactions each, totalCount 12)', async () => {
    const res = await app.gql<Page>(FULL_360, { first: 50 });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.customers.edges).toHaveLength(50);
    for (const { node } of res.body.data!.customers.edges) {
      expect(node.transactions.totalCount).toBe(12);
      expect(node.transactions.edges).toHaveLength(10);
      expect(node.timeline.edges).toHaveLength(5);
    }
    expect(res.body.data?.customers.totalCount).toBe(50);
  });

  it('counts without reading a page when only totalCount is selected', async () => {
    const only = await app.gql<{ customers: { totalCount: number } }>('{ customers(filter: { countries: ["US"] }) { totalCount } }');
    const paged = await app.gql<{ customers: { totalCount: number; edges: unknown[] } }>('{ customers(filter: { countries: ["US"] }, first: 1) { totalCount edges { cursor } } }');
    expect(only.body.errors).toBeUndefined();
    expect(only.body.data!.customers.totalCount).toBe(50);
    expect(paged.body.data!.customers.totalCount).toBe(50);
    expect(paged.body.data!.customers.edges).toHaveLength(1);
    expect(only.statements).toBe(1);
  });

  it('does not grow with the number of parents for customer(id) either', async () => {
    const page = await app.gql<{ customers: { edges: { node: { id: string } }[] } }>('{ customers(first: 3) { edges { node { id } } } }');
    const ids = page.body.data!.customers.edges.map((e) => e.node.id);
    expect(ids).toHaveLength(3);
    const fields = FULL_360.slice(FULL_360.indexOf('id displayName'), FULL_360.lastIndexOf('} } pageInfo'));
    const one = await app.gql(`query($a: ID!) { a: customer(id: $a) { ${fields} } }`, { a: ids[0] });
    const three = await app.gql(`query($a: ID!, $b: ID!, $c: ID!) { a: customer(id: $a) { ${fields} } b: customer(id: $b) { ${fields} } c: customer(id: $c) { ${fields} } }`,
      { a: ids[0], b: ids[1], c: ids[2] });
    expect(one.body.errors).toBeUndefined();
    expect(three.body.errors).toBeUndefined();
    expect(three.statements).toBe(one.statements);
    expect(one.statements).toBe(1);
  });

  it('answers exactly as the per-relation loaders do (customer(id) looks ahead, node(id) does not)', async () => {
    const page = await app.gql<{ customers: { edges: { node: { id: string } }[] } }>('{ customers(first: 4) { edges { node { id } } } }');
    const fields = FULL_360.slice(FULL_360.indexOf('id displayName'), FULL_360.lastIndexOf('} } pageInfo'));
    expect(page.body.errors).toBeUndefined();
    const edges = page.body.data!.customers.edges;
    expect(edges).toHaveLength(4);
    for (const { node: { id } } of edges) {
      const ahead = await app.gql<{ c: unknown }>(`query($id: ID!) { c: customer(id: $id) { ${fields} } }`, { id });
      const plain = await app.gql<{ c: unknown }>(`query($id: ID!) { c: node(id: $id) { ... on Customer { ${fields} } } }`, { id });
      expect(plain.statements).toBeGreaterThan(ahead.statements);
      expect(ahead.body.errors).toBeUndefined();
      expect(ahead.body.data?.c).toEqual(plain.body.data?.c);
    }
  });

  it('gives each alias of a relation its own arguments, and invalid arguments their own error', async () => {
    const page = await app.gql<{ customers: { edges: { node: { id: string } }[] } }>('{ customers(first: 1) { edges { node { id } } } }');
    const id = page.body.data?.customers.edges[0]?.node.id;
    const res = await app.gql<{ customer: { two: { edges: unknown[] }; three: { edges: unknown[] }; tl: { edges: unknown[] } } }>(
      `query($id: ID!) { customer(id: $id) { two: transactions(first: 2) { edges { node { id } } } three: transactions(first: 3) { edges { node { id } } }
         tl: timeline(first: 4) { edges { node { __typename } } } } }`, { id });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.customer.two.edges).toHaveLength(2);
    expect(res.body.data?.customer.three.edges).toHaveLength(3);
    expect(res.body.data?.customer.tl.edges).toHaveLength(4);
    const bad = await app.gql(`query($id: ID!) { customer(id: $id) { displayName transactions(first: 1000) { totalCount } } }`, { id });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.body.errors?.[0]?.path).toEqual(['customer', 'transactions']);
  });
});
