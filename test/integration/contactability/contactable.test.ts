import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../../src/lib/global-id';
import { createSeeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

/**
 * `Customer.contactable(channel)`: a whole domain in one folder (src/modules/contactability) plus one
 * registry line; the test goes through the real HTTP server like every client.
 */
describe('contactability (a domain added with one folder and one registry line)', () => {
  let app: TestApp;
  let both: string;
  let withdrawn: string;
  let noPhone: string;
  const Q = 'query($id: ID!) { customer(id: $id) { displayName email: contactable(channel: EMAIL) sms: contactable(channel: SMS) } }';
  type Answer = { customer: { displayName: string; email: boolean | null; sms: boolean | null } | null };

  beforeAll(async () => {
    app = await startApp();
    const seed = createSeeder(app.db.db);
    const a = await seed.customer({ firstName: 'Ana', email: 'ana@example.com', emailNormalized: 'ana@example.com', phone: '+14155550111', phoneE164: '+14155550111' })
      .withConsent('marketing_email', 'GRANTED').withConsent('marketing_sms', 'GRANTED').create();
    const b = await seed.customer({ firstName: 'Ben', email: 'ben@example.com', emailNormalized: 'ben@example.com', phone: '+14155550112', phoneE164: '+14155550112' })
      .withConsent('marketing_email', 'GRANTED', new Date('2024-01-01T00:00:00Z')).withConsent('marketing_email', 'WITHDRAWN', new Date('2025-01-01T00:00:00Z'))
      .withConsent('marketing_sms', 'DENIED').create();
    const c = await seed.customer({ firstName: 'Cai', email: 'cai@example.com', emailNormalized: 'cai@example.com' })
      .withConsent('marketing_email', 'GRANTED').withConsent('marketing_sms', 'GRANTED').create();
    both = toGlobalId('Customer', a.id);
    withdrawn = toGlobalId('Customer', b.id);
    noPhone = toGlobalId('Customer', c.id);
  });
  afterAll(async () => { await app?.close(); });

  it('is true only with a contact value on file and a current GRANTED consent for the channel', async () => {
    const answers = await Promise.all([both, withdrawn, noPhone].map((id) => app.gql<Answer>(Q, { id }, { role: 'MARKETER' })));
    for (const res of answers) expect(res.body.errors).toBeUndefined();
    expect(answers.map((r) => r.body.data!.customer)).toEqual([
      { displayName: expect.any(String), email: true, sms: true },
      { displayName: expect.any(String), email: false, sms: false },
      { displayName: expect.any(String), email: true, sms: false },
    ]);
  });

  it('needs consents:read for API keys: FORBIDDEN at its path, the rest of the customer intact', async () => {
    const created = await app.gql<{ createApiKey: { secret: string; userErrors: unknown[] } }>(
      'mutation { createApiKey(input: { name: "no consents", scopes: ["customers:read"], purpose: "marketing_email" }) { secret userErrors { field message } } }');
    expect(created.body.errors).toBeUndefined();
    expect(created.body.data!.createApiKey.userErrors).toEqual([]);
    const res = await app.gql<Answer>(Q, { id: both }, { authorization: `Bearer ${created.body.data!.createApiKey.secret}` });
    expect(res.body.data!.customer).toEqual({ displayName: expect.any(String), email: null, sms: null });
    expect(res.body.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['customer.email', 'FORBIDDEN'], ['customer.sms', 'FORBIDDEN']]);
  });
});
