import { eq } from 'drizzle-orm';
import type { Db } from '../../src/db/client';
import {
  consents, customerIdentities, customers, customerTagEvents, customerTags, interactions, tagDefinitions, transactionItems, transactions,
} from '../../src/db/schema/index';
import { decryptCustomer, encryptCustomerFields } from '../../src/modules/profile/profile.repository';
import { encryptInteractionTexts } from '../../src/modules/service/service.repository';

type CustomerInsert = typeof customers.$inferInsert;
type TxInsert = Partial<typeof transactions.$inferInsert>;
type IxInsert = Partial<typeof interactions.$inferInsert>;

let seq = 0;
const next = () => ++seq;

/**
 * Test data through the real tables: `await seed.customer({ firstName: 'Ada' }).withTransactions(3).create()`.
 * Every value not given is filled with something valid and unique.
 */
export function createSeeder(db: Db) {
  async function tagDefinition(key: string, opts: Partial<typeof tagDefinitions.$inferInsert> = {}) {
    const [existing] = await db.select().from(tagDefinitions).where(eq(tagDefinitions.key, key));
    if (existing) return existing;
    const [row] = await db.insert(tagDefinitions).values({
      key, name: opts.name ?? key, description: opts.description ?? `${key} (test)`, category: opts.category ?? 'CUSTOM', valueType: opts.valueType ?? 'BOOLEAN',
    }).returning();
    return row!;
  }

  function customer(overrides: Partial<CustomerInsert> = {}) {
    const n = next();
    const steps: ((id: string) => Promise<void>)[] = [];
    const builder = {
      withIdentity(source: string, externalId: string) {
        steps.push(async (id) => { await db.insert(customerIdentities).values({ customerId: id, source, externalId }); });
        return builder;
      },
      /** `count` completed orders of 10.00 USD each (unless overridden), one day apart, newest at `start`. */
      withTransactions(count: number, tx: TxInsert & { items?: { sku: string; quantity: number; unitPrice: string; category?: string }[] } = {}) {
        steps.push(async (id) => {
          if (count === 0) return;
          const start = tx.occurredAt ?? new Date('2025-06-01T12:00:00Z');
          const { items, ...header } = tx;
          const rows = await db.insert(transactions).values(Array.from({ length: count }, (_, i) => ({
            customerId: id, source: 'test', externalId: `TX-${next()}`, type: 'ORDER', status: 'COMPLETED', currency: 'USD',
            amount: '10.0000', amountBase: '10.0000', channel: 'online', ...header,
            occurredAt: new Date(start.getTime() - i * 86_400_000),
          }))).returning();
          await db.insert(transactionItems).values(rows.flatMap((row) => (items ?? [{ sku: `SKU-${row.externalId}`, quantity: 1, unitPrice: row.amount }])
            .map((l, pos) => ({
              transactionId: row.id, customerId: id, position: pos + 1, sku: l.sku, productName: `Product ${l.sku}`,
              category: l.category ?? 'general', quantity: l.quantity, unitPrice: l.unitPrice,
            }))));
        });
        return builder;
      },
      withInteractions(count: number, ix: IxInsert = {}) {
        steps.push(async (id) => {
          if (count === 0) return;
          const start = ix.occurredAt ?? new Date('2025-06-01T10:00:00Z');
          await db.insert(interactions).values(Array.from({ length: count }, (_, i) => encryptInteractionTexts({
            customerId: id, source: 'test', externalId: `IX-${next()}`, channel: 'EMAIL', type: 'TICKET', subject: 'Question',
            sentiment: 'NEUTRAL', status: 'RESOLVED', ...ix, occurredAt: new Date(start.getTime() - i * 86_400_000),
          })));
        });
        return builder;
      },
      withConsent(purpose: string, status: 'GRANTED' | 'DENIED' | 'WITHDRAWN', recordedAt = new Date('2025-01-01T00:00:00Z')) {
        steps.push(async (id) => { await db.insert(consents).values({ customerId: id, purpose, status, source: 'test', recordedAt }); });
        return builder;
      },
      withTag(key: string, value: string | null = null, opts: { category?: string; expiresAt?: Date | null; assignedAt?: Date } = {}) {
        steps.push(async (id) => {
          const def = await tagDefinition(key, { category: opts.category ?? 'CUSTOM', valueType: value === null ? 'BOOLEAN' : 'TEXT' });
          const assignedAt = opts.assignedAt ?? new Date('2025-05-01T00:00:00Z');
          await db.insert(customerTags).values({ customerId: id, tagId: def.id, value, source: 'MANUAL', actor: 'factory', assignedAt, expiresAt: opts.expiresAt ?? null });
          await db.insert(customerTagEvents).values({ customerId: id, tagId: def.id, action: 'ADDED', value, source: 'MANUAL', actor: 'factory', occurredAt: assignedAt });
        });
        return builder;
      },
      async create() {
        const firstName = overrides.firstName ?? `First${n}`;
        const lastName = overrides.lastName ?? `Last${n}`;
        const email = overrides.email === undefined ? `customer${n}@example.com` : overrides.email;
        // Written as the repository writes them: birth date and national id encrypted, birth month derived.
        const [stored] = await db.insert(customers).values(encryptCustomerFields({
          firstName, lastName, displayName: `${firstName} ${lastName}`, email, emailNormalized: email?.toLowerCase() ?? null,
          country: 'US', lifecycleStage: 'ACTIVE', gender: 'UNKNOWN', ...overrides,
        })).returning();
        const row = decryptCustomer(stored!);
        for (const step of steps) await step(row.id);
        return row;
      },
    };
    return builder;
  }

  return { customer, tagDefinition };
}
export type Seeder = ReturnType<typeof createSeeder>;
