import { sql, type SQL } from 'drizzle-orm';
import { execRows, toDate, type Db } from '../../db/client';
import { customers } from '../../db/schema/index';

/**
 * BI aggregates: one statement each, grouped in PostgreSQL. Customer filters arrive compiled
 * (`where` over `customers`); dimensions and intervals arrive as enum values and map to SQL here only.
 */

export type CustomerDimensionKey =
  | 'GENDER' | 'AGE_BAND' | 'COUNTRY' | 'CITY' | 'LIFECYCLE_STAGE' | 'TAG_VALUE' | 'SIGNUP_MONTH' | 'SIGNUP_QUARTER' | 'SIGNUP_YEAR';
export type IntervalKey = 'DAY' | 'WEEK' | 'MONTH';

// The birth date is encrypted; ages come from its clear month (exact but in the birth month itself, see
// src/db/schema/profile.ts), counted at the start of the current month. Both are first days of months,
// so "younger than N" is "born after the month start N years ago": one date comparison per band against
// a bound computed once per statement (an InitPlan), instead of age() per row (measured on 1,000,000
// customers: age() was about a third of a COUNTRY x AGE_BAND customerStats).
const bornAfter = (years: number) =>
  sql`(SELECT (date_trunc('month', current_date) - ${sql.raw(`interval '${years} years'`)})::date)`;
const AGE_BAND = sql`CASE WHEN ${customers.birthMonth} IS NULL THEN 'unknown'
  WHEN ${customers.birthMonth} > ${bornAfter(18)} THEN '<18' WHEN ${customers.birthMonth} > ${bornAfter(25)} THEN '18-24'
  WHEN ${customers.birthMonth} > ${bornAfter(35)} THEN '25-34' WHEN ${customers.birthMonth} > ${bornAfter(45)} THEN '35-44'
  WHEN ${customers.birthMonth} > ${bornAfter(55)} THEN '45-54' WHEN ${customers.birthMonth} > ${bornAfter(65)} THEN '55-64' ELSE '65+' END`;

function dimensionExpr(d: CustomerDimensionKey, tagAlias: string): SQL {
  switch (d) {
    case 'GENDER': return sql`${customers.gender}`;
    case 'AGE_BAND': return AGE_BAND;
    case 'COUNTRY': return sql`${customers.country}::text`;
    case 'CITY': return sql`${customers.city}`;
    case 'LIFECYCLE_STAGE': return sql`${customers.lifecycleStage}`;
    case 'TAG_VALUE': return sql.raw(`${tagAlias}.value`);
    case 'SIGNUP_MONTH': return sql`to_char(${customers.createdAt} AT TIME ZONE 'UTC', 'YYYY-MM')`;
    case 'SIGNUP_QUARTER': return sql`to_char(${customers.createdAt} AT TIME ZONE 'UTC', 'YYYY-"Q"Q')`;
    case 'SIGNUP_YEAR': return sql`to_char(${customers.createdAt} AT TIME ZONE 'UTC', 'YYYY')`;
  }
}

const UNIT: Record<IntervalKey, SQL> = { DAY: sql.raw(`'day'`), WEEK: sql.raw(`'week'`), MONTH: sql.raw(`'month'`) };
const STEP: Record<IntervalKey, SQL> = { DAY: sql.raw(`interval '1 day'`), WEEK: sql.raw(`interval '1 week'`), MONTH: sql.raw(`interval '1 month'`) };

export interface StatsRow {
  keys: (string | null)[];
  customerCount: number; totalSpent: string; orderCount: number; averageOrderValue: string; medianSpent: string; p90Spent: string;
}

