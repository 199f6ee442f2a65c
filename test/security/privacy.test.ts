import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { piiFields, validatePolicy } from '../../src/auth/privacy';
import { toGlobalId } from '../../src/lib/global-id';
import { buildBareSchema, privacyPolicy } from '../../src/schema';
import type { Role } from '../../src/__generated__/resolvers-types';
import { createSeeder } from '../factories/index';
import { startApp, type TestApp } from '../helpers/app';

describe('privacy policy table', () => {
  const schema = buildBareSchema();
  const fields = piiFields(schema);

  it('has a row for every @pii field and no row for anything else', () => {
    expect(validatePolicy(fields, privacyPolicy())).toEqual([]);
  });

  it('marks the personal data of a customer as @pii', () => {
    expect([...fields.keys()]).toEqual(expect.arrayContaining([
      'Customer.displayName', 'Customer.firstName', 'Customer.lastName', 'Customer.email', 'Customer.phone',
      'Customer.birthDate', 'Customer.address', 'ExternalId.externalId', 'Interaction.summary', 'Interaction.agent',
    ]));
  });

  it('refuses rows that would break the response shape or that name no @pii field', () => {
    const policy = privacyPolicy();
    expect(validatePolicy(fields, { ...policy, 'Customer.displayName': { ADMIN: 'NULL', AGENT: 'ALLOW', MARKETER: 'ALLOW', ANALYST: 'ALLOW', PARTNER: 'HASH' } }))
      .toEqual(['Customer.displayName: NULL for ADMIN on a non-null field (use MASK or HASH)']);
    expect(validatePolicy(fields, { ...policy, 'Customer.address': { ADMIN: 'HASH', AGENT: 'ALLOW', MARKETER: 'ALLOW', ANALYST: 'ALLOW', PARTNER: 'NULL' } }))
      .toEqual(['Customer.address: HASH for ADMIN on ADDRESS (use MASK or NULL)']);
    expect(validatePolicy(fields, { ...policy, 'Customer.createdAt': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'ALLOW', ANALYST: 'ALLOW', PARTNER: 'NULL' } }))
      .toEqual(['Customer.createdAt has a policy row but is not a @pii field']);
    const { ['Customer.email']: _gone, ...withoutEmail } = policy;
    expect(validatePolicy(fields, withoutEmail)).toEqual(['Customer.email is marked @pii but has no policy row']);
  });
});

