import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRows } from '../../../src/db/client';
import { createSeeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

/**
 * Three hand-made customers; every expectation below is worked out by hand from this fixture.
 *  Ada:   FEMALE, born 1990-05-01, DE/Berlin; marketing_email GRANTED then WITHDRAWN; tags vip, spend_band=250;
 *         3 completed online ORDERs of 100.00 (electronics) in the last 30 days, 1 REFUND of 50.00.
 *  Bob:   MALE, born 1960-01-01, US/Austin; marketing_email GRANTED; tag interest_home (INTEREST);
 *         1 ORDER of 20.00 in store (home) 400 days ago; a NEGATIVE PHONE COMPLAINT 10 days ago.
 *  Cleo:  no birth date, UNKNOWN, US; no transactions; a POSITIVE FEEDBACK 100 days ago.
 */
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);

interface Conn { customers: { totalCount: number; edges: { node: { firstName: string } }[] } }
const Q = 'query($filter: CustomerFilter) { customers(filter: $filter, orderBy: [NAME_ASC]) { totalCount edges { node { firstName } } } }';

describe('CustomerFilter operators', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
    const seed = createSeeder(app.db.db);
    await seed.customer({ firstName: 'Ada', gender: 'FEMALE', birthDate: '1990-05-01', country: 'DE', city: 'Berlin', region: 'Berlin' })
      .withConsent('marketing_email', 'GRANTED', ago(300)).withConsent('marketing_email', 'WITHDRAWN', ago(20))
      .withTag('vip', null, { category: 'VALUE' }).withTag('spend_band', '250', { category: 'VALUE' })
      .withTransactions(3, { occurredAt: ago(5), amount: '100.0000', amountBase: '100.0000', channel: 'online', items: [{ sku: 'TV', quantity: 1, unitPrice: '100.0000', category: 'electronics' }] })
      .withTransactions(1, { occurredAt: ago(4), type: 'REFUND', amount: '50.0000', amountBase: '50.0000' })
      .create();
    await seed.customer({ firstName: 'Bob', gender: 'MALE', birthDate: '1960-01-01', country: 'US', city: 'Austin', region: 'TX' })
      .withConsent('marketing_email', 'GRANTED', ago(50))
      .withTag('interest_home', null, { category: 'INTEREST' })
      .withTransactions(1, { occurredAt: ago(400), amount: '20.0000', amountBase: '20.0000', channel: 'store', items: [{ sku: 'LAMP', quantity: 2, unitPrice: '10.0000', category: 'home' }] })
      .withInteractions(1, { occurredAt: ago(10), channel: 'PHONE', type: 'COMPLAINT', sentiment: 'NEGATIVE' })
      .create();
    await seed.customer({ firstName: 'Cleo', gender: 'UNKNOWN', birthDate: null, country: 'US' })
      .withInteractions(1, { occurredAt: ago(100), channel: 'WEB', type: 'FEEDBACK', sentiment: 'POSITIVE' })
      .create();
  });
  afterAll(async () => { await app?.close(); });

  const who = async (filter: Record<string, unknown>) => {
    const res = await app.gql<Conn>(Q, { filter });
    expect(res.body.errors).toBeUndefined();
    const names = res.body.data!.customers.edges.map((e) => e.node.firstName);
    expect(res.body.data!.customers.totalCount).toBe(names.length);
    return names;
  };
  const code = async (filter: Record<string, unknown>) => (await app.gql<Conn>(Q, { filter })).body.errors?.[0]?.extensions?.code;

  it('profile: gender, age, countries, city, region', async () => {
    expect(await who({ gender: ['FEMALE'] })).toEqual(['Ada']);
    expect(await who({ age: { min: 30, max: 40 } })).toEqual(['Ada']);
    expect(await who({ age: { min: 60 } })).toEqual(['Bob']);
    expect(await who({ age: { max: 200 - 100 } })).toEqual(['Ada', 'Bob']);
    expect(await who({ countries: ['us'], city: ['AUSTIN'] })).toEqual(['Bob']);
    expect(await who({ region: ['tx', 'berlin'] })).toEqual(['Ada', 'Bob']);
  });

  it('consent: the latest decision per purpose counts', async () => {
    expect(await who({ consent: { purpose: 'marketing_email', status: 'GRANTED' } })).toEqual(['Bob']);
    expect(await who({ consent: { purpose: 'marketing_email', status: 'WITHDRAWN' } })).toEqual(['Ada']);
    expect(await who({ consent: { purpose: 'profiling', status: 'GRANTED' } })).toEqual([]);
  });

  it('tags: key, category, value equals / in / numeric range', async () => {
    expect(await who({ tag: { key: 'vip' } })).toEqual(['Ada']);
    expect(await who({ tag: { category: 'INTEREST' } })).toEqual(['Bob']);
    expect(await who({ tag: { key: 'spend_band', range: { min: '200', max: '300' } } })).toEqual(['Ada']);
    expect(await who({ tag: { key: 'spend_band', range: { min: '251' } } })).toEqual([]);
    expect(await who({ tag: { key: 'spend_band', equals: '250' } })).toEqual(['Ada']);
    expect(await who({ tag: { key: 'spend_band', in: ['1', '250'] } })).toEqual(['Ada']);
  });

  it('transactions: count, sum, average, window, channel, category, type', async () => {
    expect(await who({ transactions: { count: { min: 3 } } })).toEqual(['Ada']);
    expect(await who({ transactions: { sum: { min: '250' } } })).toEqual(['Ada']);
    // A range that admits zero also matches customers who never bought.
    expect(await who({ transactions: { sum: { max: '25' } } })).toEqual(['Bob', 'Cleo']);
    expect(await who({ transactions: { count: { max: 0 } } })).toEqual(['Cleo']);
    expect(await who({ transactions: { average: { min: '50' } } })).toEqual(['Ada']);
    expect(await who({ transactions: { window: { last: 'P30D' }, count: { min: 1 } } })).toEqual(['Ada']);
    expect(await who({ transactions: { window: { from: ago(500).toISOString(), to: ago(300).toISOString() } } })).toEqual(['Bob']);
    expect(await who({ transactions: { category: ['home'] } })).toEqual(['Bob']);
    expect(await who({ transactions: { channel: ['store'] } })).toEqual(['Bob']);
    expect(await who({ transactions: { type: 'REFUND' } })).toEqual(['Ada']);
  });

  it('interactions: type, sentiment, window, count', async () => {
    expect(await who({ interactions: { type: ['COMPLAINT'], window: { last: 'P30D' } } })).toEqual(['Bob']);
    expect(await who({ interactions: { sentiment: ['POSITIVE'] } })).toEqual(['Cleo']);
    expect(await who({ interactions: { channel: ['PHONE', 'WEB'], count: { min: 1, max: 1 } } })).toEqual(['Bob', 'Cleo']);
    expect(await who({ interactions: { count: { min: 2 } } })).toEqual([]);
    expect(await who({ interactions: { count: { max: 0 } } })).toEqual(['Ada']);
  });

  it('first and last purchase', async () => {
    expect(await who({ firstPurchase: { to: ago(300).toISOString() } })).toEqual(['Bob']);
    expect(await who({ lastPurchase: { from: ago(60).toISOString() } })).toEqual(['Ada']);
  });

  it('and / or / not', async () => {
    expect(await who({ or: [{ gender: ['FEMALE'] }, { tag: { category: 'INTEREST' } }] })).toEqual(['Ada', 'Bob']);
    expect(await who({ not: { countries: ['US'] } })).toEqual(['Ada']);
    expect(await who({ and: [{ countries: ['US'] }, { not: { transactions: { count: { min: 1 } } } }] })).toEqual(['Cleo']);
    expect(await who({ or: [] })).toEqual([]);
  });

  it('rejects malformed conditions with BAD_USER_INPUT', async () => {
    expect(await code({ transactions: { window: { last: 'ninety days' } } })).toBe('BAD_USER_INPUT');
    expect(await code({ transactions: { window: { last: 'P30D', from: ago(1).toISOString() } } })).toBe('BAD_USER_INPUT');
    expect(await code({ age: { min: 40, max: 30 } })).toBe('BAD_USER_INPUT');
    expect(await code({ tag: { equals: 'x' } })).toBe('BAD_USER_INPUT');
    expect(await code({ countries: ['Narnia'] })).toBe('BAD_USER_INPUT');
    let deep: Record<string, unknown> = { gender: ['MALE'] };
    for (let i = 0; i < 8; i++) deep = { not: deep };
    expect(await code(deep)).toBe('BAD_USER_INPUT');
  });
});

