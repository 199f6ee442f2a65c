import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transactionItems, transactions } from '../../../src/db/schema/index';
import { toGlobalId } from '../../../src/lib/global-id';
import { createSeeder, type Seeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

interface UserErrorShape { field: string[]; message: string; code: string }
interface Money { amount: string; currency: string }
interface TransactionShape {
  id: string; source: string; externalId: string; type: string; status: string; occurredAt: string;
  amount: Money; amountInBaseCurrency: Money; items: { sku: string; quantity: number; unitPrice: Money }[];
}
interface RecordData { recordTransaction: { created: boolean; transaction: TransactionShape | null; userErrors: UserErrorShape[] } }
interface CustomerData {
  customer: { transactions: { totalCount: number }; metrics: { orderCount: number; totalSpent: Money } };
}

const RECORD = `mutation Record($input: RecordTransactionInput!) {
  recordTransaction(input: $input) {
    created
    transaction { id source externalId type status occurredAt amount { amount currency } amountInBaseCurrency { amount currency }
      items { sku quantity unitPrice { amount currency } } }
    userErrors { field message code }
  }
}`;
const CUSTOMER = `query ($id: ID!) { customer(id: $id) {
  transactions { totalCount } metrics { orderCount totalSpent { amount currency } } } }`;

describe('recordTransaction', () => {
  let app: TestApp;
  let seed: Seeder;
  let n = 0;
  const nextId = () => `ORD-${++n}`;
  beforeAll(async () => {
    app = await startApp();
    seed = createSeeder(app.db.db);
  });
  afterAll(async () => { await app?.close(); });

  const newCustomer = async (externalId?: string) => {
    const builder = seed.customer();
    if (externalId) builder.withIdentity('shop', externalId);
    const row = await builder.create();
    return { row, gid: toGlobalId('Customer', row.id) };
  };
  const record = (input: Record<string, unknown>) => app.gql<RecordData>(RECORD, { input });
  const payload = (res: Awaited<ReturnType<typeof record>>) => {
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.recordTransaction;
  };
  const counts = async () => ({ transactions: await app.db.db.$count(transactions), items: await app.db.db.$count(transactionItems) });
  const base = (customer: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    source: 'shop', externalId: nextId(), customer, occurredAt: '2025-05-01T10:00:00Z', type: 'ORDER', currency: 'USD', amount: '10.00', ...extra,
  });

  it('records a transaction for a customer given by global id', async () => {
    const { gid } = await newCustomer();
    const input = base({ id: gid }, { amount: '12.5', status: 'PENDING' });
    const p = payload(await record(input));
    expect(p.userErrors).toEqual([]);
    expect(p.created).toBe(true);
    expect(p.transaction).toMatchObject({
      source: 'shop', externalId: input.externalId, type: 'ORDER', status: 'PENDING', occurredAt: '2025-05-01T10:00:00.000Z',
      amount: { amount: '12.5000', currency: 'USD' }, amountInBaseCurrency: { amount: '12.5000', currency: 'USD' }, items: [],
    });
  });

  it('records a transaction for a customer given by source and externalId', async () => {
    const { gid } = await newCustomer('SHOP-CUST-1');
    const p = payload(await record(base({ source: 'shop', externalId: 'SHOP-CUST-1' })));
    expect(p.userErrors).toEqual([]);
    expect(p.created).toBe(true);
    const res = await app.gql<CustomerData>(CUSTOMER, { id: gid });
    expect(res.body.data?.customer.transactions.totalCount).toBe(1);
  });

  it('defaults the amount to the sum of the items', async () => {
    const { gid } = await newCustomer();
    const p = payload(await record(base({ id: gid }, {
      amount: null,
      items: [
        { sku: 'MUG', productName: 'Mug', quantity: 2, unitPrice: '19.99' },
        { sku: 'TEA', productName: 'Tea', category: 'food', quantity: 1, unitPrice: '5.5' },
      ],
    })));
    expect(p.userErrors).toEqual([]);
    expect(p.transaction?.amount).toEqual({ amount: '45.4800', currency: 'USD' });
    expect(p.transaction?.items).toEqual([
      { sku: 'MUG', quantity: 2, unitPrice: { amount: '19.9900', currency: 'USD' } },
      { sku: 'TEA', quantity: 1, unitPrice: { amount: '5.5000', currency: 'USD' } },
    ]);
  });

  it('converts the amount to the base currency with the reference rate', async () => {
    const { gid } = await newCustomer();
    const p = payload(await record(base({ id: gid }, { currency: 'eur', amount: '100' })));
    expect(p.userErrors).toEqual([]);
    expect(p.transaction?.amount).toEqual({ amount: '100.0000', currency: 'EUR' });
    expect(p.transaction?.amountInBaseCurrency).toEqual({ amount: '108.5000', currency: 'USD' });
  });

  it('is idempotent: the same input again changes nothing', async () => {
    const { gid } = await newCustomer();
    const input = base({ id: gid }, { amount: null, items: [{ sku: 'A', productName: 'A', quantity: 1, unitPrice: '3' }, { sku: 'B', productName: 'B', quantity: 2, unitPrice: '4' }] });
    const first = payload(await record(input));
    const before = await counts();
    const second = payload(await record(input));
    expect(second.userErrors).toEqual([]);
    expect(second.created).toBe(false);
    expect(second.transaction?.id).toBe(first.transaction?.id);
    expect(second.transaction?.items).toHaveLength(2);
    expect(await counts()).toEqual(before);
  });

  it('updates the stored transaction when a repeat changes the status', async () => {
    const { gid } = await newCustomer();
    const input = base({ id: gid }, { status: 'PENDING' });
    const first = payload(await record(input));
    const before = await counts();
    const second = payload(await record({ ...input, status: 'CANCELLED' }));
    expect(second.created).toBe(false);
    expect(second.transaction).toMatchObject({ id: first.transaction?.id, status: 'CANCELLED' });
    expect(await counts()).toEqual(before);
  });

  it('replaces the lines when a repeat changes the items', async () => {
    const { gid } = await newCustomer();
    const input = base({ id: gid }, { amount: null, items: [{ sku: 'A', productName: 'A', quantity: 1, unitPrice: '3' }] });
    payload(await record(input));
    const second = payload(await record({ ...input, items: [{ sku: 'B', productName: 'B', quantity: 3, unitPrice: '2' }] }));
    expect(second.transaction?.items).toEqual([{ sku: 'B', quantity: 3, unitPrice: { amount: '2.0000', currency: 'USD' } }]);
    expect(second.transaction?.amount.amount).toBe('6.0000');
  });

  it('returns a CONFLICT userError when the same source id is recorded for another customer', async () => {
    const a = await newCustomer();
    const b = await newCustomer();
    const input = base({ id: a.gid });
    payload(await record(input));
    const before = await counts();
    const p = payload(await record({ ...input, customer: { id: b.gid } }));
    expect(p.transaction).toBeNull();
    expect(p.userErrors).toEqual([{ field: ['input', 'externalId'], message: expect.any(String), code: 'CONFLICT' }]);
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['an unknown currency', { currency: 'XYZ' }, ['input', 'currency'], 'BAD_USER_INPUT'],
    ['a malformed currency', { currency: 'EURO' }, ['input', 'currency'], 'BAD_USER_INPUT'],
    ['neither amount nor items', { amount: null }, ['input', 'amount'], 'BAD_USER_INPUT'],
    ['a zero amount', { amount: '0' }, ['input', 'amount'], 'BAD_USER_INPUT'],
    ['a negative quantity', { items: [{ sku: 'A', productName: 'A', quantity: -1, unitPrice: '3' }] }, ['input', 'items', '0', 'quantity'], 'BAD_USER_INPUT'],
    ['an occurredAt far in the future', { occurredAt: '2999-01-01T00:00:00Z' }, ['input', 'occurredAt'], 'BAD_USER_INPUT'],
    ['a bad source', { source: 'has space' }, ['input', 'source'], 'BAD_USER_INPUT'],
  ])('returns userErrors and writes nothing for %s', async (_label, fields, path, code) => {
    const { gid } = await newCustomer();
    const before = await counts();
    const p = payload(await record(base({ id: gid }, fields)));
    expect(p.created).toBe(false);
    expect(p.transaction).toBeNull();
    expect(p.userErrors).toEqual([{ field: path, message: expect.any(String), code }]);
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['global id', () => ({ id: toGlobalId('Customer', '00000000-0000-4000-8000-000000000000') }), ['input', 'customer', 'id']],
    ['source and externalId', () => ({ source: 'shop', externalId: 'NOBODY' }), ['input', 'customer']],
  ])('returns a NOT_FOUND userError and writes nothing for an unknown customer by %s', async (_label, ref, path) => {
    const before = await counts();
    const p = payload(await record(base(ref(), { amount: null, items: [{ sku: 'A', productName: 'A', quantity: 1, unitPrice: '3' }] })));
    expect(p.transaction).toBeNull();
    expect(p.userErrors).toEqual([{ field: path, message: expect.any(String), code: 'NOT_FOUND' }]);
    expect(await counts()).toEqual(before);
  });

  it('returns a BAD_USER_INPUT userError for a customer reference with both id and externalId', async () => {
    const { gid } = await newCustomer();
    const p = payload(await record(base({ id: gid, source: 'shop', externalId: 'X' })));
    expect(p.userErrors).toEqual([{ field: ['input', 'customer'], message: expect.any(String), code: 'BAD_USER_INPUT' }]);
  });

  it('shows new transactions in the customer transactions and metrics, and a refund lowers totalSpent', async () => {
    const { gid } = await newCustomer();
    payload(await record(base({ id: gid }, { amount: '100' })));
    payload(await record(base({ id: gid }, { currency: 'EUR', amount: '100', occurredAt: '2025-05-02T10:00:00Z' })));
    let res = await app.gql<CustomerData>(CUSTOMER, { id: gid });
    expect(res.body.data?.customer).toEqual({
      transactions: { totalCount: 2 }, metrics: { orderCount: 2, totalSpent: { amount: '208.5000', currency: 'USD' } },
    });

    payload(await record(base({ id: gid }, { type: 'REFUND', amount: '30', occurredAt: '2025-05-03T10:00:00Z' })));
    res = await app.gql<CustomerData>(CUSTOMER, { id: gid });
    expect(res.body.data?.customer).toEqual({
      transactions: { totalCount: 3 }, metrics: { orderCount: 2, totalSpent: { amount: '178.5000', currency: 'USD' } },
    });
  });

  it('leaves cancelled and pending orders out of the metrics', async () => {
    const { gid } = await newCustomer();
    payload(await record(base({ id: gid }, { amount: '50', status: 'CANCELLED' })));
    payload(await record(base({ id: gid }, { amount: '70', status: 'PENDING' })));
    const res = await app.gql<CustomerData>(CUSTOMER, { id: gid });
    expect(res.body.data?.customer).toEqual({
      transactions: { totalCount: 2 }, metrics: { orderCount: 0, totalSpent: { amount: '0.0000', currency: 'USD' } },
    });
  });
});
