import { and, type SQL } from 'drizzle-orm';
import type { Config } from '../../config';
import type { Db } from '../../db/client';
import { badUserInput, forbidden, queryTooComplex } from '../../errors';
import type { Viewer } from '../../auth/viewer';
import type {
  CohortBasis, CustomerDimension, CustomerFilter, CustomerGroupBy, InteractionDimension, Interval, Role,
} from '../../__generated__/resolvers-types';
import { compileCustomerFilter, isBehavioural } from '../profile';
import { explainCustomerFilter } from '../profile';
import * as repo from './stats.repository';

type StatsConfig = Pick<Config, 'defaultPhoneRegion' | 'filterCostLimit' | 'aggregateMinGroupSize' | 'baseCurrency'>;

/**
 * Aggregate privacy policy, as data: which dimensions a role may group by, and whether small groups
 * are suppressed (k-anonymity with k = AGGREGATE_MIN_GROUP_SIZE). Partner keys slot in here.
 */
const ALL_DIMENSIONS: readonly CustomerDimension[] = ['GENDER', 'AGE_BAND', 'COUNTRY', 'CITY', 'LIFECYCLE_STAGE', 'TAG_VALUE', 'SIGNUP_MONTH', 'SIGNUP_QUARTER', 'SIGNUP_YEAR'];
export const AGGREGATE_POLICY: Record<Role, { dimensions: readonly CustomerDimension[]; suppressSmallGroups: boolean }> = {
  ADMIN: { dimensions: ALL_DIMENSIONS, suppressSmallGroups: false },
  MARKETER: { dimensions: ALL_DIMENSIONS, suppressSmallGroups: false },
  AGENT: { dimensions: ALL_DIMENSIONS, suppressSmallGroups: false },
  // City next to age band and gender singles people out; analysts get coarser location only.
  ANALYST: { dimensions: ALL_DIMENSIONS.filter((d) => d !== 'CITY'), suppressSmallGroups: true },
  PARTNER: { dimensions: ['GENDER', 'AGE_BAND', 'COUNTRY', 'LIFECYCLE_STAGE', 'SIGNUP_MONTH', 'SIGNUP_QUARTER', 'SIGNUP_YEAR'], suppressSmallGroups: true },
};

const MAX_GROUPS = 10_000;
const MAX_PERIODS = 1_000;

const minGroupSize = (viewer: Viewer, config: StatsConfig) =>
  (AGGREGATE_POLICY[viewer.role].suppressSmallGroups ? config.aggregateMinGroupSize : 1);

/** The filter as SQL, cost-checked, and limited to the viewer's row scope (API keys). */
async function compileChecked(db: Db, config: StatsConfig, filter: CustomerFilter | null | undefined, rowScope: SQL | undefined) {
  const where = compileCustomerFilter(filter, config);
  if (isBehavioural(filter)) {
    const e = await explainCustomerFilter(db, config, filter);
    if (!e.withinBudget) throw queryTooComplex(`This filter is estimated to cost ${Math.round(e.estimatedCost)} (budget ${e.budget}); narrow it`);
  }
  return and(where, rowScope);
}

function checkWindow(from: Date, to: Date, interval: Interval | null) {
  if (from.getTime() >= to.getTime()) throw badUserInput('from must be before to', 'from');
  if (interval) {
    const days = (to.getTime() - from.getTime()) / 86_400_000;
    const periods = interval === 'DAY' ? days : interval === 'WEEK' ? days / 7 : days / 28;
    if (periods > MAX_PERIODS) throw badUserInput(`at most ${MAX_PERIODS} periods: use a longer interval or a shorter window`, 'interval');
  }
}

export async function customerStats(db: Db, config: StatsConfig, viewer: Viewer, viewerScope: SQL | undefined, filter: CustomerFilter | null | undefined, groupBy: readonly CustomerGroupBy[] | null | undefined) {
  const dims = groupBy ?? [];
  if (dims.length > 3) throw badUserInput('groupBy takes at most three dimensions', 'groupBy');
  const policy = AGGREGATE_POLICY[viewer.role];
  for (const [i, g] of dims.entries()) {
    if (!policy.dimensions.includes(g.dimension)) throw forbidden(`${viewer.role} may not group by ${g.dimension}`);
    if (g.dimension === 'TAG_VALUE' && !g.tagKey?.trim()) throw badUserInput('TAG_VALUE needs a tagKey', `groupBy.${i}.tagKey`);
  }
  if (new Set(dims.map((g) => `${g.dimension}:${g.tagKey ?? ''}`)).size !== dims.length) throw badUserInput('groupBy repeats a dimension', 'groupBy');
  const where = await compileChecked(db, config, filter, viewerScope);
  const rows = await repo.customerStats(db, where, dims.map((g) => ({ dimension: g.dimension, tagKey: g.tagKey?.trim() ?? null })), MAX_GROUPS + 1);
  if (rows.length > MAX_GROUPS) throw queryTooComplex(`more than ${MAX_GROUPS} groups: group by fewer or coarser dimensions`);
  const k = minGroupSize(viewer, config);
  const shown = rows.filter((r) => r.customerCount >= k);
  return {
    groups: shown.map((r) => ({
      keys: r.keys.map((value, i) => ({ dimension: dims[i]!.dimension, value })),
      customerCount: r.customerCount, orderCount: r.orderCount,
      totalSpent: money(r.totalSpent, config), averageOrderValue: money(r.averageOrderValue, config),
      medianSpent: money(r.medianSpent, config), p90Spent: money(r.p90Spent, config),
    })),
    suppressedGroups: rows.length - shown.length,
    minimumGroupSize: k,
  };
}