describe('filter cost check', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ FILTER_COST_LIMIT: '1' });
    await createSeeder(app.db.db).customer({ firstName: 'Dora', country: 'FR' }).withTransactions(2).create();
  });
  afterAll(async () => { await app?.close(); });

  it('refuses a behavioural filter over the budget with QUERY_TOO_COMPLEX', async () => {
    const res = await app.gql<Conn>(Q, { filter: { transactions: { count: { min: 1 } } } });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    // The only root field is refused: the whole request is, with HTTP 400.
    expect([res.status, res.body.data]).toEqual([400, { customers: null }]);
  });

  it('lets indexed profile filters through without an estimate', async () => {
    const res = await app.gql<Conn>(Q, { filter: { country: 'FR' } });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.customers.totalCount).toBe(1);
  });

  it('explains a filter: estimate, budget and SQL with placeholders instead of values', async () => {
    const res = await app.gql<{ explainCustomerFilter: { estimatedCost: number; estimatedRows: number; budget: number; withinBudget: boolean; sql: string } }>(
      'query($f: CustomerFilter!) { explainCustomerFilter(filter: $f) { estimatedCost estimatedRows budget withinBudget sql } }',
      { f: { nameContains: 'secret-term', transactions: { category: ['hidden-category'], count: { min: 2 } } } });
    expect(res.body.errors).toBeUndefined();
    const e = res.body.data!.explainCustomerFilter;
    expect(e.estimatedCost).toBeGreaterThan(1);
    expect(e).toMatchObject({ budget: 1, withinBudget: false });
    expect(e.sql).toMatch(/^select .* from "customers" where/i);
    expect(e.sql).toContain('$1');
    expect(e.sql).not.toContain('secret-term');
    expect(e.sql).not.toContain('hidden-category');
  });
});