/** At most `limit` groups, largest first (callers pass limit + 1 to detect overflow). */
export async function customerStats(
  db: Db, where: SQL | undefined, groupBy: readonly { dimension: CustomerDimensionKey; tagKey: string | null }[], limit: number,
): Promise<StatsRow[]> {
  const dims = groupBy.map((g, i) => dimensionExpr(g.dimension, `tv${i}`));
  const tagJoins = groupBy.map((g, i) => (g.dimension === 'TAG_VALUE'
    ? sql`LEFT JOIN LATERAL (SELECT coalesce(ct.value, 'true') AS value FROM customer_tags ct JOIN tag_definitions d ON d.id = ct.tag_id
        WHERE ct.customer_id = ${customers.id} AND d.key = ${g.tagKey ?? ''} AND (ct.expires_at IS NULL OR ct.expires_at > now()) LIMIT 1) ${sql.raw(`tv${i}`)} ON true`
    : sql``));
  const keyCols = dims.map((d, i) => sql`${d} AS ${sql.raw(`d${i}`)}`);
  const groupCols = dims.map((_, i) => sql.raw(`d${i}`));
  const rows = await execRows<Record<string, unknown>>(db, sql`
    SELECT ${sql.join([...keyCols, sql`count(*)::int AS n_customers`], sql`, `)},
      coalesce(sum(m.total_spent), 0)::numeric(18,4)::text AS total,
      coalesce(sum(m.order_count), 0)::int AS orders,
      coalesce(round(sum(m.total_spent) / nullif(sum(m.order_count), 0), 4), 0)::numeric(18,4)::text AS aov,
      coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY m.total_spent), 0)::numeric(18,4)::text AS median,
      coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY m.total_spent), 0)::numeric(18,4)::text AS p90
    FROM ${customers} JOIN customer_metrics m ON m.customer_id = ${customers.id}
    ${sql.join(tagJoins, sql` `)}
    ${where ? sql`WHERE ${where}` : sql``}
    ${groupCols.length ? sql`GROUP BY ${sql.join(groupCols, sql`, `)}` : sql``}
    ORDER BY n_customers DESC${groupCols.length ? sql`, ${sql.join(groupCols.map((c) => sql`${c} NULLS LAST`), sql`, `)}` : sql``}
    LIMIT ${limit}`);
  return rows.map((r) => ({
    keys: groupBy.map((_, i) => (r[`d${i}`] == null ? null : String(r[`d${i}`]))),
    customerCount: Number(r.n_customers), totalSpent: String(r.total), orderCount: Number(r.orders),
    averageOrderValue: String(r.aov), medianSpent: String(r.median), p90Spent: String(r.p90),
  }));
}

const matched = (where: SQL | undefined, col: SQL): SQL =>
  (where ? sql`${col} IN (SELECT ${customers.id} FROM ${customers} WHERE ${where})` : sql`true`);

export interface SalesRow { periodStart: Date; revenue: string; orders: number; buyingCustomers: number; newCustomers: number }

export async function salesSeries(db: Db, where: SQL | undefined, interval: IntervalKey, from: Date, to: Date): Promise<SalesRow[]> {
  const f = from.toISOString();
  const t = to.toISOString();
  const rows = await execRows<{ p: unknown; revenue: string; orders: number; buyers: number; new_customers: number }>(db, sql`
    WITH periods AS (
      SELECT generate_series(date_trunc(${UNIT[interval]}, ${f}::timestamptz AT TIME ZONE 'UTC'),
                             (${t}::timestamptz AT TIME ZONE 'UTC') - interval '1 microsecond', ${STEP[interval]}) AS p
    ), tx AS (
      SELECT date_trunc(${UNIT[interval]}, x.occurred_at AT TIME ZONE 'UTC') AS p,
        sum(CASE WHEN x.type = 'ORDER' THEN x.amount_base ELSE -x.amount_base END) AS revenue,
        count(*) FILTER (WHERE x.type = 'ORDER') AS orders,
        count(DISTINCT x.customer_id) FILTER (WHERE x.type = 'ORDER') AS buyers
      FROM transactions x
      WHERE x.status = 'COMPLETED' AND x.occurred_at >= ${f}::timestamptz AND x.occurred_at < ${t}::timestamptz
        AND ${matched(where, sql`x.customer_id`)}
      GROUP BY 1
    ), nc AS (
      SELECT date_trunc(${UNIT[interval]}, ${customers.createdAt} AT TIME ZONE 'UTC') AS p, count(*) AS n
      FROM ${customers}
      WHERE ${customers.createdAt} >= ${f}::timestamptz AND ${customers.createdAt} < ${t}::timestamptz ${where ? sql`AND ${where}` : sql``}
      GROUP BY 1
    )
    SELECT periods.p AT TIME ZONE 'UTC' AS p, coalesce(tx.revenue, 0)::numeric(18,4)::text AS revenue,
      coalesce(tx.orders, 0)::int AS orders, coalesce(tx.buyers, 0)::int AS buyers, coalesce(nc.n, 0)::int AS new_customers
    FROM periods LEFT JOIN tx ON tx.p = periods.p LEFT JOIN nc ON nc.p = periods.p
    ORDER BY periods.p`);
  return rows.map((r) => ({
    periodStart: toDate(r.p), revenue: r.revenue, orders: Number(r.orders), buyingCustomers: Number(r.buyers), newCustomers: Number(r.new_customers),
  }));
}

