import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transactions } from '../../../src/db/schema/index';
import { toGlobalId } from '../../../src/lib/global-id';
import { refreshLifecycleStages } from '../../../src/modules/tags/tag-jobs.service';
import { createSeeder, type Seeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

const DAY = 86_400_000;
const QUERY = `query ($id: ID!) { customer(id: $id) { lifecycleStage lifecycleHistory { fromStage toStage reason occurredAt } } }`;
const RECORD_TX = `mutation ($input: RecordTransactionInput!) { recordTransaction(input: $input) { created userErrors { message } } }`;

describe('lifecycle stages', () => {
  let app: TestApp;
  let seed: Seeder;
  beforeAll(async () => {
    app = await startApp();
    seed = createSeeder(app.db.db);
  });
  afterAll(async () => { await app?.close(); });

  const read = async (id: string) => {
    const res = await app.gql<{ customer: { lifecycleStage: string; lifecycleHistory: { fromStage: string | null; toStage: string; reason: string; occurredAt: string }[] } }>(QUERY, { id: toGlobalId('Customer', id) });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.customer;
  };

  it('moves PROSPECT -> NEW -> ACTIVE -> AT_RISK -> CHURNED -> REACTIVATED with a history entry each', async () => {
    const c = await seed.customer({ lifecycleStage: 'PROSPECT' }).create();
    const t0 = Date.now();
    // The write itself re-derives the stage (incremental).
    const tx = await app.gql<{ recordTransaction: { created: boolean } }>(RECORD_TX, { input: {
      source: 'shop', externalId: 'LC-1', customer: { id: toGlobalId('Customer', c.id) }, occurredAt: new Date(t0 - DAY).toISOString(),
      type: 'ORDER', currency: 'USD', amount: '20.00',
    } });
    expect(tx.body.data!.recordTransaction.created).toBe(true);
    expect((await read(c.id)).lifecycleStage).toBe('NEW');

    // Time passes (injected clock), with the defaults 30 / 90 / 180 days.
    const at = (days: number) => new Date(t0 + days * DAY);
    await refreshLifecycleStages(app.db.db, app.config, at(40));
    expect((await read(c.id)).lifecycleStage).toBe('ACTIVE');
    await refreshLifecycleStages(app.db.db, app.config, at(120));
    expect((await read(c.id)).lifecycleStage).toBe('AT_RISK');
    await refreshLifecycleStages(app.db.db, app.config, at(200));
    expect((await read(c.id)).lifecycleStage).toBe('CHURNED');
    // Comes back after more than 180 days without an order.
    await app.db.db.insert(transactions).values({
      customerId: c.id, source: 'test', externalId: 'LC-2', type: 'ORDER', status: 'COMPLETED', currency: 'USD', amount: '30.0000', amountBase: '30.0000', occurredAt: at(199),
    });
    await refreshLifecycleStages(app.db.db, app.config, at(201));
    const after = await read(c.id);
    expect(after.lifecycleStage).toBe('REACTIVATED');
    expect(after.lifecycleHistory.map((h) => [h.fromStage, h.toStage, h.reason])).toEqual([
      ['CHURNED', 'REACTIVATED', 'REFRESH'],
      ['AT_RISK', 'CHURNED', 'REFRESH'],
      ['ACTIVE', 'AT_RISK', 'REFRESH'],
      ['NEW', 'ACTIVE', 'REFRESH'],
      ['PROSPECT', 'NEW', 'WRITE'],
    ]);
    expect(after.lifecycleHistory[1]!.occurredAt).toBe(at(200).toISOString());
    // A refresh that changes nothing writes no history.
    await refreshLifecycleStages(app.db.db, app.config, at(201));
    expect((await read(c.id)).lifecycleHistory).toHaveLength(5);
  });

  it('filters by the derived stage', async () => {
    const fresh = await seed.customer({ lifecycleStage: 'ACTIVE' }).create();
    await refreshLifecycleStages(app.db.db, app.config, new Date(), [fresh.id]);
    const res = await app.gql<{ customers: { edges: { node: { id: string } }[] } }>(
      '{ customers(filter: { lifecycleStage: [PROSPECT] }, first: 100) { edges { node { id } } } }');
    expect(res.body.data!.customers.edges.map((e) => e.node.id)).toContain(toGlobalId('Customer', fresh.id));
  });
});
