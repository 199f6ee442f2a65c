import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/lib/global-id';
import { createSeeder } from '../factories/index';
import { startApp, type TestApp } from '../helpers/app';

interface Entry { actorKind: string; actorId: string; role: string; action: string; fields: string[]; operationName: string | null; requestId: string }
const LOG = 'query($id: ID!) { auditLog(customerId: $id) { actorKind actorId role action fields operationName requestId } }';

describe('audit of personal data', () => {
  let app: TestApp;
  let id: string;
  const log = async () => {
    await app.server.flushAudit();
    const res = await app.gql<{ auditLog: Entry[] }>(`query AuditCheck($id: ID!) { auditLog(customerId: $id) { actorKind actorId role action fields operationName requestId } }`, { id });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.auditLog;
  };

  beforeAll(async () => {
    app = await startApp();
    const c = await createSeeder(app.db.db).customer({ email: 'audit.me@example.com', emailNormalized: 'audit.me@example.com', phone: '+14155550111', phoneE164: '+14155550111' })
      .withConsent('partner_sharing', 'GRANTED').create();
    id = toGlobalId('Customer', c.id);
  });
  afterAll(async () => { await app?.close(); });

  it('records who read which personal-data fields, with operation name and request id', async () => {
    const res = await app.gql('query AgentView($id: ID!) { customer(id: $id) { email phone lifecycleStage } }', { id }, { role: 'AGENT' });
    expect(res.body.errors).toBeUndefined();
    const entries = await log();
    expect(entries).toContainEqual({
      actorKind: 'USER', actorId: 'test-agent', role: 'AGENT', action: 'READ', fields: ['Customer.email', 'Customer.phone'],
      operationName: 'AgentView', requestId: res.headers.get('x-request-id'),
    });
  });

  it('records masked reads too, but not fields the policy nulls or non-personal fields', async () => {
    await app.gql('query MarketerView($id: ID!) { customer(id: $id) { email } }', { id }, { role: 'MARKETER' });
    await app.gql('query AnalystView($id: ID!) { customer(id: $id) { firstName lifecycleStage } }', { id }, { role: 'ANALYST' });
    const entries = await log();
    expect(entries.filter((e) => e.operationName === 'MarketerView').map((e) => e.fields)).toEqual([['Customer.email']]);
    expect(entries.filter((e) => e.operationName === 'AnalystView')).toEqual([]);
  });

  it('records writes and admin actions with the customer', async () => {
    await app.gql(`mutation Consent($id: ID!) { recordConsent(input: { customerId: $id, purpose: "profiling", status: GRANTED, source: "test" }) { userErrors { message } } }`, { id });
    await app.gql('query Export($id: ID!) { exportCustomerData(id: $id) { generatedAt } }', { id });
    const entries = await log();
    expect(entries).toContainEqual(expect.objectContaining({ action: 'WRITE', fields: ['recordConsent'], operationName: 'Consent', role: 'ADMIN' }));
    expect(entries).toContainEqual(expect.objectContaining({ action: 'ADMIN', fields: ['exportCustomerData'], operationName: 'Export' }));
  });

  it('records partner reads under the key, and shows the access log in the export', async () => {
    const key = (await app.gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
      'mutation { createApiKey(input: { name: "auditor", scopes: ["customers:read"], fieldAllowList: ["Customer.email"], purpose: "partner_sharing" }) { secret apiKey { id } } }')).body.data!.createApiKey;
    await app.gql('query PartnerView($id: ID!) { customer(id: $id) { email } }', { id }, { authorization: `Bearer ${key.secret}` });
    const entries = await log();
    expect(entries).toContainEqual(expect.objectContaining({ actorKind: 'API_KEY', role: 'PARTNER', fields: ['Customer.email'], operationName: 'PartnerView' }));
    const exported = await app.gql<{ exportCustomerData: { data: { accessLog: unknown[] } } }>('query($id: ID!) { exportCustomerData(id: $id) { data } }', { id });
    expect(exported.body.data!.exportCustomerData.data.accessLog.length).toBeGreaterThanOrEqual(entries.length - 1);
  });

  it('is readable by ADMIN only', async () => {
    const res = await app.gql(LOG, { id }, { role: 'AGENT' });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