export interface CohortRow { cohort: string; size: number; monthOffset: number | null; customers: number }

export async function cohortRetention(db: Db, where: SQL | undefined, by: 'SIGNUP_MONTH' | 'FIRST_PURCHASE_MONTH', from: Date, to: Date): Promise<CohortRow[]> {
  const f = from.toISOString();
  const t = to.toISOString();
  const cohorts = by === 'SIGNUP_MONTH'
    ? sql`SELECT ${customers.id} AS id, date_trunc('month', ${customers.createdAt} AT TIME ZONE 'UTC') AS cohort FROM ${customers}
          WHERE ${customers.createdAt} >= ${f}::timestamptz AND ${customers.createdAt} < ${t}::timestamptz ${where ? sql`AND ${where}` : sql``}`
    : sql`SELECT m.customer_id AS id, date_trunc('month', m.first_purchase_at AT TIME ZONE 'UTC') AS cohort FROM customer_metrics m
          WHERE m.first_purchase_at >= ${f}::timestamptz AND m.first_purchase_at < ${t}::timestamptz AND ${matched(where, sql`m.customer_id`)}`;
  const rows = await execRows<{ cohort: string; size: number; month_offset: number | null; customers: number | null }>(db, sql`
    WITH cohorts AS (${cohorts}),
    sizes AS (SELECT cohort, count(*) AS size FROM cohorts GROUP BY cohort),
    activity AS (
      SELECT c.cohort,
        ((date_part('year', date_trunc('month', x.occurred_at AT TIME ZONE 'UTC')) - date_part('year', c.cohort)) * 12
          + date_part('month', date_trunc('month', x.occurred_at AT TIME ZONE 'UTC')) - date_part('month', c.cohort))::int AS month_offset,
        count(DISTINCT c.id) AS customers
      FROM cohorts c
      JOIN transactions x ON x.customer_id = c.id AND x.type = 'ORDER' AND x.status = 'COMPLETED'
        AND x.occurred_at >= (c.cohort AT TIME ZONE 'UTC') AND x.occurred_at < ${t}::timestamptz
      GROUP BY 1, 2
    )
    SELECT to_char(s.cohort, 'YYYY-MM') AS cohort, s.size::int AS size, a.month_offset, a.customers::int AS customers
    FROM sizes s LEFT JOIN activity a ON a.cohort = s.cohort
    ORDER BY s.cohort, a.month_offset`);
  return rows.map((r) => ({ cohort: r.cohort, size: Number(r.size), monthOffset: r.month_offset == null ? null : Number(r.month_offset), customers: Number(r.customers ?? 0) }));
}

export type InteractionDimensionKey = 'CHANNEL' | 'TYPE' | 'SENTIMENT';
const IX_COLUMN: Record<InteractionDimensionKey, string> = { CHANNEL: 'channel', TYPE: 'type', SENTIMENT: 'sentiment' };

export interface InteractionStatsRow {
  periodStart: Date | null; channel: string | null; type: string | null; sentiment: string | null;
  interactions: number; complaints: number; customers: number;
}

