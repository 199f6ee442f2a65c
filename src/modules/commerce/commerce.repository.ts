import { sql, type SQL } from 'drizzle-orm';
import { execRows, toDate, type Db } from '../../db/client';
import type { TransactionItemRow, TransactionRow } from './commerce.mappers';
import { uuidIn, uuidRows } from '../../lib/sql';

/** SQL of the commerce domain. Arrays in, rows out. Raw-SQL timestamps are passed as ISO strings. */

export interface WindowArgs { from: Date | null; to: Date | null }
export interface PageArgs extends WindowArgs { limit: number; after: { key: string; id: string } | null }

const TX_COLUMNS = sql`t.id, t.customer_id, t.source, t.external_id, t.occurred_at,
  to_char(t.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_key,
  t.type, t.status, t.channel, t.store, t.currency, t.amount::text AS amount, t.amount_base::text AS amount_base`;

export interface TxDbRow {
  id: string; customer_id: string; source: string; external_id: string; occurred_at: unknown; occurred_key: string;
  type: string; status: string; channel: string | null; store: string | null; currency: string; amount: string; amount_base: string;
}

export function mapTransaction(r: TxDbRow): TransactionRow {
  return {
    id: r.id, customerId: r.customer_id, source: r.source, externalId: r.external_id,
    occurredAt: toDate(r.occurred_at), occurredKey: r.occurred_key, type: r.type, status: r.status,
    channel: r.channel, store: r.store, currency: r.currency, amount: r.amount, amountBase: r.amount_base,
  };
}

function windowCond(alias: SQL, w: WindowArgs): SQL {
  return sql.join([
    sql`true`,
    ...(w.from ? [sql`${alias}.occurred_at >= ${w.from.toISOString()}::timestamptz`] : []),
    ...(w.to ? [sql`${alias}.occurred_at < ${w.to.toISOString()}::timestamptz`] : []),
  ], sql` AND `);
}

function keysetCond(alias: SQL, after: PageArgs['after']): SQL {
  return after
    ? sql`(${alias}.occurred_at, ${alias}.id) < (${after.key}::timestamptz, ${after.id}::uuid)`
    : sql`true`;
}

export interface TransactionPageRows { customerId: string; totalCount: number; rows: TransactionRow[] }

/**
 * The newest `limit` transactions (with their lines) of every customer, and each customer's total
 * in the window: one statement for all parents (LATERAL per customer, index on (customer_id, occurred_at, id)).
 */
export type TransactionPageDbRow = TxDbRow & { key_customer_id: string; total_count: number; items: TransactionItemRow[] | null };

export async function transactionPages(db: Db, customerIds: readonly string[], args: PageArgs): Promise<TransactionPageRows[]> {
  if (customerIds.length === 0) return [];
  return mapTransactionPages(await execRows<TransactionPageDbRow>(db, transactionPagesQuery(customerIds, args)));
}

export function transactionPagesQuery(customerIds: readonly string[], args: PageArgs): SQL {
  const t = sql.raw('t');
  const x = sql.raw('x');
  return sql`
    SELECT k.customer_id AS key_customer_id, tc.total_count, p.*
    FROM ${uuidRows(customerIds, 'k', 'customer_id')}
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS total_count FROM transactions x WHERE x.customer_id = k.customer_id AND ${windowCond(x, args)}
    ) tc
    LEFT JOIN LATERAL (
      SELECT ${TX_COLUMNS},
        (SELECT coalesce(json_agg(json_build_object('sku', i.sku, 'productName', i.product_name, 'category', i.category,
                 'quantity', i.quantity, 'unitPrice', i.unit_price::text, 'currency', t.currency) ORDER BY i.position), '[]'::json)
           FROM transaction_items i WHERE i.customer_id = t.customer_id AND i.transaction_id = t.id) AS items
      FROM transactions t
      WHERE t.customer_id = k.customer_id AND ${windowCond(t, args)} AND ${keysetCond(t, args.after)}
      ORDER BY t.occurred_at DESC, t.id DESC
      LIMIT ${args.limit}
    ) p ON true`;
}

export function mapTransactionPages(rows: readonly TransactionPageDbRow[]): TransactionPageRows[] {
  const byCustomer = new Map<string, TransactionPageRows>();
  for (const r of rows) {
    let page = byCustomer.get(r.key_customer_id);
    if (!page) {
      page = { customerId: r.key_customer_id, totalCount: Number(r.total_count), rows: [] };
      byCustomer.set(r.key_customer_id, page);
    }
    if (r.id) page.rows.push({ ...mapTransaction(r), items: r.items ?? [] });
  }
  return [...byCustomer.values()];
}

