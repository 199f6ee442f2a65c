import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerIdentities, customers } from '../../../src/db/schema/index';
import { toGlobalId } from '../../../src/lib/global-id';
import { startApp, type TestApp } from '../../helpers/app';

interface UserErrorShape { field: string[]; message: string; code: string }
interface CustomerShape {
  id: string; displayName: string; firstName: string | null; lastName: string | null; email: string | null; phone: string | null;
  birthDate: string | null; gender: string | null; createdAt: string; updatedAt: string;
  address: { city: string | null; country: string | null } | null; externalIds: { source: string; externalId: string }[];
}
interface UpsertData { upsertCustomer: { created: boolean; customer: CustomerShape | null; userErrors: UserErrorShape[] } }

const UPSERT = `mutation Upsert($input: UpsertCustomerInput!) {
  upsertCustomer(input: $input) {
    created
    customer { id displayName firstName lastName email phone birthDate gender createdAt updatedAt address { city country } externalIds { source externalId } }
    userErrors { field message code }
  }
}`;

describe('upsertCustomer', () => {
  let app: TestApp;
  let n = 0;
  const externalId = () => `CRM-${++n}`;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app?.close(); });

  const upsert = (input: Record<string, unknown>) => app.gql<UpsertData>(UPSERT, { input });
  const counts = async () => ({ customers: await app.db.db.$count(customers), identities: await app.db.db.$count(customerIdentities) });
  const payload = (res: Awaited<ReturnType<typeof upsert>>) => {
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.upsertCustomer;
  };

  it('creates a customer and returns normalized data', async () => {
    const id = externalId();
    const p = payload(await upsert({
      source: 'crm', externalId: id, firstName: '  Ada ', lastName: 'Lovelace', email: 'Ada.Lovelace@Example.com',
      phone: '(415) 555-0132', birthDate: '1985-12-10', gender: 'FEMALE', address: { city: 'London', country: 'gb' },
    }));
    expect(p.userErrors).toEqual([]);
    expect(p.created).toBe(true);
    expect(p.customer).toMatchObject({
      displayName: 'Ada Lovelace', firstName: 'Ada', lastName: 'Lovelace', email: 'Ada.Lovelace@Example.com', phone: '+14155550132',
      birthDate: '1985-12-10', gender: 'FEMALE', address: { city: 'London', country: 'GB' }, externalIds: [{ source: 'crm', externalId: id }],
    });
  });

  it('stores an international phone number in E.164 regardless of the default region', async () => {
    const p = payload(await upsert({ source: 'crm', externalId: externalId(), phone: '+44 20 7946 0958', birthDate: '1990-02-03' }));
    expect(p.userErrors).toEqual([]);
    expect(p.customer).toMatchObject({ phone: '+442079460958', birthDate: '1990-02-03' });
  });

  it('is idempotent: the same input again returns the same customer unchanged and writes no new rows', async () => {
    const input = { source: 'crm', externalId: externalId(), firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com', phone: '(415) 555-0132' };
    const first = payload(await upsert(input));
    const before = await counts();
    const second = payload(await upsert(input));
    expect(second.userErrors).toEqual([]);
    expect(second.created).toBe(false);
    expect(second.customer?.id).toBe(first.customer?.id);
    expect(second.customer?.updatedAt).toBe(first.customer?.updatedAt);
    expect(await counts()).toEqual(before);
  });

  it('keeps exactly one customer and one identity row for a source record upserted twice', async () => {
    const id = externalId();
    const before = await counts();
    await upsert({ source: 'crm', externalId: id, firstName: 'Once' });
    await upsert({ source: 'crm', externalId: id, firstName: 'Once' });
    expect(await counts()).toEqual({ customers: before.customers + 1, identities: before.identities + 1 });
  });

  it('updates a changed field and keeps fields left out', async () => {
    const id = externalId();
    const first = payload(await upsert({ source: 'crm', externalId: id, firstName: 'Alan', lastName: 'Turing', email: 'alan@example.com', phone: '+44 20 7946 0958' }));
    const second = payload(await upsert({ source: 'crm', externalId: id, email: 'alan.turing@example.com' }));
    expect(second.created).toBe(false);
    expect(second.customer).toMatchObject({
      id: first.customer?.id, firstName: 'Alan', lastName: 'Turing', email: 'alan.turing@example.com', phone: '+442079460958',
    });
    expect(Date.parse(second.customer!.updatedAt)).toBeGreaterThan(Date.parse(first.customer!.updatedAt));
    expect(second.customer?.createdAt).toBe(first.customer?.createdAt);
  });

  it('derives the display name again when the name changes', async () => {
    const id = externalId();
    await upsert({ source: 'crm', externalId: id, firstName: 'Ada', lastName: 'Byron' });
    const p = payload(await upsert({ source: 'crm', externalId: id, lastName: 'Lovelace' }));
    expect(p.customer?.displayName).toBe('Ada Lovelace');
  });

  it.each([
    ['an invalid email', { email: 'not-an-email' }, ['input', 'email']],
    ['an email whose domain starts with a dot', { email: 'user@.example.com' }, ['input', 'email']],
    ['an email with an empty domain label', { email: 'user@example..com' }, ['input', 'email']],
    ['an email whose domain label ends with a hyphen', { email: 'user@example-.com' }, ['input', 'email']],
    ['an email with a space in the domain', { email: 'user@exa mple.com' }, ['input', 'email']],
    ['an invalid phone', { phone: '12345' }, ['input', 'phone']],
    ['a birthDate in the future', { birthDate: '2999-01-01' }, ['input', 'birthDate']],
    ['a birthDate before 1900', { birthDate: '1815-12-10' }, ['input', 'birthDate']],
    ['an unknown country', { address: { city: 'Nowhere', country: 'XX' } }, ['input', 'address', 'country']],
    ['a source with a space', { source: 'has space' }, ['input', 'source']],
    ['a blank externalId', { externalId: '   ' }, ['input', 'externalId']],
    ['an externalId with a control character', { externalId: 'CRM\u0007BELL' }, ['input', 'externalId']],
  ])('returns userErrors and writes nothing for %s', async (_label, fields, path) => {
    const before = await counts();
    const p = payload(await upsert({ source: 'crm', externalId: externalId(), firstName: 'Bad', ...fields }));
    expect(p.created).toBe(false);
    expect(p.customer).toBeNull();
    expect(p.userErrors).toEqual([{ field: path, message: expect.any(String), code: 'BAD_USER_INPUT' }]);
    expect(await counts()).toEqual(before);
  });

  it('reports several bad fields at once', async () => {
    const before = await counts();
    const p = payload(await upsert({
      source: 'has space', externalId: '', email: 'nope', phone: 'call me', birthDate: '2999-01-01', address: { country: 'XX' },
    }));
    expect(p.userErrors.map((e) => e.field)).toEqual(expect.arrayContaining([
      ['input', 'source'], ['input', 'externalId'], ['input', 'email'], ['input', 'phone'], ['input', 'birthDate'], ['input', 'address', 'country'],
    ]));
    expect(p.userErrors).toHaveLength(6);
    expect(p.userErrors.every((e) => e.code === 'BAD_USER_INPUT')).toBe(true);
    expect(await counts()).toEqual(before);
  });

  it('does not change an existing customer when an update is invalid', async () => {
    const id = externalId();
    const first = payload(await upsert({ source: 'crm', externalId: id, email: 'keep@example.com' }));
    const bad = payload(await upsert({ source: 'crm', externalId: id, email: 'broken', firstName: 'Changed' }));
    expect(bad.userErrors).toHaveLength(1);
    const res = await app.gql<{ customer: { email: string; firstName: string | null; updatedAt: string } }>(
      'query ($id: ID!) { customer(id: $id) { email firstName updatedAt } }', { id: first.customer!.id });
    expect(res.body.data?.customer).toEqual({ email: 'keep@example.com', firstName: null, updatedAt: first.customer!.updatedAt });
  });

  it('finds the created customer with customerByExternalId', async () => {
    const id = externalId();
    const created = payload(await upsert({ source: 'crm', externalId: id, firstName: 'Findable' }));
    const res = await app.gql<{ customerByExternalId: { id: string; firstName: string } | null }>(
      'query ($s: String!, $e: String!) { customerByExternalId(source: $s, externalId: $e) { id firstName } }', { s: 'crm', e: id });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.customerByExternalId).toEqual({ id: created.customer!.id, firstName: 'Findable' });
  });

  it('returns null from customerByExternalId for an unknown identity', async () => {
    const res = await app.gql<{ customerByExternalId: null }>('{ customerByExternalId(source: "crm", externalId: "NOPE-404") { id } }');
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ customerByExternalId: null });
  });

  it('answers customer(id:) with NOT_FOUND for a well-formed id of a missing customer', async () => {
    const res = await app.gql('query ($id: ID!) { customer(id: $id) { id } }', { id: toGlobalId('Customer', randomUUID()) });
    expect(res.body.data?.customer).toBeNull();
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });

  it.each([
    ['garbage', 'not-an-id'],
    ['an id of another type', toGlobalId('Transaction', randomUUID())],
    ['a Customer prefix with a non-uuid', Buffer.from('Customer:123').toString('base64url')],
  ])('answers customer(id:) with BAD_USER_INPUT for %s', async (_label, id) => {
    const res = await app.gql('query ($id: ID!) { customer(id: $id) { id } }', { id });
    expect(res.body.data?.customer).toBeNull();
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
  it('records the source of every field it writes in Customer.fieldSources, and forgets a cleared one', async () => {
    const id = externalId();
    // An email no earlier test wrote: upsertCustomer matches by email (INGEST_MATCH_RULES), and this test needs a new customer.
    const created = payload(await upsert({ source: 'crm', externalId: id, firstName: 'Grace', lastName: 'Hopper', email: 'grace.sources@example.com', address: { city: 'Arlington' } }));
    const sources = async () => {
      const r = await app.gql<{ customer: { fieldSources: { field: string; source: string; rule: string }[] } }>(
        'query($id: ID!) { customer(id: $id) { fieldSources { field source rule } } }', { id: created.customer!.id });
      expect(r.body.errors).toBeUndefined();
      return Object.fromEntries(r.body.data!.customer.fieldSources.map((f) => [f.field, `${f.source}/${f.rule}`]));
    };
    expect(await sources()).toEqual({ firstName: 'crm/FIRST_VALUE', lastName: 'crm/FIRST_VALUE', email: 'crm/FIRST_VALUE', city: 'crm/FIRST_VALUE' });
    // The same value again changes nothing; a new email is MOST_RECENT; a cleared last name has no source any more.
    payload(await upsert({ source: 'crm', externalId: id, firstName: 'Grace' }));
    payload(await upsert({ source: 'crm', externalId: id, email: 'grace.hopper@example.com' }));
    payload(await upsert({ source: 'crm', externalId: id, lastName: null }));
    expect(await sources()).toEqual({ firstName: 'crm/FIRST_VALUE', email: 'crm/MOST_RECENT', city: 'crm/FIRST_VALUE' });
  });
});