/**
 * Order counts since a time are answered from customer_metrics.recent_orders (the newest 32 order
 * times) up to 32 and by aggregating transactions above; both must give the hand-computed answer.
 *  Eve:  34 completed ORDERs: one a day from 1 to 33 days ago, and one 200 days ago.
 *  Finn: completed ORDERs 20, 21 and 100 days ago; a CANCELLED order 5 days ago; a REFUND 3 days ago.
 *  Gus:  no transactions.
 */
describe('order-count conditions over maintained recent orders', () => {
  let app: TestApp;
  let finn: string;
  beforeAll(async () => {
    app = await startApp();
    const seed = createSeeder(app.db.db);
    await seed.customer({ firstName: 'Eve' }).withTransactions(33, { occurredAt: ago(1) }).withTransactions(1, { occurredAt: ago(200) }).create();
    finn = (await seed.customer({ firstName: 'Finn' }).withTransactions(2, { occurredAt: ago(20) }).withTransactions(1, { occurredAt: ago(100) })
      .withTransactions(1, { occurredAt: ago(5), status: 'CANCELLED' }).withTransactions(1, { occurredAt: ago(3), type: 'REFUND' }).create()).id;
    await seed.customer({ firstName: 'Gus' }).create();
  });
  afterAll(async () => { await app?.close(); });

  const who = async (filter: Record<string, unknown>) => {
    const res = await app.gql<Conn>(Q, { filter });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.customers.edges.map((e) => e.node.firstName);
  };
  const last90 = (count: Record<string, number>) => who({ transactions: { window: { last: 'P90D' }, count } });
  /** customer_metrics.recent_orders equals a re-aggregation of transactions, for every customer. */
  const drift = async () => execRows<{ customer_id: string }>(app.db.db, sql`
    SELECT m.customer_id FROM customer_metrics m
    WHERE m.recent_orders IS DISTINCT FROM coalesce((SELECT array_agg(o ORDER BY o DESC) FROM (
      SELECT t.occurred_at AS o FROM transactions t WHERE t.customer_id = m.customer_id AND t.status = 'COMPLETED' AND t.type = 'ORDER'
      ORDER BY t.occurred_at DESC LIMIT 32) x), '{}')`);

  it('keeps the newest 32 order times per customer, newest first', async () => {
    expect(await drift()).toEqual([]);
  });

  it('at least k orders since a time, on both sides of the 32 kept', async () => {
    expect(await last90({ min: 2 })).toEqual(['Eve', 'Finn']);
    expect(await last90({ min: 3 })).toEqual(['Eve']);
    expect(await last90({ min: 32 })).toEqual(['Eve']);
    expect(await last90({ min: 33 })).toEqual(['Eve']);
    expect(await last90({ min: 34 })).toEqual([]);
    expect(await who({ transactions: { window: { from: ago(150).toISOString() }, count: { min: 3 } } })).toEqual(['Eve', 'Finn']);
  });

  it('takes the maintained array up to 32 and aggregates transactions above', async () => {
    const shape = async (count: Record<string, number>) => (await app.gql<{ explainCustomerFilter: { sql: string } }>(
      'query($f: CustomerFilter!) { explainCustomerFilter(filter: $f) { sql } }', { f: { transactions: { window: { last: 'P90D' }, count } } })).body.data!.explainCustomerFilter.sql;
    expect(await shape({ min: 32 })).toMatch(/recent_orders/);
    expect(await shape({ min: 32 })).not.toMatch(/from transactions/i);
    expect(await shape({ min: 33 })).toMatch(/from transactions/i);
  });

  it('at most k orders since a time, including customers who never bought', async () => {
    expect(await last90({ max: 2 })).toEqual(['Finn', 'Gus']);
    expect(await last90({ max: 0 })).toEqual(['Gus']);
    expect(await last90({ max: 31 })).toEqual(['Finn', 'Gus']);
    expect(await last90({ max: 32 })).toEqual(['Finn', 'Gus']);
    expect(await last90({ max: 33 })).toEqual(['Eve', 'Finn', 'Gus']);
    expect(await last90({ min: 1, max: 2 })).toEqual(['Finn']);
  });

  it('all-time counts, and windows with an end (aggregated)', async () => {
    expect(await who({ transactions: { count: { min: 34 } } })).toEqual(['Eve']);
    expect(await who({ transactions: { count: { max: 3 } } })).toEqual(['Finn', 'Gus']);
    expect(await who({ transactions: { window: { from: ago(150).toISOString(), to: ago(10).toISOString() }, count: { min: 4 } } })).toEqual(['Eve']);
    expect(await who({ not: { transactions: { window: { last: 'P90D' }, count: { min: 1 } } } })).toEqual(['Gus']);
  });

  it('follows updates and deletes of transactions in the same transaction', async () => {
    await execRows(app.db.db, sql`UPDATE transactions SET status = 'CANCELLED'
      WHERE id = (SELECT id FROM transactions WHERE customer_id = ${finn} AND type = 'ORDER' AND status = 'COMPLETED' ORDER BY occurred_at DESC LIMIT 1)`);
    expect(await last90({ min: 2 })).toEqual(['Eve']);
    await execRows(app.db.db, sql`UPDATE transactions SET status = 'COMPLETED' WHERE customer_id = ${finn} AND status = 'CANCELLED'`);
    expect(await last90({ min: 3 })).toEqual(['Eve', 'Finn']);
    await execRows(app.db.db, sql`DELETE FROM transactions WHERE customer_id = ${finn} AND occurred_at > now() - interval '10 days'`);
    expect(await last90({ min: 3 })).toEqual(['Eve']);
    expect(await drift()).toEqual([]);
  });
});
