import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

/**
 * Fixture (expectations below are worked out by hand):
 *  DE-F x3: FEMALE, born 1990-06-01, DE, created 2025-01-01, tag tier=gold;
 *           orders of 10.00 on 2025-01-15 and 2025-02-15, each with an electronics and an accessories line;
 *           one NEGATIVE PHONE COMPLAINT each.
 *  DE-M x3: MALE, born 2000-06-01, DE, created 2025-01-01; one order of 30.00 on 2025-01-20 (electronics).
 *  FR x2:   FEMALE, no birth date, FR, created 2025-02-01; one order of 100.00 on 2025-03-01 (home);
 *           one NEUTRAL EMAIL TICKET each.
 */
const line = (sku: string, category: string, unitPrice: string) => ({ sku, quantity: 1, unitPrice, category });

describe('BI aggregates', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
    const seed = createSeeder(app.db.db);
    for (let i = 0; i < 3; i++) {
      await seed.customer({ gender: 'FEMALE', birthDate: '1990-06-01', country: 'DE', city: 'Berlin', createdAt: new Date('2025-01-01T00:00:00Z') })
        .withTag('tier', 'gold')
        .withTransactions(1, { occurredAt: new Date('2025-01-15T10:00:00Z'), amount: '10.0000', amountBase: '10.0000', items: [line('E', 'electronics', '5.0000'), line('A', 'accessories', '5.0000')] })
        .withTransactions(1, { occurredAt: new Date('2025-02-15T10:00:00Z'), amount: '10.0000', amountBase: '10.0000', items: [line('E', 'electronics', '5.0000'), line('A', 'accessories', '5.0000')] })
        .withInteractions(1, { occurredAt: new Date('2025-02-20T10:00:00Z'), channel: 'PHONE', type: 'COMPLAINT', sentiment: 'NEGATIVE' })
        .create();
      await seed.customer({ gender: 'MALE', birthDate: '2000-06-01', country: 'DE', city: 'Munich', createdAt: new Date('2025-01-01T00:00:00Z') })
        .withTransactions(1, { occurredAt: new Date('2025-01-20T10:00:00Z'), amount: '30.0000', amountBase: '30.0000', items: [line('E', 'electronics', '30.0000')] })
        .create();
    }
    for (let i = 0; i < 2; i++) {
      await seed.customer({ gender: 'FEMALE', birthDate: null, country: 'FR', city: 'Paris', createdAt: new Date('2025-02-01T00:00:00Z') })
        .withTransactions(1, { occurredAt: new Date('2025-03-01T10:00:00Z'), amount: '100.0000', amountBase: '100.0000', items: [line('H', 'home', '100.0000')] })
        .withInteractions(1, { occurredAt: new Date('2025-03-02T10:00:00Z'), channel: 'EMAIL', type: 'TICKET', sentiment: 'NEUTRAL' })
        .create();
    }
  });
  afterAll(async () => { await app?.close(); });

  const STATS = `query($g: [CustomerGroupBy!], $f: CustomerFilter) { customerStats(groupBy: $g, filter: $f) {
    suppressedGroups minimumGroupSize groups { keys { dimension value } customerCount orderCount
      totalSpent { amount currency } averageOrderValue { amount } medianSpent { amount } p90Spent { amount } } } }`;
  interface Stats { customerStats: { suppressedGroups: number; minimumGroupSize: number; groups: { keys: { value: string | null }[]; customerCount: number; orderCount: number; totalSpent: { amount: string }; averageOrderValue: { amount: string }; medianSpent: { amount: string }; p90Spent: { amount: string } }[] } }

  it('customerStats by country: counts, spend, AOV, median and p90', async () => {
    const res = await app.gql<Stats>(STATS, { g: [{ dimension: 'COUNTRY' }] });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.customerStats).toEqual({
      suppressedGroups: 0, minimumGroupSize: 1,
      groups: [
        { keys: [{ dimension: 'COUNTRY', value: 'DE' }], customerCount: 6, orderCount: 9, totalSpent: { amount: '150.0000', currency: 'USD' },
          averageOrderValue: { amount: '16.6667' }, medianSpent: { amount: '25.0000' }, p90Spent: { amount: '30.0000' } },
        { keys: [{ dimension: 'COUNTRY', value: 'FR' }], customerCount: 2, orderCount: 2, totalSpent: { amount: '200.0000', currency: 'USD' },
          averageOrderValue: { amount: '100.0000' }, medianSpent: { amount: '100.0000' }, p90Spent: { amount: '100.0000' } },
      ],
    });
  });

  it('customerStats by several dimensions, age bands, tag values and signup month', async () => {
    const groups = async (g: unknown[], f?: unknown) => (await app.gql<Stats>(STATS, { g, f })).body.data!.customerStats.groups
      .map((x) => [...x.keys.map((k) => k.value), x.customerCount]);
    expect(await groups([{ dimension: 'COUNTRY' }, { dimension: 'GENDER' }])).toEqual([['DE', 'FEMALE', 3], ['DE', 'MALE', 3], ['FR', 'FEMALE', 2]]);
    expect(await groups([{ dimension: 'AGE_BAND' }])).toEqual([['25-34', 3], ['35-44', 3], ['unknown', 2]]);
    expect(await groups([{ dimension: 'TAG_VALUE', tagKey: 'tier' }])).toEqual([['gold', 3], [null, 5]].sort((a, b) => Number(b[1]) - Number(a[1])));
    expect(await groups([{ dimension: 'SIGNUP_MONTH' }])).toEqual([['2025-01', 6], ['2025-02', 2]]);
    expect(await groups([{ dimension: 'SIGNUP_QUARTER' }], { countries: ['FR'] })).toEqual([['2025-Q1', 2]]);
    expect(await groups([])).toEqual([[8]]);
  });

  it('suppresses groups smaller than k for ANALYST and refuses CITY', async () => {
    const res = await app.gql<Stats>(STATS, { g: [{ dimension: 'COUNTRY' }] }, { role: 'ANALYST' });
    expect(res.body.data!.customerStats.groups.map((g) => g.keys[0]!.value)).toEqual(['DE']);
    expect(res.body.data!.customerStats).toMatchObject({ suppressedGroups: 1, minimumGroupSize: 5 });
    const city = await app.gql<Stats>(STATS, { g: [{ dimension: 'CITY' }] }, { role: 'ANALYST' });
    expect(city.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const agent = await app.gql<Stats>(STATS, { g: [] }, { role: 'AGENT' });
    expect(agent.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('salesSeries per month, with empty periods and k-suppression for ANALYST', async () => {
    const Q = `query($i: Interval!, $from: DateTime!, $to: DateTime!) { salesSeries(interval: $i, from: $from, to: $to) {
      periodStart revenue { amount } orders buyingCustomers newCustomers suppressed } }`;
    const vars = { i: 'MONTH', from: '2024-12-01T00:00:00Z', to: '2025-04-01T00:00:00Z' };
    const res = await app.gql<{ salesSeries: unknown[] }>(Q, vars);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.salesSeries).toEqual([
      { periodStart: '2024-12-01T00:00:00.000Z', revenue: { amount: '0.0000' }, orders: 0, buyingCustomers: 0, newCustomers: 0, suppressed: false },
      { periodStart: '2025-01-01T00:00:00.000Z', revenue: { amount: '120.0000' }, orders: 6, buyingCustomers: 6, newCustomers: 6, suppressed: false },
      { periodStart: '2025-02-01T00:00:00.000Z', revenue: { amount: '30.0000' }, orders: 3, buyingCustomers: 3, newCustomers: 2, suppressed: false },
      { periodStart: '2025-03-01T00:00:00.000Z', revenue: { amount: '200.0000' }, orders: 2, buyingCustomers: 2, newCustomers: 0, suppressed: false },
    ]);
    const analyst = await app.gql<{ salesSeries: { suppressed: boolean; orders: number }[] }>(Q, vars, { role: 'ANALYST' });
    expect(analyst.body.data!.salesSeries.map((p) => [p.suppressed, p.orders])).toEqual([[false, 0], [false, 6], [true, 0], [true, 0]]);
    const week = await app.gql<{ salesSeries: { periodStart: string }[] }>(Q, { i: 'WEEK', from: '2025-01-13T00:00:00Z', to: '2025-01-27T00:00:00Z' });
    expect(week.body.data!.salesSeries.map((p) => p.periodStart)).toEqual(['2025-01-13T00:00:00.000Z', '2025-01-20T00:00:00.000Z']);
    const tooLong = await app.gql(Q, { i: 'DAY', from: '2000-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' });
    expect(tooLong.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('cohortRetention by signup month and by first purchase month', async () => {
    const Q = `query($by: CohortBasis!) { cohortRetention(by: $by, from: "2025-01-01T00:00:00Z", to: "2025-04-01T00:00:00Z") {
      cohort size retention { monthOffset customers share } } }`;
    const signup = await app.gql<{ cohortRetention: unknown[] }>(Q, { by: 'SIGNUP_MONTH' });
    expect(signup.body.errors).toBeUndefined();
    expect(signup.body.data!.cohortRetention).toEqual([
      { cohort: '2025-01', size: 6, retention: [{ monthOffset: 0, customers: 6, share: 1 }, { monthOffset: 1, customers: 3, share: 0.5 }, { monthOffset: 2, customers: 0, share: 0 }] },
      { cohort: '2025-02', size: 2, retention: [{ monthOffset: 0, customers: 0, share: 0 }, { monthOffset: 1, customers: 2, share: 1 }] },
    ]);
    const first = await app.gql<{ cohortRetention: { cohort: string; size: number }[] }>(Q, { by: 'FIRST_PURCHASE_MONTH' });
    expect(first.body.data!.cohortRetention.map((c) => [c.cohort, c.size])).toEqual([['2025-01', 6], ['2025-03', 2]]);
  });

  it('interactionStats by type and per month, suppressed for ANALYST below k', async () => {
    const Q = `query($g: [InteractionDimension!], $i: Interval, $from: DateTime, $to: DateTime) {
      interactionStats(groupBy: $g, interval: $i, from: $from, to: $to) { periodStart type channel interactions complaints customers } }`;
    const byType = await app.gql<{ interactionStats: unknown[] }>(Q, { g: ['TYPE'] });
    expect(byType.body.data!.interactionStats).toEqual([
      { periodStart: null, type: 'COMPLAINT', channel: null, interactions: 3, complaints: 3, customers: 3 },
      { periodStart: null, type: 'TICKET', channel: null, interactions: 2, complaints: 0, customers: 2 },
    ]);
    const monthly = await app.gql<{ interactionStats: { periodStart: string; interactions: number }[] }>(Q, { i: 'MONTH', from: '2025-02-01T00:00:00Z', to: '2025-04-01T00:00:00Z' });
    expect(monthly.body.data!.interactionStats.map((r) => [r.periodStart, r.interactions])).toEqual([['2025-02-01T00:00:00.000Z', 3], ['2025-03-01T00:00:00.000Z', 2]]);
    const analyst = await app.gql<{ interactionStats: unknown[] }>(Q, { g: ['TYPE'] }, { role: 'ANALYST' });
    expect(analyst.body.data!.interactionStats).toEqual([]);
  });

  it('categoryAffinity: support, confidence and lift of categories bought together', async () => {
    const res = await app.gql<{ categoryAffinity: { category: string; boughtWith: string; orders: number; support: number; confidence: number; lift: number }[] }>(
      '{ categoryAffinity(top: 5) { category boughtWith orders support confidence lift } }');
    expect(res.body.errors).toBeUndefined();
    const pairs = res.body.data!.categoryAffinity;
    expect(pairs.map((p) => [p.category, p.boughtWith, p.orders])).toEqual([['accessories', 'electronics', 6], ['electronics', 'accessories', 6]]);
    expect(pairs[0]!.support).toBeCloseTo(6 / 11, 6);
    expect(pairs[0]!.confidence).toBeCloseTo(1, 6);
    expect(pairs[0]!.lift).toBeCloseTo(11 / 9, 6);
    expect(pairs[1]!.confidence).toBeCloseTo(6 / 9, 6);
    expect(pairs[1]!.lift).toBeCloseTo((6 / 9) / (6 / 11), 6);
  });
});

/**
 * Age bands at their edges: for each band bound N, one customer who turned N this month (band from N)
 * and one who turns N next month (the band below). Birth dates are relative to today (UTC), mid-month.
 */
describe('customerStats AGE_BAND edges', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ AGGREGATE_MIN_GROUP_SIZE: '1' });
    const seed = createSeeder(app.db.db);
    const now = new Date();
    const born = (years: number, months: number) =>
      new Date(Date.UTC(now.getUTCFullYear() - years, now.getUTCMonth() + months, 15)).toISOString().slice(0, 10);
    for (const n of [18, 25, 35, 45, 55, 65]) {
      await seed.customer({ birthDate: born(n, 0) }).create();
      await seed.customer({ birthDate: born(n, 1) }).create();
    }
  });
  afterAll(async () => { await app?.close(); });

  it('puts a customer in the band of their age in whole years, as the age filter counts it', async () => {
    const res = await app.gql<{ customerStats: { groups: { keys: { value: string }[]; customerCount: number }[] } }>(
      '{ customerStats(groupBy: [{ dimension: AGE_BAND }]) { groups { keys { value } customerCount } } }');
    expect(res.body.errors).toBeUndefined();
    const bands = Object.fromEntries(res.body.data!.customerStats.groups.map((g) => [g.keys[0]!.value, g.customerCount]));
    expect(bands).toEqual({ '<18': 1, '18-24': 2, '25-34': 2, '35-44': 2, '45-54': 2, '55-64': 2, '65+': 1 });
    const count = async (age: Record<string, number>) => (await app.gql<{ customers: { totalCount: number } }>(
      'query($f: CustomerFilter) { customers(filter: $f) { totalCount } }', { f: { age } })).body.data!.customers.totalCount;
    expect(await count({ min: 18, max: 24 })).toBe(2);
    expect(await count({ max: 17 })).toBe(1);
    expect(await count({ min: 65 })).toBe(1);
  });
});
