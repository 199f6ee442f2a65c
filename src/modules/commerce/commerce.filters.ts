import { and, sql, type SQL } from 'drizzle-orm';
import type { TransactionCondition } from '../../__generated__/resolvers-types';
import { customers, RECENT_ORDERS_KEPT } from '../../db/schema/index';
import { admitsZero, admitsZeroDecimal, checkRange, clock, filterCondition, rangeConds, windowConds, type FilterOptions } from '../../lib/filter';

/** The commerce domain's conditions of `CustomerFilter`: `transactions`, `firstPurchase`, `lastPurchase`. */
export const commerceFilters = [
  filterCondition({ field: 'transactions', behavioural: true, compile: (t, at) => at.add(transactionCondition(t, `${at.path}.transactions`, at.opts)) }),
  filterCondition({ field: 'firstPurchase', behavioural: true, compile: (r, at) => at.add(purchaseBound('min', r)) }),
  filterCondition({ field: 'lastPurchase', behavioural: true, compile: (r, at) => at.add(purchaseBound('max', r)) }),
];

function transactionCondition(t: TransactionCondition, field: string, opts: FilterOptions): SQL {
  if (t.count) checkRange(t.count, `${field}.count`, (a, b) => Number(a) > Number(b));
  if (t.sum) checkRange(t.sum, `${field}.sum`, (a, b) => Number(a) > Number(b));
  if (t.average) checkRange(t.average, `${field}.average`, (a, b) => Number(a) > Number(b));
  const conds: SQL[] = [sql`t.customer_id = ${customers.id}`, sql`t.status = 'COMPLETED'`, sql`t.type = ${t.type ?? 'ORDER'}`,
    ...windowConds('t', t.window, `${field}.window`, opts)];
  if (t.channel) conds.push(t.channel.length ? sql`t.channel = ANY(${sql.param([...t.channel])}::text[])` : sql`false`);
  if (t.category) {
    conds.push(t.category.length
      ? sql`EXISTS (SELECT 1 FROM transaction_items i WHERE i.customer_id = t.customer_id AND i.transaction_id = t.id AND i.category = ANY(${sql.param([...t.category])}::text[]))`
      : sql`false`);
  }
  const recent = recentOrdersCondition(t, opts);
  if (recent) return recent;
  const where = sql.join(conds, sql` AND `);
  const aggs: SQL[] = [];
  aggs.push(...rangeConds(sql`count(*)`, t.count, 'int'));
  aggs.push(...rangeConds(sql`coalesce(sum(t.amount_base), 0)`, t.sum, 'numeric'));
  aggs.push(...rangeConds(sql`avg(t.amount_base)`, t.average, 'numeric'));
  // No aggregate bound: "has at least one such transaction".
  if (!aggs.length) return sql`EXISTS (SELECT 1 FROM transactions t WHERE ${where})`;
  // Customers without rows fail the condition: a grouped semi-join finds the rest in one pass.
  if (opts.setBased && (!admitsZero(t.count) || t.average != null || !admitsZeroDecimal(t.sum))) {
    return sql`${customers.id} IN (SELECT t.customer_id FROM transactions t WHERE ${sql.join(conds.slice(1), sql` AND `)}
      GROUP BY t.customer_id HAVING ${sql.join(aggs, sql` AND `)})`;
  }
  // Ranges that admit zero transactions must also match customers without any: aggregate, don't EXISTS.
  return sql`(SELECT ${sql.join(aggs, sql` AND `)} FROM transactions t WHERE ${where})`;
}

/**
 * A count of completed orders (no channel, category, sum or average) over all time or since a time:
 * answered from the customer's maintained metrics row instead of aggregating transactions
 * (drizzle/0019_recent_orders.sql). `recent_orders` holds the newest RECENT_ORDERS_KEPT order times,
 * newest first, so "at least k since T" is `recent_orders[k] >= T` and "at most k since T" is
 * `recent_orders[k+1]` missing or older than T, exactly, for k below that length. Windows with an end
 * (`to`) and larger bounds return undefined: the caller aggregates.
 */
function recentOrdersCondition(t: TransactionCondition, opts: FilterOptions): SQL | undefined {
  if ((t.type ?? 'ORDER') !== 'ORDER' || t.channel != null || t.category != null || t.sum != null || t.average != null || !t.count) return undefined;
  const w = t.window;
  if (w?.to != null) return undefined;
  const min = t.count.min != null && t.count.min > 0 ? t.count.min : null;
  const max = t.count.max ?? null;
  if (max != null && max < 0) return sql`false`;
  if (min == null && max == null) return sql`true`;
  const m = (cond: SQL) => sql`EXISTS (SELECT 1 FROM customer_metrics fm WHERE fm.customer_id = ${customers.id} AND ${cond})`;
  if (!w) {
    // All time: the maintained order count itself.
    return m(sql.join(rangeConds(sql`fm.order_count`, { min, max }, 'int'), sql` AND `));
  }
  if ((min ?? 0) > RECENT_ORDERS_KEPT || (max ?? 0) + 1 > RECENT_ORDERS_KEPT) return undefined;
  const since = w.last != null ? sql`${clock(opts)} - ${w.last}::interval` : sql`${w.from!.toISOString()}::timestamptz`;
  const conds: SQL[] = [];
  if (min != null) conds.push(sql`fm.recent_orders[${min}::int] >= ${since}`);
  if (max != null) conds.push(sql`coalesce(fm.recent_orders[${max + 1}::int] < ${since}, true)`);
  return m(sql.join(conds, sql` AND `));
}

/** First / last completed order inside a range: the maintained metrics columns (same definition as min/max over transactions). */
function purchaseBound(fn: 'min' | 'max', r: { from?: Date | null; to?: Date | null }): SQL {
  const col = sql.raw(fn === 'min' ? 'fm.first_purchase_at' : 'fm.last_purchase_at');
  return sql`EXISTS (SELECT 1 FROM customer_metrics fm WHERE fm.customer_id = ${customers.id} AND ${and(
    sql`${col} IS NOT NULL`,
    r.from ? sql`${col} >= ${r.from.toISOString()}::timestamptz` : undefined,
    r.to ? sql`${col} < ${r.to.toISOString()}::timestamptz` : undefined,
  )!})`;
}
