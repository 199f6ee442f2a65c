import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeeder } from '../factories/index';
import { startApp, type TestApp } from '../helpers/app';

describe('customer 360 smoke', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app?.close(); });

  it('answers the 360 query for a seeded customer', async () => {
    const seed = createSeeder(app.db.db);
    await seed.customer({ firstName: 'Ada', lastName: 'Lovelace' }).withIdentity('crm', 'CRM-1').withTransactions(3).withInteractions(2).withTag('vip').create();
    const res = await app.gql(`{ customers(first: 5) { totalCount edges { node { displayName externalIds { source externalId }
      tags { tag { key } } metrics { orderCount totalSpent { amount currency } }
      transactions(first: 2) { totalCount edges { node { amount { amount } items { sku quantity } } } }
      interactions(first: 10) { totalCount edges { node { channel } } }
      timeline(first: 4) { edges { node { __typename } } } } } } }`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ customers: { totalCount: 1, edges: [{ node: {
      displayName: 'Ada Lovelace',
      externalIds: [{ source: 'crm', externalId: 'CRM-1' }],
      tags: [{ tag: { key: 'vip' } }],
      metrics: { orderCount: 3, totalSpent: { amount: '30.0000', currency: 'USD' } },
      transactions: { totalCount: 3, edges: [
        { node: { amount: { amount: '10.0000' }, items: [{ sku: expect.stringMatching(/^SKU-TX-/), quantity: 1 }] } },
        { node: { amount: { amount: '10.0000' }, items: [{ sku: expect.stringMatching(/^SKU-TX-/), quantity: 1 }] } },
      ] },
      interactions: { totalCount: 2, edges: [{ node: { channel: 'EMAIL' } }, { node: { channel: 'EMAIL' } }] },
      timeline: { edges: [{ node: { __typename: expect.any(String) } }, { node: { __typename: expect.any(String) } }, { node: { __typename: expect.any(String) } }, { node: { __typename: expect.any(String) } }] },
    } }] } });
    // The 360 query costs the page and one look-ahead statement for all its relations.
    expect(res.statements).toBe(2);
  });
});
