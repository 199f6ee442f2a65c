import { sql } from 'drizzle-orm';
import {
  pgTable, uuid, text, timestamp, numeric, integer, char, date, index, uniqueIndex, primaryKey, check, foreignKey,
} from 'drizzle-orm/pg-core';
import { customers } from './profile';

/** Exchange rates: 1 unit of `currency` = `rate` units of `base_currency`, valid from a day. */
export const currencyRates = pgTable('currency_rates', {
  currency: char('currency', { length: 3 }).notNull(),
  baseCurrency: char('base_currency', { length: 3 }).notNull(),
  validFrom: date('valid_from', { mode: 'string' }).notNull(),
  rate: numeric('rate', { precision: 18, scale: 8 }).notNull(),
}, (t) => [primaryKey({ columns: [t.currency, t.baseCurrency, t.validFrom] })]);

export const transactions = pgTable('transactions', {
  id: uuid('id').notNull().defaultRandom(),
  customerId: uuid('customer_id').notNull().references(() => customers.id, { onDelete: 'cascade' }),
  source: text('source').notNull(),
  externalId: text('external_id').notNull(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
  type: text('type').notNull(),
  status: text('status').notNull().default('COMPLETED'),
  channel: text('channel'),
  store: text('store'),
  currency: char('currency', { length: 3 }).notNull(),
  amount: numeric('amount', { precision: 18, scale: 4 }).notNull(),
  amountBase: numeric('amount_base', { precision: 18, scale: 4 }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  // Co-keyed by customer for distribution; `id` alone is indexed for node lookups.
  primaryKey({ columns: [t.customerId, t.id] }),
  index('transactions_id_idx').on(t.id),
  uniqueIndex('transactions_source_external_id_uq').on(t.source, t.externalId),
  index('transactions_customer_occurred_idx').on(t.customerId, t.occurredAt, t.id),
  check('transactions_type_chk', sql`${t.type} IN ('ORDER','REFUND')`),
  check('transactions_status_chk', sql`${t.status} IN ('PENDING','COMPLETED','CANCELLED')`),
]);

export const transactionItems = pgTable('transaction_items', {
  id: uuid('id').notNull().defaultRandom(),
  transactionId: uuid('transaction_id').notNull(),
  customerId: uuid('customer_id').notNull(),
  position: integer('position').notNull(),
  sku: text('sku').notNull(),
  productName: text('product_name').notNull(),
  category: text('category'),
  quantity: integer('quantity').notNull(),
  unitPrice: numeric('unit_price', { precision: 18, scale: 4 }).notNull(),
}, (t) => [
  primaryKey({ columns: [t.customerId, t.id] }),
  foreignKey({ columns: [t.customerId, t.transactionId], foreignColumns: [transactions.customerId, transactions.id] }).onDelete('cascade'),
  index('transaction_items_transaction_idx').on(t.transactionId, t.position),
  check('transaction_items_quantity_chk', sql`${t.quantity} > 0`),
]);

/** How many order times `customer_metrics.recent_orders` keeps (the migration's LIMIT). */
export const RECENT_ORDERS_KEPT = 32;

/**
 * Per-customer purchase aggregates, maintained by statement-level triggers on `transactions`
 * (drizzle/0004_customer_metrics.sql) in the same transaction as every write, whoever writes.
 * Every customer has a row (a trigger on `customers` adds it), so lists can sort by these columns
 * through their indexes.
 */
export const customerMetrics = pgTable('customer_metrics', {
  customerId: uuid('customer_id').primaryKey().references(() => customers.id, { onDelete: 'cascade' }),
  orderCount: integer('order_count').notNull().default(0),
  totalSpent: numeric('total_spent', { precision: 18, scale: 4 }).notNull().default('0'),
  firstPurchaseAt: timestamp('first_purchase_at', { withTimezone: true }),
  lastPurchaseAt: timestamp('last_purchase_at', { withTimezone: true }),
  /**
   * occurred_at of the newest RECENT_ORDERS_KEPT completed orders, newest first (drizzle/0019): "at least
   * k orders since T" is `recent_orders[k] >= T` for k up to that many.
   */
  recentOrders: timestamp('recent_orders', { withTimezone: true }).array().notNull().default(sql`'{}'`),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  index('customer_metrics_total_spent_idx').on(t.totalSpent, t.customerId),
  index('customer_metrics_order_count_idx').on(t.orderCount, t.customerId),
  index('customer_metrics_last_purchase_idx').using('btree', sql`coalesce(${t.lastPurchaseAt}, 'epoch'::timestamptz)`, t.customerId),
]);