export async function interactionStats(
  db: Db, where: SQL | undefined, groupBy: readonly InteractionDimensionKey[], interval: IntervalKey | null, from: Date | null, to: Date | null, limit: number,
): Promise<InteractionStatsRow[]> {
  const cols: SQL[] = [];
  if (interval) cols.push(sql`(date_trunc(${UNIT[interval]}, x.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS p`);
  for (const d of groupBy) cols.push(sql.raw(`x.${IX_COLUMN[d]} AS ${IX_COLUMN[d]}`));
  const groupCols = [...(interval ? [sql.raw('p')] : []), ...groupBy.map((d) => sql.raw(IX_COLUMN[d]))];
  const rows = await execRows<Record<string, unknown>>(db, sql`
    SELECT ${sql.join([...cols, sql`count(*)::int AS interactions`], sql`, `)},
      count(*) FILTER (WHERE x.type = 'COMPLAINT')::int AS complaints, count(DISTINCT x.customer_id)::int AS customers
    FROM interactions x
    WHERE ${matched(where, sql`x.customer_id`)}
      ${from ? sql`AND x.occurred_at >= ${from.toISOString()}::timestamptz` : sql``}
      ${to ? sql`AND x.occurred_at < ${to.toISOString()}::timestamptz` : sql``}
    ${groupCols.length ? sql`GROUP BY ${sql.join(groupCols, sql`, `)} ORDER BY ${sql.join(groupCols, sql`, `)}` : sql``}
    LIMIT ${limit}`);
  return rows.map((r) => ({
    periodStart: r.p == null ? null : toDate(r.p),
    channel: (r.channel as string | undefined) ?? null, type: (r.type as string | undefined) ?? null, sentiment: (r.sentiment as string | undefined) ?? null,
    interactions: Number(r.interactions), complaints: Number(r.complaints), customers: Number(r.customers),
  }));
}

export interface PairRow { category: string; boughtWith: string; support: number; confidence: number; lift: number; orders: number }

/** Pairs of categories in the same completed order; pairs seen in fewer than `minOrders` orders are left out. */
export async function categoryAffinity(db: Db, where: SQL | undefined, from: Date | null, to: Date | null, top: number, minOrders: number): Promise<PairRow[]> {
  const rows = await execRows<{ a: string; b: string; both_orders: number; support: number; confidence: number; lift: number }>(db, sql`
    WITH baskets AS (
      SELECT DISTINCT i.transaction_id, i.category
      FROM transaction_items i JOIN transactions x ON x.customer_id = i.customer_id AND x.id = i.transaction_id
      WHERE x.type = 'ORDER' AND x.status = 'COMPLETED' AND i.category IS NOT NULL AND ${matched(where, sql`x.customer_id`)}
        ${from ? sql`AND x.occurred_at >= ${from.toISOString()}::timestamptz` : sql``}
        ${to ? sql`AND x.occurred_at < ${to.toISOString()}::timestamptz` : sql``}
    ),
    n AS (SELECT count(DISTINCT transaction_id)::float8 AS total FROM baskets),
    singles AS (SELECT category, count(*)::float8 AS cnt FROM baskets GROUP BY category),
    pairs AS (
      SELECT a.category AS a, b.category AS b, count(*) AS both_cnt
      FROM baskets a JOIN baskets b ON a.transaction_id = b.transaction_id AND a.category <> b.category
      GROUP BY 1, 2 HAVING count(*) >= ${minOrders}
    )
    SELECT p.a, p.b, p.both_cnt::int AS both_orders, (p.both_cnt / n.total) AS support, (p.both_cnt / sa.cnt) AS confidence,
      ((p.both_cnt / sa.cnt) / (sb.cnt / n.total)) AS lift
    FROM pairs p CROSS JOIN n JOIN singles sa ON sa.category = p.a JOIN singles sb ON sb.category = p.b
    ORDER BY round(((p.both_cnt / sa.cnt) / (sb.cnt / n.total))::numeric, 6) DESC, both_orders DESC, p.a, p.b
    LIMIT ${top}`);
  return rows.map((r) => ({ category: r.a, boughtWith: r.b, orders: Number(r.both_orders), support: Number(r.support), confidence: Number(r.confidence), lift: Number(r.lift) }));
}
