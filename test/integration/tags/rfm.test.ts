import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transactions } from '../../../src/db/schema/index';
import { toGlobalId } from '../../../src/lib/global-id';
import { refreshRfmScores, runModels } from '../../../src/modules/tags/tag-jobs.service';
import { createSeeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

interface RfmShape { recency: number; frequency: number; monetary: number; score: string; segment: string; recencyDays: number; orderCount: number; spent: { amount: string } }
interface CustomerShape { id: string; metrics: { rfm: RfmShape | null }; tags: { tag: { key: string }; value: string; source: string; actor: string; confidence: number }[] }

const DAY = 86_400_000;
const QUERY = `query ($filter: CustomerFilter) { customers(filter: $filter, first: 100) { totalCount edges { node {
  id metrics { rfm { recency frequency monetary score segment recencyDays orderCount spent { amount } } }
  tags { tag { key } value source actor confidence } } } } }`;

/**
 * Ten customers with distinct recency, frequency and spend, so the quintiles can be worked out by hand
 * (two customers per quintile):
 *   days since last order  300 250 | 200 150 | 100 80 | 60 40 | 20 5        -> R 1 1 2 2 3 3 4 4 5 5
 *   orders                 C10:1 C2:2 | C4:3 C5:4 | C1:5 C3:6 | C8:7 C6:8 | C7:9 C9:10
 *   spend                  C4:15 C1:50 | C3:120 C2:200 | C5:240 C7:270 | C6:320 C8:350 | C10:500 C9:1000
 */
const FIXTURE = [
  { name: 'C1', days: 300, orders: 5, each: '10', expect: { r: 1, f: 3, m: 1, segment: 'AT_RISK' } },
  { name: 'C2', days: 250, orders: 2, each: '100', expect: { r: 1, f: 1, m: 2, segment: 'LOST' } },
  { name: 'C3', days: 200, orders: 6, each: '20', expect: { r: 2, f: 3, m: 2, segment: 'AT_RISK' } },
  { name: 'C4', days: 150, orders: 3, each: '5', expect: { r: 2, f: 2, m: 1, segment: 'HIBERNATING' } },
  { name: 'C5', days: 100, orders: 4, each: '60', expect: { r: 3, f: 2, m: 3, segment: 'NEEDS_ATTENTION' } },
  { name: 'C6', days: 80, orders: 8, each: '40', expect: { r: 3, f: 4, m: 4, segment: 'LOYAL' } },
  { name: 'C7', days: 60, orders: 9, each: '30', expect: { r: 4, f: 5, m: 3, segment: 'LOYAL' } },
  { name: 'C8', days: 40, orders: 7, each: '50', expect: { r: 4, f: 4, m: 4, segment: 'CHAMPIONS' } },
  { name: 'C9', days: 20, orders: 10, each: '100', expect: { r: 5, f: 5, m: 5, segment: 'CHAMPIONS' } },
  { name: 'C10', days: 5, orders: 1, each: '500', expect: { r: 5, f: 1, m: 5, segment: 'NEW' } },
] as const;

describe('RFM scores, value tier and interest tags', () => {
  let app: TestApp;
  const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
  const ids = new Map<string, string>();
  let byId: Map<string, CustomerShape>;

  beforeAll(async () => {
    app = await startApp();
    const seed = createSeeder(app.db.db);
    for (const f of FIXTURE) {
      const amount = `${f.each}.0000`;
      const items = f.name === 'C9'
        ? [{ sku: 'TV', quantity: 1, unitPrice: '75', category: 'electronics' }, { sku: 'NOVEL', quantity: 1, unitPrice: '25', category: 'books' }]
        : undefined;
      const row = await seed.customer().withTransactions(f.orders, { occurredAt: new Date(NOW.getTime() - f.days * DAY), amount, amountBase: amount, ...(items ? { items } : {}) }).create();
      ids.set(f.name, row.id);
    }
    // Bought only before the 365-day window, and never: no scores.
    ids.set('old', (await seed.customer().withTransactions(2, { occurredAt: new Date(NOW.getTime() - 400 * DAY) }).create()).id);
    ids.set('none', (await seed.customer({ lifecycleStage: 'PROSPECT' }).create()).id);
    const r = await runModels(app.db.db, app.config, NOW);
    expect(r.rfm).toEqual({ scored: 10, changed: 10, cleared: 0 });
    const res = await app.gql<{ customers: { edges: { node: CustomerShape }[] } }>(QUERY, {});
    expect(res.body.errors).toBeUndefined();
    byId = new Map(res.body.data!.customers.edges.map((e) => [e.node.id, e.node]));
  });
  afterAll(async () => { await app?.close(); });

  const node = (name: string) => byId.get(toGlobalId('Customer', ids.get(name)!))!;

  it.each(FIXTURE.map((f) => [f.name, f] as const))('scores %s as worked out by hand', (name, f) => {
    expect(node(name).metrics.rfm).toEqual({
      recency: f.expect.r, frequency: f.expect.f, monetary: f.expect.m, score: `${f.expect.r}${f.expect.f}${f.expect.m}`, segment: f.expect.segment,
      recencyDays: f.days, orderCount: f.orders, spent: { amount: (Number(f.each) * f.orders).toFixed(4) },
    });
  });

  it('has no scores for customers without an order in the window', () => {
    expect(node('old').metrics.rfm).toBeNull();
    expect(node('none').metrics.rfm).toBeNull();
  });

  it('filters customers by RFM segment', async () => {
    const res = await app.gql<{ customers: { totalCount: number; edges: { node: { id: string } }[] } }>(QUERY, { filter: { rfmSegment: ['CHAMPIONS', 'NEW'] } });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.customers.edges.map((e) => e.node.id).sort()).toEqual(['C8', 'C9', 'C10'].map((n) => toGlobalId('Customer', ids.get(n)!)).sort());
  });

  it('tags value tiers (source MODEL, with confidence) from RFM and the lifecycle stage', () => {
    const tier = (name: string) => node(name).tags.find((t) => t.tag.key === 'value_tier');
    expect(tier('C9')).toEqual({ tag: { key: 'value_tier' }, value: 'HIGH_VALUE', source: 'MODEL', actor: 'model:value-tier', confidence: 1 });
    expect(tier('C10')?.value).toBe('HIGH_VALUE');
    // Last order more than LIFECYCLE_CHURN_DAYS (180) ago.
    for (const n of ['C1', 'C2', 'C3', 'old']) expect(tier(n)?.value).toBe('CHURNED');
    for (const n of ['C4', 'C5', 'C6', 'C7', 'C8', 'none']) expect(tier(n)).toBeUndefined();
  });

  it('tags interests by recency-weighted share of spend, with the share as confidence', () => {
    const interests = node('C9').tags.filter((t) => t.tag.key === 'interest').map((t) => [t.value, t.confidence, t.source]);
    expect(interests).toEqual([['books', 0.25, 'MODEL'], ['electronics', 0.75, 'MODEL']]);
  });

  it('a second run with nothing changed writes nothing', async () => {
    const r = await runModels(app.db.db, app.config, NOW);
    expect(r.rfm).toEqual({ scored: 10, changed: 0, cleared: 0 });
    expect(r.lifecycleChanges).toBe(0);
    expect([r.valueTier.added, r.valueTier.changed, r.valueTier.removed, r.interests.added, r.interests.changed, r.interests.removed]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('a later refresh writes only the customers whose scores changed; recency and computedAt follow the refresh', async () => {
    const later = new Date(NOW.getTime() + 2 * DAY);
    // C10 buys a second time: its frequency and spend change, its quintiles do not, its segment does (NEW -> NEEDS_ATTENTION).
    await app.db.db.insert(transactions).values({
      customerId: ids.get('C10')!, source: 'test', externalId: 'TX-C10-again', type: 'ORDER', status: 'COMPLETED', currency: 'USD',
      amount: '1.0000', amountBase: '1.0000', channel: 'online', occurredAt: new Date(NOW.getTime() - 3 * DAY),
    });
    expect(await refreshRfmScores(app.db.db, app.config, later)).toEqual({ scored: 10, changed: 1, cleared: 0 });
    const res = await app.gql<{ customers: { edges: { node: { id: string; metrics: { rfm: (RfmShape & { computedAt: string }) | null } } }[] } }>(
      QUERY.replace('spent { amount }', 'spent { amount } computedAt'), {});
    expect(res.body.errors).toBeUndefined();
    const after = new Map(res.body.data!.customers.edges.map((e) => [e.node.id, e.node.metrics.rfm]));
    for (const f of FIXTURE) {
      const rfm = after.get(toGlobalId('Customer', ids.get(f.name)!))!;
      expect(rfm.computedAt).toBe(later.toISOString());
      expect(rfm.recencyDays).toBe(f.name === 'C10' ? 5 : f.days + 2);
      if (f.name !== 'C10') expect(rfm.segment).toBe(f.expect.segment);
    }
    expect(after.get(toGlobalId('Customer', ids.get('C10')!))).toMatchObject({ score: '515', segment: 'NEEDS_ATTENTION', orderCount: 2, spent: { amount: '501.0000' } });
  });
});
