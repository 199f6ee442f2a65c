import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRows } from '../../src/db/client';
import { toGlobalId } from '../../src/lib/global-id';
import { createSeeder } from '../factories/index';
import { startApp, type TestApp } from '../helpers/app';

/** Everything that identifies the person; none of it may remain anywhere after erasure. */
const IDENTIFIERS = ['zed.erasable@example.com', 'Zed', 'Erasable', '4155550177', 'CRM-ERASE-1', 'SHOP-ERASE-1', '77 Forget Street', '94999', 'ORD-ERASE-', 'IXE-', 'privacy-sensitive words'];

describe('GDPR export and erasure', () => {
  let app: TestApp;
  let zed: string;
  let zedId: string;
  let other: string;

  beforeAll(async () => {
    app = await startApp();
    const seed = createSeeder(app.db.db);
    const z = await seed.customer({
      firstName: 'Zed', lastName: 'Erasable', email: 'zed.erasable@example.com', emailNormalized: 'zed.erasable@example.com',
      phone: '+14155550177', phoneE164: '+14155550177', birthDate: '1980-02-02', addressLine1: '77 Forget Street', postalCode: '94999', city: 'Oakland', country: 'US',
    }).withIdentity('crm', 'CRM-ERASE-1').withIdentity('shop', 'SHOP-ERASE-1').withConsent('marketing_email', 'GRANTED')
      .withTag('vip').withTag('note', 'Zed likes jazz').withTransactions(3).create();
    zedId = z.id;
    zed = toGlobalId('Customer', z.id);
    // Transactions and interactions with identifying source ids and free text.
    await app.db.db.execute(sql`UPDATE transactions SET external_id = 'ORD-ERASE-' || external_id WHERE customer_id = ${z.id}::uuid`);
    await app.db.db.execute(sql`INSERT INTO interactions (customer_id, source, external_id, channel, type, subject, summary, agent, occurred_at)
      VALUES (${z.id}::uuid, 'helpdesk', 'IXE-1', 'PHONE', 'TICKET', 'Zed Erasable called', 'privacy-sensitive words from zed.erasable@example.com', 'Agent Smith', now())`);
    const o = await seed.customer({ firstName: 'Olga', email: 'olga@example.com', emailNormalized: 'olga@example.com' }).withIdentity('crm', 'CRM-KEEP').withTransactions(1).create();
    other = toGlobalId('Customer', o.id);
  });
  afterAll(async () => { await app?.close(); });

  it('exports everything held about the customer', async () => {
    const res = await app.gql<{ exportCustomerData: { data: Record<string, unknown[] | Record<string, unknown>> } }>(
      'query($id: ID!) { exportCustomerData(id: $id) { generatedAt data } }', { id: zed });
    expect(res.body.errors).toBeUndefined();
    const d = res.body.data!.exportCustomerData.data;
    expect(d.profile).toMatchObject({ email: 'zed.erasable@example.com', first_name: 'Zed', address_line1: '77 Forget Street' });
    expect(d.identities).toHaveLength(2);
    expect(d.consentHistory).toHaveLength(1);
    expect(d.tags).toHaveLength(2);
    expect(d.tagHistory).toHaveLength(2);
    expect(d.transactions).toHaveLength(3);
    expect((d.transactions as { items: unknown[] }[])[0]!.items).toHaveLength(1);
    expect(d.interactions).toHaveLength(1);
    expect(JSON.stringify(d)).not.toContain('Olga');
  });

  it('is for ADMIN only', async () => {
    const res = await app.gql('query($id: ID!) { exportCustomerData(id: $id) { generatedAt } }', { id: zed }, { role: 'AGENT' });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const erase = await app.gql('mutation($id: ID!) { eraseCustomer(input: { customerId: $id, reason: "x" }) { erased } }', { id: zed }, { role: 'MARKETER' });
    expect(erase.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('erases personal data from every text column of every table, in one go', async () => {
    const ordersBefore = await execRows<{ n: number }>(app.db.db, sql`SELECT count(*)::int AS n FROM transactions WHERE customer_id = ${zedId}::uuid`);
    const res = await app.gql<{ eraseCustomer: { erased: boolean; userErrors: unknown[] } }>(
      'mutation($id: ID!) { eraseCustomer(input: { customerId: $id, reason: "DSR-2025-001" }) { erased userErrors { message } } }', { id: zed });
    expect(res.body.data!.eraseCustomer).toEqual({ erased: true, userErrors: [] });

    const columns = await execRows<{ table_schema: string; table_name: string; column_name: string }>(app.db.db, sql`
      SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c
      JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
        AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED'))`);
    expect(columns.length).toBeGreaterThan(20);
    const hits: string[] = [];
    for (const col of columns) {
      const ident = sql.raw(`"${col.table_schema}"."${col.table_name}"`);
      const column = sql.raw(`"${col.column_name}"`);
      for (const needle of IDENTIFIERS) {
        const [row] = await execRows<{ n: number }>(app.db.db, sql`SELECT count(*)::int AS n FROM ${ident} WHERE ${column}::text ILIKE ${`%${needle}%`}`);
        if (row!.n > 0) hits.push(`${col.table_name}.${col.column_name} contains ${needle}`);
      }
    }
    expect(hits).toEqual([]);

    // Anonymized transactions stay countable; the other customer is untouched.
    const ordersAfter = await execRows<{ n: number }>(app.db.db, sql`SELECT count(*)::int AS n FROM transactions WHERE customer_id = ${zedId}::uuid`);
    expect(ordersAfter[0]!.n).toBe(ordersBefore[0]!.n);
    const olga = await app.gql<{ customer: { displayName: string; externalIds: { externalId: string }[] } }>('query($id: ID!) { customer(id: $id) { displayName externalIds { externalId } } }', { id: other });
    expect(olga.body.data!.customer).toEqual({ displayName: expect.stringContaining('Olga'), externalIds: [{ externalId: 'CRM-KEEP' }] });
  });

  it('is idempotent and blocks silent re-creation by identity, email or phone', async () => {
    const again = await app.gql<{ eraseCustomer: { erased: boolean } }>('mutation($id: ID!) { eraseCustomer(input: { customerId: $id, reason: "again" }) { erased } }', { id: zed });
    expect(again.body.data!.eraseCustomer.erased).toBe(false);
    const UPSERT = 'mutation($i: UpsertCustomerInput!) { upsertCustomer(input: $i) { created userErrors { code } } }';
    for (const input of [
      { source: 'crm', externalId: 'CRM-ERASE-1', firstName: 'Zed' },
      { source: 'newsletter', externalId: 'N-1', email: 'ZED.erasable@example.com' },
      { source: 'pos', externalId: 'P-1', phone: '(415) 555-0177' },
    ]) {
      const res = await app.gql<{ upsertCustomer: { created: boolean; userErrors: { code: string }[] } }>(UPSERT, { i: input });
      expect(res.body.data!.upsertCustomer).toEqual({ created: false, userErrors: [{ code: 'CONFLICT' }] });
    }
    const fine = await app.gql<{ upsertCustomer: { created: boolean } }>(UPSERT, { i: { source: 'crm', externalId: 'CRM-NEW', email: 'someone.else@example.com' } });
    expect(fine.body.data!.upsertCustomer.created).toBe(true);
  });
});

describe('consent recording', () => {
  let app: TestApp;
  let id: string;
  beforeAll(async () => {
    app = await startApp();
    id = toGlobalId('Customer', (await createSeeder(app.db.db).customer().create()).id);
  });
  afterAll(async () => { await app?.close(); });

  const RECORD = 'mutation($i: RecordConsentInput!) { recordConsent(input: $i) { customer { consents { purpose status source } } userErrors { field code } } }';

  it('appends decisions; the latest per purpose is current, the history keeps all', async () => {
    await app.gql(RECORD, { i: { customerId: id, purpose: 'marketing_sms', status: 'GRANTED', source: 'web_form', recordedAt: '2025-01-01T00:00:00Z' } });
    const res = await app.gql<{ recordConsent: { customer: { consents: unknown[] } } }>(RECORD, { i: { customerId: id, purpose: 'marketing_sms', status: 'WITHDRAWN', source: 'call_center', recordedAt: '2025-03-01T00:00:00Z' } });
    expect(res.body.data!.recordConsent.customer.consents).toEqual([{ purpose: 'marketing_sms', status: 'WITHDRAWN', source: 'call_center' }]);
    const history = await app.gql<{ customer: { consentHistory: { status: string; recordedAt: string }[] } }>(
      'query($id: ID!) { customer(id: $id) { consentHistory(purpose: "marketing_sms") { status recordedAt } } }', { id });
    expect(history.body.data!.customer.consentHistory).toEqual([
      { status: 'WITHDRAWN', recordedAt: '2025-03-01T00:00:00.000Z' }, { status: 'GRANTED', recordedAt: '2025-01-01T00:00:00.000Z' },
    ]);
  });

  it('validates purpose, source, time and customer', async () => {
    const res = await app.gql<{ recordConsent: { userErrors: { field: string[]; code: string }[] } }>(RECORD, { i: { customerId: id, purpose: 'Marketing Email', status: 'GRANTED', source: ' ', recordedAt: '2999-01-01T00:00:00Z' } });
    expect(res.body.data!.recordConsent.userErrors.map((e) => e.field.join('.'))).toEqual(['input.purpose', 'input.source', 'input.recordedAt']);
    const missing = await app.gql<{ recordConsent: { userErrors: { code: string }[] } }>(RECORD, { i: { customerId: toGlobalId('Customer', '00000000-0000-4000-8000-000000000000'), purpose: 'profiling', status: 'GRANTED', source: 'x' } });
    expect(missing.body.data!.recordConsent.userErrors).toEqual([{ field: ['input', 'customerId'], code: 'NOT_FOUND' }]);
  });
});
