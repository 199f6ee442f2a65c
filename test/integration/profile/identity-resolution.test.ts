import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../helpers/app';

/**
 * upsertCustomer resolves identities with the import's rules (issue 19, point 10): a record of one
 * source with the email or phone of a customer from another source is that customer, unless the value
 * is a blocked placeholder or the rule is not in INGEST_MATCH_RULES; the payload says how it matched.
 */
interface Payload {
  upsertCustomer: {
    created: boolean; matchedBy: string | null;
    customer: { id: string; email: string | null; phone: string | null; externalIds: { source: string; externalId: string }[] } | null;
    userErrors: { field: string[]; message: string }[];
  };
}
const UPSERT = `mutation($input: UpsertCustomerInput!) { upsertCustomer(input: $input) {
  created matchedBy customer { id email phone externalIds { source externalId } } userErrors { field message } } }`;

const write = async (app: TestApp, input: Record<string, unknown>) => {
  const res = await app.gql<Payload>(UPSERT, { input });
  expect(res.status).toBe(200);
  expect(res.body.errors).toBeUndefined();
  return res.body.data!.upsertCustomer;
};
const count = async (app: TestApp) => (await app.gql<{ customers: { totalCount: number } }>('{ customers { totalCount } }')).body.data!.customers.totalCount;

describe('upsertCustomer with the default match rules (external_id,email,phone)', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app?.close(); });

  it('a shop record with the email of a CRM customer is that customer: matchedBy EMAIL, a second identity, no new customer', async () => {
    const crm = await write(app, { source: 'crm', externalId: 'C-1', firstName: 'Ada', email: 'Ada@Example.com' });
    expect(crm).toMatchObject({ created: true, matchedBy: 'NONE' });
    const before = await count(app);
    const shop = await write(app, { source: 'shop', externalId: 'S-77', email: 'ada@example.COM', phone: '+44 20 7946 0958' });
    expect(shop).toMatchObject({ created: false, matchedBy: 'EMAIL', userErrors: [] });
    expect(shop.customer!.id).toBe(crm.customer!.id);
    expect(shop.customer!.externalIds).toEqual(expect.arrayContaining([{ source: 'crm', externalId: 'C-1' }, { source: 'shop', externalId: 'S-77' }]));
    expect(shop.customer!.phone).toBe('+442079460958');
    expect(await count(app)).toBe(before);
    // The shop's id now names that customer: the next write by it is an EXTERNAL_ID match.
    expect(await write(app, { source: 'shop', externalId: 'S-77', firstName: 'Ada' })).toMatchObject({ matchedBy: 'EXTERNAL_ID', customer: { id: crm.customer!.id } });
  });

  it('matches by phone in any format (E.164 after normalization)', async () => {
    const crm = await write(app, { source: 'crm', externalId: 'C-2', phone: '+1 415 555 0132' });
    const pos = await write(app, { source: 'pos', externalId: 'P-9', phone: '(415) 555-0132', firstName: 'Grace' });
    expect(pos).toMatchObject({ created: false, matchedBy: 'PHONE' });
    expect(pos.customer!.id).toBe(crm.customer!.id);
  });

  it('never matches by a blocked placeholder value (INGEST_BLOCKED_VALUES): a new customer', async () => {
    const a = await write(app, { source: 'crm', externalId: 'C-3', email: 'test@test.com' });
    const b = await write(app, { source: 'shop', externalId: 'S-3', email: 'test@test.com' });
    expect(a).toMatchObject({ created: true, matchedBy: 'NONE' });
    expect(b).toMatchObject({ created: true, matchedBy: 'NONE' });
    expect(b.customer!.id).not.toBe(a.customer!.id);
  });

  it('the source key decides when it exists, whatever the email says', async () => {
    const other = await write(app, { source: 'crm', externalId: 'C-4', email: 'linus@example.com' });
    const own = await write(app, { source: 'crm', externalId: 'C-5', email: 'ken@example.com' });
    const again = await write(app, { source: 'crm', externalId: 'C-5', email: 'linus@example.com' });
    expect(again).toMatchObject({ matchedBy: 'EXTERNAL_ID', customer: { id: own.customer!.id, email: 'linus@example.com' } });
    expect(again.customer!.id).not.toBe(other.customer!.id);
  });

  it('matchedBy is null when the input is refused', async () => {
    expect(await write(app, { source: 'shop', externalId: 'S-bad', email: 'user@.example.com' })).toMatchObject({ matchedBy: null, customer: null });
  });
});

describe('upsertCustomer follows INGEST_MATCH_RULES', () => {
  it('with external_id only, an email of another source\'s customer does not match', async () => {
    const app = await startApp({ INGEST_MATCH_RULES: 'external_id' });
    try {
      const a = await write(app, { source: 'crm', externalId: 'C-1', email: 'ada@example.com' });
      const b = await write(app, { source: 'shop', externalId: 'S-1', email: 'ada@example.com' });
      expect(b).toMatchObject({ created: true, matchedBy: 'NONE' });
      expect(b.customer!.id).not.toBe(a.customer!.id);
    } finally {
      await app.close();
    }
  });

  it('in their order: with phone before email, the phone\'s customer wins over the email\'s', async () => {
    const app = await startApp({ INGEST_MATCH_RULES: 'external_id,phone,email' });
    try {
      const byEmail = await write(app, { source: 'crm', externalId: 'C-1', email: 'ada@example.com' });
      const byPhone = await write(app, { source: 'crm', externalId: 'C-2', phone: '+14155550132' });
      const shop = await write(app, { source: 'shop', externalId: 'S-1', email: 'ada@example.com', phone: '+14155550132' });
      expect(shop).toMatchObject({ matchedBy: 'PHONE', customer: { id: byPhone.customer!.id } });
      expect(shop.customer!.id).not.toBe(byEmail.customer!.id);
    } finally {
      await app.close();
    }
  });
});