export async function transactionsByIds(db: Db, ids: readonly string[], rowScope?: SQL): Promise<TransactionRow[]> {
  if (ids.length === 0) return [];
  const rows = await execRows<TxDbRow>(db, sql`SELECT ${TX_COLUMNS} FROM transactions t WHERE ${uuidIn('t.id', ids)}
    ${rowScope ? sql`AND EXISTS (SELECT 1 FROM customers WHERE customers.id = t.customer_id AND ${rowScope})` : sql``}`);
  return rows.map(mapTransaction);
}

export async function itemsByTransactionIds(db: Db, ids: readonly string[]): Promise<(TransactionItemRow & { transactionId: string })[]> {
  if (ids.length === 0) return [];
  const rows = await execRows<{ transaction_id: string; sku: string; product_name: string; category: string | null; quantity: number; unit_price: string; currency: string }>(db, sql`
    SELECT i.transaction_id, i.sku, i.product_name, i.category, i.quantity, i.unit_price::text AS unit_price, t.currency
    FROM transaction_items i JOIN transactions t ON t.customer_id = i.customer_id AND t.id = i.transaction_id
    WHERE ${uuidIn('i.transaction_id', ids)}
    ORDER BY i.transaction_id, i.position`);
  return rows.map((r) => ({
    transactionId: r.transaction_id, sku: r.sku, productName: r.product_name, category: r.category,
    quantity: Number(r.quantity), unitPrice: r.unit_price, currency: r.currency,
  }));
}

export interface MetricsDbRow {
  customerId: string; orderCount: number; totalSpent: string; averageOrderValue: string;
  firstPurchaseAt: Date | null; lastPurchaseAt: Date | null;
}

/**
 * Net spend in base currency (completed orders minus completed refunds) and AOV over completed orders,
 * read from the trigger-maintained customer_metrics (one primary-key lookup per customer).
 */
export async function metricsByCustomerIds(db: Db, customerIds: readonly string[]): Promise<MetricsDbRow[]> {
  if (customerIds.length === 0) return [];
  return mapMetrics(await execRows<MetricsRawRow>(db, metricsQuery(customerIds)));
}

export interface MetricsRawRow { customer_id: string; order_count: number; total: string; aov: string; first_at: unknown; last_at: unknown }

export function metricsQuery(customerIds: readonly string[]): SQL {
  return sql`
    SELECT customer_id, order_count, total_spent::text AS total,
      coalesce(round(total_spent / nullif(order_count, 0), 4), 0)::numeric(18,4)::text AS aov,
      first_purchase_at AS first_at, last_purchase_at AS last_at
    FROM customer_metrics
    WHERE ${uuidIn('customer_id', customerIds)}`;
}

export function mapMetrics(rows: readonly MetricsRawRow[]): MetricsDbRow[] {
  return rows.map((r) => ({
    customerId: r.customer_id, orderCount: Number(r.order_count), totalSpent: r.total, averageOrderValue: r.aov,
    firstPurchaseAt: r.first_at == null ? null : toDate(r.first_at), lastPurchaseAt: r.last_at == null ? null : toDate(r.last_at),
  }));
}

/**
 * Rate from `currency` to `base` valid on `day`: direct when stored, otherwise crossed through USD
 * (the reference rates are stored against USD). Null when unknown.
 */
export async function rateToBase(db: Pick<Db, 'execute'>, currency: string, base: string, day: Date): Promise<string | null> {
  if (currency === base) return '1';
  const d = day.toISOString().slice(0, 10);
  const rows = await execRows<{ rate: string | null }>(db, sql`
    WITH r AS (
      SELECT DISTINCT ON (currency, base_currency) currency, base_currency, rate
      FROM currency_rates
      WHERE valid_from <= ${d}::date AND ((currency = ${currency} AND base_currency IN (${base}, 'USD')) OR (currency = ${base} AND base_currency = 'USD'))
      ORDER BY currency, base_currency, valid_from DESC
    )
    SELECT coalesce(
      (SELECT rate FROM r WHERE currency = ${currency} AND base_currency = ${base}),
      (SELECT a.rate / b.rate FROM r a, r b WHERE a.currency = ${currency} AND a.base_currency = 'USD' AND b.currency = ${base} AND b.base_currency = 'USD')
    )::text AS rate`);
  return rows[0]?.rate ?? null;
}
