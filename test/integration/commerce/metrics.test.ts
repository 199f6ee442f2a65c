import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRows } from '../../../src/db/client';
import { createSeeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';
import { usingPostgres } from '../../helpers/db';

interface Metrics { customer: { id: string; metrics: { orderCount: number; totalSpent: { amount: string }; averageOrderValue: { amount: string }; firstPurchaseAt: string | null; lastPurchaseAt: string | null } } }
const METRICS = 'query($id: ID!) { customer(id: $id) { id metrics { orderCount totalSpent { amount } averageOrderValue { amount } firstPurchaseAt lastPurchaseAt } } }';
const RECORD = `mutation($input: RecordTransactionInput!) { recordTransaction(input: $input) { created userErrors { field message code } } }`;

describe('maintained customer metrics', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app?.close(); });

  const metricsOf = async (id: string) => (await app.gql<Metrics>(METRICS, { id })).body.data!.customer.metrics;
  const newCustomer = async (externalId: string) => {
    const res = await app.gql<{ upsertCustomer: { customer: { id: string } } }>(
      'mutation($e: String!) { upsertCustomer(input: { source: "crm", externalId: $e, firstName: "M" }) { customer { id } } }', { e: externalId });
    return res.body.data!.upsertCustomer.customer.id;
  };
  const record = (customerId: string, externalId: string, extra: Record<string, unknown>) =>
    app.gql<{ recordTransaction: { created: boolean; userErrors: unknown[] } }>(RECORD, {
      input: { source: 'shop', externalId, customer: { id: customerId }, occurredAt: '2025-03-01T10:00:00Z', type: 'ORDER', currency: 'USD', amount: '10', ...extra },
    });

  it('starts at zero for a new customer', async () => {
    const id = await newCustomer('M-0');
    expect(await metricsOf(id)).toEqual({ orderCount: 0, totalSpent: { amount: '0.0000' }, averageOrderValue: { amount: '0.0000' }, firstPurchaseAt: null, lastPurchaseAt: null });
  });

  it('follows orders, refunds, status changes and cancellations in the same transaction as the write', async () => {
    const id = await newCustomer('M-1');
    await record(id, 'M1-A', { amount: '100.00', occurredAt: '2025-01-10T00:00:00Z' });
    await record(id, 'M1-B', { amount: '50.00', occurredAt: '2025-02-10T00:00:00Z' });
    await record(id, 'M1-R', { amount: '30.00', type: 'REFUND', occurredAt: '2025-02-11T00:00:00Z' });
    await record(id, 'M1-P', { amount: '999.00', status: 'PENDING', occurredAt: '2025-03-10T00:00:00Z' });
    expect(await metricsOf(id)).toEqual({
      orderCount: 2, totalSpent: { amount: '120.0000' }, averageOrderValue: { amount: '60.0000' },
      firstPurchaseAt: '2025-01-10T00:00:00.000Z', lastPurchaseAt: '2025-02-10T00:00:00.000Z',
    });
    // The pending order completes, then the first one is cancelled.
    await record(id, 'M1-P', { amount: '999.00', status: 'COMPLETED', occurredAt: '2025-03-10T00:00:00Z' });
    await record(id, 'M1-A', { amount: '100.00', status: 'CANCELLED', occurredAt: '2025-01-10T00:00:00Z' });
    expect(await metricsOf(id)).toEqual({
      orderCount: 2, totalSpent: { amount: '1019.0000' }, averageOrderValue: { amount: '509.5000' },
      firstPurchaseAt: '2025-02-10T00:00:00.000Z', lastPurchaseAt: '2025-03-10T00:00:00.000Z',
    });
  });

  it('equals the aggregate over transactions for every customer after bulk inserts', async () => {
    const seed = createSeeder(app.db.db);
    for (let i = 0; i < 5; i++) await seed.customer().withTransactions(i * 3, { amount: '7.5000', amountBase: '7.5000' }).create();
    const drift = await execRows<{ n: number }>(app.db.db, sql`
      SELECT count(*)::int AS n FROM customers c JOIN customer_metrics m ON m.customer_id = c.id
      LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE type = 'ORDER') AS oc,
        coalesce(sum(CASE WHEN type = 'ORDER' THEN amount_base ELSE -amount_base END), 0) AS ts
        FROM transactions t WHERE t.customer_id = c.id AND t.status = 'COMPLETED') a ON true
      WHERE m.order_count <> a.oc OR m.total_spent <> a.ts`);
    expect(drift[0]!.n).toBe(0);
    const missing = await execRows<{ n: number }>(app.db.db, sql`SELECT count(*)::int AS n FROM customers c WHERE NOT EXISTS (SELECT 1 FROM customer_metrics m WHERE m.customer_id = c.id)`);
    expect(missing[0]!.n).toBe(0);
  });

  it('adds inserted transactions to the totals, and recreates a metrics row that is missing', async () => {
    const id = await newCustomer('M-2');
    await record(id, 'M2-A', { amount: '10.00', occurredAt: '2025-01-10T00:00:00Z' });
    // A customer whose metrics row is gone: the next insert aggregates all of its transactions again.
    const { parseGlobalId } = await import('../../../src/lib/global-id');
    await app.db.db.execute(sql`DELETE FROM customer_metrics WHERE customer_id = ${parseGlobalId(id)!.id}::uuid`);
    await record(id, 'M2-B', { amount: '5.00', occurredAt: '2025-02-10T00:00:00Z' });
    await record(id, 'M2-R', { amount: '2.00', type: 'REFUND', occurredAt: '2025-03-10T00:00:00Z' });
    expect(await metricsOf(id)).toEqual({
      orderCount: 2, totalSpent: { amount: '13.0000' }, averageOrderValue: { amount: '6.5000' },
      firstPurchaseAt: '2025-01-10T00:00:00.000Z', lastPurchaseAt: '2025-02-10T00:00:00.000Z',
    });
  });

  it('sorts customers by spend, order count and last purchase with stable cursors', async () => {
    interface Conn { customers: { edges: { node: { id: string; metrics: { orderCount: number; totalSpent: { amount: string }; lastPurchaseAt: string | null } } }[]; pageInfo: { endCursor: string; hasNextPage: boolean } } }
    const q = `query($o: [CustomerOrder!], $after: String) { customers(orderBy: $o, first: 3, after: $after) {
      edges { node { id metrics { orderCount totalSpent { amount } lastPurchaseAt } } } pageInfo { endCursor hasNextPage } } }`;
    interface Seen { id: string; spent: number; count: number; last: number | null }
    /** Each order's sort key, as the enum's description states it (never bought: last for DESC). */
    const sortKeys: Record<string, (s: Seen) => number> = {
      TOTAL_SPENT_DESC: (s) => -s.spent,
      ORDER_COUNT_ASC: (s) => s.count,
      LAST_PURCHASE_DESC: (s) => (s.last === null ? Infinity : -s.last),
    };
    const total = await execRows<{ n: number }>(app.db.db, sql`SELECT count(*)::int AS n FROM customers`);
    const bought = await execRows<{ n: number }>(app.db.db, sql`SELECT count(DISTINCT last_purchase_at)::int AS n FROM customer_metrics WHERE last_purchase_at IS NOT NULL`);
    // Enough customers for several pages, with distinct last purchases and some who never bought.
    expect(total[0]!.n).toBeGreaterThan(6);
    expect(bought[0]!.n).toBeGreaterThan(2);
    for (const [order, key] of Object.entries(sortKeys)) {
      const seen: Seen[] = [];
      let after: string | null = null;
      for (let i = 0; i < 10; i++) {
        const res: Awaited<ReturnType<typeof app.gql<Conn>>> = await app.gql<Conn>(q, { o: [order], after });
        expect(res.body.errors).toBeUndefined();
        const c = res.body.data!.customers;
        seen.push(...c.edges.map((e) => ({ id: e.node.id, spent: Number(e.node.metrics.totalSpent.amount), count: e.node.metrics.orderCount,
          last: e.node.metrics.lastPurchaseAt === null ? null : Date.parse(e.node.metrics.lastPurchaseAt) })));
        if (!c.pageInfo.hasNextPage) break;
        after = c.pageInfo.endCursor;
      }
      expect(new Set(seen.map((s) => s.id)).size).toBe(seen.length);
      expect(seen).toHaveLength(total[0]!.n);
      expect(seen.map(key), order).toEqual(seen.map(key).sort((a, b) => a - b));
    }
  });

  it.runIf(usingPostgres())('stays exact under concurrent writes for the same customer (PostgreSQL)', async () => {
    const id = await newCustomer('M-CONC');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => record(id, `CONC-${i}`, { amount: '1.25' })));
    expect(results.every((r) => r.body.data?.recordTransaction.created)).toBe(true);
    expect(await metricsOf(id)).toMatchObject({ orderCount: 20, totalSpent: { amount: '25.0000' } });
  });
});