describe('the same customer 360 through each role', () => {
  let app: TestApp;
  let id: string;
  beforeAll(async () => {
    app = await startApp();
    const seed = createSeeder(app.db.db);
    const row = await seed.customer({
      firstName: 'Jane', lastName: 'Roe', email: 'jane.roe@example.com', emailNormalized: 'jane.roe@example.com',
      phone: '+14155550132', phoneE164: '+14155550132', birthDate: '1987-09-23',
      addressLine1: '1 Market St', postalCode: '94105', city: 'San Francisco', region: 'CA', country: 'US', nationalId: 'AB1234567',
    }).withIdentity('crm', 'CRM-JANE').withConsent('partner_sharing', 'GRANTED').withInteractions(1, { summary: 'Jane called about order 77', agent: 'Sam Agent' }).withTag('vip').create();
    id = toGlobalId('Customer', row.id);
  });
  afterAll(async () => { await app?.close(); });

  const Q = `query($id: ID!) { customer(id: $id) { displayName firstName lastName email phone birthDate
    address { line1 line2 city region postalCode country } externalIds { source externalId }
    tags { actor } interactions { edges { node { subject summary agent } } } } }`;
  interface C {
    displayName: string; firstName: string | null; lastName: string | null; email: string | null; phone: string | null; birthDate: string | null;
    address: Record<string, string | null> | null; externalIds: { source: string; externalId: string }[]; tags: { actor: string | null }[];
    interactions: { edges: { node: { subject: string | null; summary: string | null; agent: string | null } }[] };
  }
  const as = async (role: Role) => {
    const res = await app.gql<{ customer: C }>(Q, { id }, { role });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.customer;
  };
  /** The national id, alone: DENY answers FORBIDDEN at the field, so it is asked for separately. */
  const nationalIdAs = async (opts: { role?: Role; authorization?: string }) => {
    const res = await app.gql<{ customer: { nationalId: string | null } }>('query($id: ID!) { customer(id: $id) { nationalId } }', { id }, opts);
    return { value: res.body.data?.customer.nationalId ?? null, codes: (res.body.errors ?? []).map((e) => `${e.path?.join('.')}:${e.extensions?.code}`) };
  };
  const full = {
    displayName: 'Jane Roe', firstName: 'Jane', lastName: 'Roe', email: 'jane.roe@example.com', phone: '+14155550132', birthDate: '1987-09-23',
    address: { line1: '1 Market St', line2: null, city: 'San Francisco', region: 'CA', postalCode: '94105', country: 'US' },
    externalIds: [{ source: 'crm', externalId: 'CRM-JANE' }], tags: [{ actor: 'factory' }],
    interactions: { edges: [{ node: { subject: 'Question', summary: 'Jane called about order 77', agent: 'Sam Agent' } }] },
  };

  it('ADMIN and AGENT see everything', async () => {
    expect(await as('ADMIN')).toEqual(full);
    expect(await as('AGENT')).toEqual(full);
  });

  it('shows the national id to ADMIN, its last four to AGENT, and FORBIDDEN to everybody else', async () => {
    expect(await nationalIdAs({ role: 'ADMIN' })).toEqual({ value: 'AB1234567', codes: [] });
    expect(await nationalIdAs({ role: 'AGENT' })).toEqual({ value: '***4567', codes: [] });
    for (const role of ['MARKETER', 'ANALYST'] as const) expect(await nationalIdAs({ role })).toEqual({ value: null, codes: ['customer.nationalId:FORBIDDEN'] });
  });

  it('MARKETER gets masked contact data with the same shape', async () => {
    expect(await as('MARKETER')).toEqual({
      ...full,
      email: 'j***@example.com',
      phone: '+*******0132',
      birthDate: '1987-01-01',
      address: { line1: null, line2: null, city: 'San Francisco', region: null, postalCode: null, country: 'US' },
      interactions: { edges: [{ node: { subject: 'Question', summary: null, agent: null } }] },
    });
  });

  it('ANALYST gets stable pseudonyms for identifiers and no names or contact data', async () => {
    const a = await as('ANALYST');
    expect(a).toMatchObject({
      firstName: null, lastName: null, birthDate: '1987-01-01', tags: [{ actor: null }],
      address: { line1: null, line2: null, city: 'San Francisco', region: null, postalCode: null, country: 'US' },
      interactions: { edges: [{ node: { subject: null, summary: null, agent: null } }] },
    });
    for (const v of [a.displayName, a.email, a.phone, a.externalIds[0]!.externalId]) expect(v).toMatch(/^anon_[A-Za-z0-9_-]{22}$/);
    expect(JSON.stringify(a)).not.toMatch(/jane|roe|4155550132|CRM-JANE/i);
    // Stable: the same value gives the same pseudonym on every request, so analysts can join on it.
    expect((await as('ANALYST')).email).toBe(a.email);
  });

  describe('two partner keys', () => {
    let plain: string;
    let contact: string;
    const key = async (input: Record<string, unknown>) => {
      const res = await app.gql<{ createApiKey: { secret: string } }>('mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', { input });
      return res.body.data!.createApiKey.secret;
    };
    beforeAll(async () => {
      // The same row scope; one key reads nothing in clear, the other email, phone and the address.
      const scopes = ['customers:read', 'tags:read', 'interactions:read'];
      plain = await key({ name: 'Plain partner', scopes, purpose: 'partner_sharing' });
      contact = await key({ name: 'Contact partner', scopes, purpose: 'partner_sharing', fieldAllowList: ['Customer.email', 'Customer.phone', 'Customer.address', 'Customer.firstName'] });
    });
    const asKey = async (secret: string) => {
      const res = await app.gql<{ customer: C }>(Q, { id }, { authorization: `Bearer ${secret}` });
      expect(res.body.errors).toBeUndefined();
      return res.body.data!.customer;
    };
    const partnerDefault = {
      firstName: null, lastName: null, email: null, phone: null, birthDate: null, address: null, tags: [{ actor: null }],
      interactions: { edges: [{ node: { subject: null, summary: null, agent: null } }] },
    };

    it('a key without an allow-list gets the PARTNER column: pseudonyms for names and ids, null for the rest', async () => {
      const p = await asKey(plain);
      expect(p).toMatchObject(partnerDefault);
      expect(p.displayName).toMatch(/^anon_[A-Za-z0-9_-]{22}$/);
      expect(p.externalIds).toEqual([{ source: 'crm', externalId: expect.stringMatching(/^anon_/) }]);
      expect(JSON.stringify(p)).not.toMatch(/jane|roe|4155550132|CRM-JANE|Market|1987|Sam Agent/i);
    });

    it('a key with an allow-list reads exactly those fields in clear, and the rest as the PARTNER column', async () => {
      const p = await asKey(contact);
      expect(p).toMatchObject({
        ...partnerDefault,
        firstName: 'Jane', email: 'jane.roe@example.com', phone: '+14155550132',
        address: { line1: '1 Market St', line2: null, city: 'San Francisco', region: 'CA', postalCode: '94105', country: 'US' },
      });
      expect(p.displayName).toBe((await asKey(plain)).displayName);
      expect(JSON.stringify(p)).not.toMatch(/Roe|1987|Sam Agent|CRM-JANE/);
    });

    it('neither key reads the national id, allow-list or not', async () => {
      for (const secret of [plain, contact]) {
        expect(await nationalIdAs({ authorization: `Bearer ${secret}` })).toEqual({ value: null, codes: ['customer.nationalId:FORBIDDEN'] });
      }
    });
  });

  it('cannot be bypassed with aliases, fragments, node or the timeline union', async () => {
    const res = await app.gql<Record<string, unknown>>(`query($id: ID!) {
      a: customer(id: $id) { x: email ...F ... on Customer { y: phone } }
      n: node(id: $id) { ... on Customer { email } }
      t: customer(id: $id) { timeline { edges { node { ... on Interaction { summary agent } } } } }
    } fragment F on Customer { z: email }`, { id }, { role: 'MARKETER' });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({
      a: { x: 'j***@example.com', z: 'j***@example.com', y: '+*******0132' },
      n: { email: 'j***@example.com' },
      t: { timeline: { edges: expect.arrayContaining([{ node: { summary: null, agent: null } }]) } },
    });
  });
});