const money = (amount: string, config: Pick<Config, 'baseCurrency'>) => ({ amount, currency: config.baseCurrency });

export async function salesSeries(db: Db, config: StatsConfig, viewer: Viewer, viewerScope: SQL | undefined, filter: CustomerFilter | null | undefined, interval: Interval, from: Date, to: Date) {
  checkWindow(from, to, interval);
  const where = await compileChecked(db, config, filter, viewerScope);
  const rows = await repo.salesSeries(db, where, interval, from, to);
  const k = minGroupSize(viewer, config);
  // A period with fewer than k buying (or new) customers would reveal individuals: k-viewers get it
  // zeroed and flagged instead.
  return rows.map((r) => {
    const hide = (r.buyingCustomers > 0 && r.buyingCustomers < k) || (r.newCustomers > 0 && r.newCustomers < k);
    return hide
      ? { periodStart: r.periodStart, revenue: money('0.0000', config), orders: 0, buyingCustomers: 0, newCustomers: 0, suppressed: true }
      : { ...r, revenue: money(r.revenue, config), suppressed: false };
  });
}

export async function cohortRetention(db: Db, config: StatsConfig, viewer: Viewer, viewerScope: SQL | undefined, by: CohortBasis, from: Date, to: Date, filter: CustomerFilter | null | undefined) {
  checkWindow(from, to, 'MONTH');
  const where = await compileChecked(db, config, filter, viewerScope);
  const rows = await repo.cohortRetention(db, where, by, from, to);
  const k = minGroupSize(viewer, config);
  const cohorts = new Map<string, { cohort: string; size: number; byOffset: Map<number, number> }>();
  for (const r of rows) {
    let c = cohorts.get(r.cohort);
    if (!c) { c = { cohort: r.cohort, size: r.size, byOffset: new Map() }; cohorts.set(r.cohort, c); }
    if (r.monthOffset !== null) c.byOffset.set(r.monthOffset, r.customers);
  }
  const endMonth = to.getUTCFullYear() * 12 + to.getUTCMonth() - (to.getUTCDate() === 1 && to.getUTCHours() === 0 && to.getUTCMinutes() === 0 ? 1 : 0);
  return [...cohorts.values()].filter((c) => c.size >= k).map((c) => {
    const [y, m] = c.cohort.split('-').map(Number) as [number, number];
    const offsets = Math.max(0, endMonth - (y * 12 + m - 1)) + 1;
    return {
      cohort: c.cohort,
      size: c.size,
      retention: Array.from({ length: offsets }, (_, monthOffset) => {
        const customers = c.byOffset.get(monthOffset) ?? 0;
        return { monthOffset, customers, share: c.size ? customers / c.size : 0 };
      }),
    };
  });
}

export async function interactionStats(db: Db, config: StatsConfig, viewer: Viewer, viewerScope: SQL | undefined, filter: CustomerFilter | null | undefined,
  groupBy: readonly InteractionDimension[] | null | undefined, interval: Interval | null | undefined, from: Date | null | undefined, to: Date | null | undefined) {
  const dims = [...new Set(groupBy ?? [])];
  if (interval && (!from || !to)) throw badUserInput('an interval needs from and to', 'interval');
  if (from && to) checkWindow(from, to, interval ?? null);
  const where = await compileChecked(db, config, filter, viewerScope);
  const rows = await repo.interactionStats(db, where, dims, interval ?? null, from ?? null, to ?? null, MAX_GROUPS + 1);
  if (rows.length > MAX_GROUPS) throw queryTooComplex(`more than ${MAX_GROUPS} groups: use a longer interval or fewer dimensions`);
  const k = minGroupSize(viewer, config);
  return rows.filter((r) => r.customers >= k);
}

export async function categoryAffinity(db: Db, config: StatsConfig, viewer: Viewer, viewerScope: SQL | undefined, filter: CustomerFilter | null | undefined, top: number | null | undefined, from: Date | null | undefined, to: Date | null | undefined) {
  const n = top ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw badUserInput('top must be between 1 and 100', 'top');
  if (from && to && from.getTime() >= to.getTime()) throw badUserInput('from must be before to', 'from');
  const where = await compileChecked(db, config, filter, viewerScope);
  return repo.categoryAffinity(db, where, from ?? null, to ?? null, n, minGroupSize(viewer, config));
}
