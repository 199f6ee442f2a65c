import { and, eq, sql } from 'drizzle-orm';
import type { Config } from '../../config';
import type { Db } from '../../db/client';
import { transactionItems, transactions } from '../../db/schema/index';
import { userError, type UserError } from '../../errors';
import { fromUnits, lineTotal, toUnits } from '../../lib/decimal';
import { cleanText, normalizeCurrency } from '../../lib/normalize';
import type { RecordTransactionInput } from '../../__generated__/resolvers-types';
import { lockSourceKey, resolveCustomerRef, validateSourceKey } from '../profile';
import type { TransactionRow } from './commerce.mappers';
import { rateToBase, transactionsByIds } from './commerce.repository';

export interface RecordTransactionResult { transaction: TransactionRow | null; created: boolean; userErrors: UserError[] }

const MAX_FUTURE_MS = 24 * 3600_000;
const MAX_ITEMS = 500;

/**
 * Idempotent on (source, externalId): a repeat with the same content changes nothing; a repeat with
 * changes (status, amount, lines) updates the record. Header, lines and the base amount are written in
 * one transaction.
 */
export async function recordTransaction(db: Db, config: Pick<Config, 'baseCurrency'>, input: RecordTransactionInput): Promise<RecordTransactionResult> {
  const errors: UserError[] = [];
  validateSourceKey(input.source, input.externalId, errors);
  const currency = normalizeCurrency(input.currency);
  if (!currency) errors.push(userError(['input', 'currency'], 'currency must be an ISO 4217 code such as EUR'));
  if (input.occurredAt.getTime() > Date.now() + MAX_FUTURE_MS) errors.push(userError(['input', 'occurredAt'], 'occurredAt is in the future'));
  const items = (input.items ?? []).map((it, i) => {
    const p = ['input', 'items', String(i)];
    if (!it.sku.trim()) errors.push(userError([...p, 'sku'], 'sku must not be blank'));
    if (!it.productName.trim()) errors.push(userError([...p, 'productName'], 'productName must not be blank'));
    if (!Number.isInteger(it.quantity) || it.quantity <= 0) errors.push(userError([...p, 'quantity'], 'quantity must be a positive integer'));
    if (toUnits(it.unitPrice) < 0n) errors.push(userError([...p, 'unitPrice'], 'unitPrice must not be negative'));
    return { sku: it.sku.trim(), productName: it.productName.trim(), category: cleanText(it.category), quantity: it.quantity, unitPrice: fromUnits(toUnits(it.unitPrice)) };
  });
  if (items.length > MAX_ITEMS) errors.push(userError(['input', 'items'], `at most ${MAX_ITEMS} items`));
  let amount: string | null = null;
  if (input.amount != null) {
    if (toUnits(input.amount) <= 0n) errors.push(userError(['input', 'amount'], 'amount must be positive (use type REFUND for money returned)'));
    else amount = fromUnits(toUnits(input.amount));
  } else if (items.length) {
    amount = lineTotal(items);
    if (toUnits(amount) <= 0n) errors.push(userError(['input', 'items'], 'the items add up to zero; give a positive amount'));
  } else {
    errors.push(userError(['input', 'amount'], 'give an amount or items'));
  }
  if (errors.length) return { transaction: null, created: false, userErrors: errors };

  const externalId = input.externalId.trim();
  return db.transaction(async (tx) => {
    const customerId = await resolveCustomerRef(tx, input.customer, errors, ['input', 'customer']);
    const rate = await rateToBase(tx, currency!, config.baseCurrency, input.occurredAt);
    if (!rate) errors.push(userError(['input', 'currency'], `no exchange rate from ${currency} to ${config.baseCurrency}`));
    if (!customerId || errors.length) return { transaction: null, created: false, userErrors: errors };

    await lockSourceKey(tx, 'transaction', input.source, externalId);
    const header = {
      customerId,
      source: input.source,
      externalId,
      occurredAt: input.occurredAt,
      type: input.type,
      status: input.status ?? 'COMPLETED',
      channel: cleanText(input.channel),
      store: cleanText(input.store),
      currency: currency!,
      amount: amount!,
      amountBase: sql<string>`round(${amount}::numeric * ${rate}::numeric, 4)`,
    };
    const [existing] = await tx.select().from(transactions)
      .where(and(eq(transactions.source, input.source), eq(transactions.externalId, externalId)));
    let id: string;
    let created = false;
    if (!existing) {
      const [row] = await tx.insert(transactions).values(header).returning({ id: transactions.id });
      id = row!.id;
      created = true;
      if (items.length) {
        await tx.insert(transactionItems).values(items.map((it, i) => ({ ...it, transactionId: id, customerId, position: i + 1 })));
      }
    } else {
      if (existing.customerId !== customerId) {
        return { transaction: null, created: false, userErrors: [userError(['input', 'externalId'], 'this source id is already recorded for another customer', 'CONFLICT')] };
      }
      id = existing.id;
      const sameHeader = existing.occurredAt.getTime() === input.occurredAt.getTime() && existing.type === header.type
        && existing.status === header.status && existing.channel === header.channel && existing.store === header.store
        && existing.currency === header.currency && toUnits(existing.amount) === toUnits(header.amount);
      if (!sameHeader) {
        await tx.update(transactions).set({ ...header, updatedAt: new Date() })
          .where(and(eq(transactions.customerId, customerId), eq(transactions.id, id)));
      }
      if (input.items != null) {
        const current = await tx.select().from(transactionItems)
          .where(and(eq(transactionItems.customerId, customerId), eq(transactionItems.transactionId, id)))
          .orderBy(transactionItems.position);
        const same = current.length === items.length && current.every((c, i) => {
          const n = items[i]!;
          return c.sku === n.sku && c.productName === n.productName && c.category === n.category
            && c.quantity === n.quantity && toUnits(c.unitPrice) === toUnits(n.unitPrice);
        });
        if (!same) {
          await tx.delete(transactionItems).where(and(eq(transactionItems.customerId, customerId), eq(transactionItems.transactionId, id)));
          if (items.length) {
            await tx.insert(transactionItems).values(items.map((it, i) => ({ ...it, transactionId: id, customerId, position: i + 1 })));
          }
        }
      }
    }
    const [row] = await transactionsByIds(tx as unknown as Db, [id]);
    return { transaction: row ?? null, created, userErrors: [] };
  });
}
