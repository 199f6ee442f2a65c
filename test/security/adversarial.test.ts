import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRows } from '../../src/db/client';
import { cursorScope, sealCursor } from '../../src/lib/cursor';
import { toGlobalId } from '../../src/lib/global-id';
import { createSeeder } from '../factories/index';
import { startApp, type GqlResponse, type TestApp } from '../helpers/app';

/**
 * Adversarial cases not covered elsewhere in test/security/ (see the catalogue in README "Security
 * tests"). Each asserts a safe outcome: a code from the closed list (never INTERNAL_SERVER_ERROR), no
 * data of a customer outside the caller's scope, no internals in the answer.
 */
const SECRET = {
  email: 'hidden.person@example.com', phone: '+14155550999', summary: 'Secret complaint about the hidden person', nationalId: 'HID987654',
  agent: 'Agent Hidden',
};
type Body = GqlResponse<Record<string, unknown>>;
const codes = (res: Body) => (res.body.errors ?? []).map((e) => e.extensions?.code);

describe('adversarial requests', () => {
  let app: TestApp;
  let key: string;
  let consenting: { id: string; gid: string; txGid: string; ixGid: string };
  let refusing: { id: string; gid: string; txGid: string; ixGid: string };

  /** Every answer in this file: no internals, no INTERNAL_SERVER_ERROR, nothing of the refusing customer. */
  const safe = (res: Body) => {
    const text = JSON.stringify(res.body);
    expect(res.status).toBeLessThan(500);
    expect(codes(res)).not.toContain('INTERNAL_SERVER_ERROR');
    expect(text).not.toMatch(/stacktrace|\bSELECT\b|\bFROM\b [a-z_]+|\.ts:\d+|postgres|pglite/i);
    for (const v of [...Object.values(SECRET), refusing.id, refusing.gid]) expect(text).not.toContain(v);
    return res;
  };
  const asKey = (query: string, variables?: Record<string, unknown>) => app.gql(query, variables, { authorization: `Bearer ${key}` }).then(safe);
  const asAdmin = (query: string, variables?: Record<string, unknown>) => app.gql(query, variables).then(safe);

  const ids = async (customerId: string) => {
    const [tx] = await execRows<{ id: string }>(app.db.db, sql`SELECT id::text AS id FROM transactions WHERE customer_id = ${customerId}::uuid LIMIT 1`);
    const [ix] = await execRows<{ id: string }>(app.db.db, sql`SELECT id::text AS id FROM interactions WHERE customer_id = ${customerId}::uuid LIMIT 1`);
    return { id: customerId, gid: toGlobalId('Customer', customerId), txGid: toGlobalId('Transaction', tx!.id), ixGid: toGlobalId('Interaction', ix!.id) };
  };

  beforeAll(async () => {
    app = await startApp({ AGGREGATE_MIN_GROUP_SIZE: '1' });
    const seed = createSeeder(app.db.db);
    const a = await seed.customer({ firstName: 'Open', email: 'open@example.com', emailNormalized: 'open@example.com', phone: '+14155550100', phoneE164: '+14155550100' })
      .withIdentity('crm', 'ADV-A').withConsent('partner_sharing', 'GRANTED').withTransactions(3).withInteractions(2, { summary: 'open words', agent: 'Agent Open' }).create();
    const b = await seed.customer({ firstName: 'Hidden', email: SECRET.email, emailNormalized: SECRET.email, phone: SECRET.phone, phoneE164: SECRET.phone, nationalId: SECRET.nationalId })
      .withIdentity('crm', 'ADV-B').withConsent('partner_sharing', 'DENIED').withTransactions(2).withInteractions(1, { summary: SECRET.summary, agent: SECRET.agent }).create();
    consenting = await ids(a.id);
    refusing = await ids(b.id);
    const res = await app.gql<{ createApiKey: { secret: string } }>(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }`, { input: {
      name: 'Adversary', scopes: ['customers:read', 'transactions:read', 'interactions:read', 'tags:read', 'aggregates:read'],
      fieldAllowList: ['Customer.email'], purpose: 'partner_sharing',
    } });
    key = res.body.data!.createApiKey.secret;
  });
  afterAll(async () => { await app?.close(); });

  describe('a partner reaching a non-consenting customer', () => {
    it('gets null from node() for their transaction and their interaction', async () => {
      const res = await asKey('query($t: ID!, $i: ID!) { t: node(id: $t) { id } i: node(id: $i) { id } }', { t: refusing.txGid, i: refusing.ixGid });
      expect(res.body.data).toEqual({ t: null, i: null });
    });

    it('gets NOT_FOUND for a hand-forged Customer global id of them', async () => {
      const forged = Buffer.from(`Customer:${refusing.id}`).toString('base64url');
      const res = await asKey('query($id: ID!) { customer(id: $id) { id email } }', { id: forged });
      expect(codes(res)).toEqual(['NOT_FOUND']);
    });

    it('gets nothing from a type-confused global id (their customer id labelled Transaction or Interaction)', async () => {
      const res = await asKey('query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } }', {
        a: Buffer.from(`Transaction:${refusing.id}`).toString('base64url'), b: Buffer.from(`Interaction:${refusing.id}`).toString('base64url'),
      });
      expect(res.body.data).toEqual({ a: null, b: null });
    });

    it('gets BAD_USER_INPUT, not a lookup, for a global id of an unknown type or a non-uuid', async () => {
      for (const id of [Buffer.from(`ApiKey:${refusing.id}`).toString('base64url'), Buffer.from('Customer:1 OR 1=1').toString('base64url')]) {
        const res = await asKey('query($id: ID!) { customer(id: $id) { id } }', { id });
        expect(codes(res)).toEqual([expect.stringMatching(/^(BAD_USER_INPUT|NOT_FOUND)$/)]);
      }
    });

    it('cannot count them: totalCount, search and aggregates exclude them', async () => {
      const res = await asKey(`{ all: customers { totalCount } byEmail: customers(search: "${SECRET.email}") { totalCount }
        byPhone: customers(filter: { phone: "${SECRET.phone}" }) { totalCount } stats: customerStats { groups { customerCount } } }`);
      expect(res.body.data).toEqual({ all: { totalCount: 1 }, byEmail: { totalCount: 0 }, byPhone: { totalCount: 0 }, stats: { groups: [{ customerCount: 1 }] } });
    });

    it('answers the same NOT_FOUND for them as for a customer that does not exist (no existence oracle)', async () => {
      const missing = await asKey('query($id: ID!) { customer(id: $id) { id } }', { id: toGlobalId('Customer', '00000000-0000-4000-8000-000000000000') });
      const hidden = await asKey('query($id: ID!) { customer(id: $id) { id } }', { id: refusing.gid });
      expect(hidden.body).toEqual(missing.body);
    });
  });

  describe('field allow-list bypasses by a partner key', () => {
    it('aliases and fragments of a field outside the list still answer null', async () => {
      const res = await asKey(`query($id: ID!) { customer(id: $id) { p: phone ...F ... on Customer { q: phone fn: firstName } } }
        fragment F on Customer { r: phone email }`, { id: consenting.gid });
      expect(res.body.data).toEqual({ customer: { p: null, q: null, r: null, fn: null, email: 'open@example.com' } });
    });

    it('node() reaches the same policy as customer()', async () => {
      const res = await asKey('query($id: ID!) { node(id: $id) { ... on Customer { phone email lastName } } }', { id: consenting.gid });
      expect(res.body.data).toEqual({ node: { phone: null, email: 'open@example.com', lastName: null } });
    });

    it('the timeline union and interactions give no summaries or agents', async () => {
      const res = await asKey(`query($id: ID!) { customer(id: $id) {
        timeline { edges { node { __typename ... on Interaction { summary agent subject } } } }
        interactions { edges { node { summary agent } } } } }`, { id: consenting.gid });
      expect(res.body.errors).toBeUndefined();
      expect(JSON.stringify(res.body)).not.toMatch(/open words|Agent Open/);
    });

    it('an interaction fetched by node() gives no summary either', async () => {
      const res = await asKey('query($id: ID!) { node(id: $id) { ... on Interaction { summary agent } } }', { id: consenting.ixGid });
      expect(res.body.data).toEqual({ node: { summary: null, agent: null } });
    });

    it('the national id is FORBIDDEN at its path, and cannot be put on an allow-list', async () => {
      const res = await asKey('query($id: ID!) { customer(id: $id) { email n: nationalId } }', { id: consenting.gid });
      expect(res.body.data).toEqual({ customer: { email: 'open@example.com', n: null } });
      expect(res.body.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['customer.n', 'FORBIDDEN']]);
      const create = await asAdmin(`mutation { createApiKey(input: { name: "nid", scopes: ["customers:read"], purpose: "partner_sharing", fieldAllowList: ["Customer.nationalId"] }) {
        secret userErrors { field } } }`);
      expect(create.body.data).toEqual({ createApiKey: { secret: null, userErrors: [{ field: ['input', 'fieldAllowList'] }] } });
    });
  });

  describe('cursor tampering', () => {
    const page = async () => {
      const res = await asAdmin('{ customers(first: 1) { pageInfo { endCursor } } }');
      return (res.body.data as { customers: { pageInfo: { endCursor: string } } }).customers.pageInfo.endCursor;
    };
    const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    /** Sealed with the server's key (shared by this process): only the checks after decryption stand between it and SQL. */
    const byCreated = cursorScope('customers', null, { orderBy: ['CREATED_AT_DESC'], search: null, filter: null });
    const UUID = '0b6f3c52-1d4e-4b8a-9c3e-2f1a5d7e9b10';

    it('refuses a sealed cursor with SQL in its sort value or a non-uuid id', async () => {
      const ok = await asAdmin('query($a: String) { customers(first: 1, after: $a) { totalCount } }', { a: sealCursor(byCreated, ['2099-01-01T00:00:00.000000Z', UUID]) });
      expect(ok.body.errors).toBeUndefined();
      const tampered = [
        sealCursor(byCreated, ["2024-01-01'; DROP TABLE customers; --", UUID]),
        sealCursor(byCreated, ['2099-01-01T00:00:00.000000Z', "x' OR '1'='1"]),
      ];
      for (const after of tampered) {
        const res = await asAdmin('query($a: String) { customers(first: 1, after: $a) { totalCount } }', { a: after });
        expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      }
      expect(await execRows(app.db.db, sql`SELECT 1 FROM customers LIMIT 1`)).toHaveLength(1);
    });

    it('refuses a cursor of another sort order, another list, or with extra values', async () => {
      const real = await page();
      const res1 = await asAdmin('query($a: String) { customers(first: 1, after: $a, orderBy: [TOTAL_SPENT_DESC]) { totalCount } }', { a: real });
      const res2 = await asAdmin('query($id: ID!, $a: String) { customer(id: $id) { transactions(after: $a) { totalCount } } }', { id: consenting.gid, a: real });
      const res3 = await asAdmin('query($a: String) { customers(first: 1, after: $a) { totalCount } }', { a: sealCursor(byCreated, ['2099-01-01T00:00:00.000000Z', UUID, 'extra']) });
      for (const res of [res1, res2, res3]) expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    });

    it('refuses oversized and non-JSON cursors', async () => {
      for (const a of ['A'.repeat(5000), Buffer.from('{not json').toString('base64url'), encode({ toString: 1 })]) {
        const res = await asAdmin('query($a: String) { customers(first: 1, after: $a) { totalCount } }', { a });
        expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      }
    });

    it('a partner cannot page into customers outside its scope with an admin cursor', async () => {
      const all = await asAdmin('{ customers(first: 1, orderBy: [CREATED_AT_ASC]) { pageInfo { endCursor } } }');
      const cursor = (all.body.data as { customers: { pageInfo: { endCursor: string } } }).customers.pageInfo.endCursor;
      const res = await asKey('query($a: String) { customers(first: 10, after: $a, orderBy: [CREATED_AT_ASC]) { edges { node { id } } } }', { a: cursor });
      expect(JSON.stringify(res.body.data)).not.toContain(refusing.gid);
    });
  });

  describe('floods and oversized requests', () => {
    it('refuses a document of thousands of fields on one object (field flood) before executing it', async () => {
      const fields = Array.from({ length: 3000 }, () => 'id').join(' ');
      const res = await asAdmin(`query($id: ID!) { customer(id: $id) { ${fields} } }`, { id: consenting.gid });
      expect(codes(res)[0]).toMatch(/^(QUERY_TOO_COMPLEX|BAD_USER_INPUT)$/);
      expect(res.body.data ?? null).toBeNull();
    });

    it('refuses a flood of fragment spreads (the fragment trick to dodge the alias limit)', async () => {
      const frags = Array.from({ length: 60 }, (_, i) => `fragment F${i} on Customer { a${i}: transactions(first: 100) { totalCount } }`).join('\n');
      const spreads = Array.from({ length: 60 }, (_, i) => `...F${i}`).join(' ');
      const res = await asAdmin(`query($id: ID!) { customer(id: $id) { ${spreads} } }\n${frags}`, { id: consenting.gid });
      expect(codes(res)[0]).toMatch(/^(QUERY_TOO_COMPLEX|BAD_USER_INPUT)$/);
    });

    it('refuses a variable list of 100,000 ids', async () => {
      const res = await asAdmin('query($c: [String!]) { customers(filter: { countries: $c }) { totalCount } }', { c: Array.from({ length: 100_000 }, () => 'DE') });
      expect([res.status, codes(res)[0]]).toEqual([expect.any(Number), expect.stringMatching(/^(BAD_USER_INPUT|QUERY_TOO_COMPLEX)$/)]);
    });

    it('refuses a body over the limit with 413 and no GraphQL execution', async () => {
      const res = await fetch(app.url, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await app.token('ADMIN')}` },
        body: JSON.stringify({ query: `{ viewer { id } }`, variables: { pad: 'x'.repeat(app.config.bodyLimitBytes + 10) } }),
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    });

    it('refuses a batch of 1,000 operations in one request as a whole', async () => {
      const res = await fetch(app.url, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(Array.from({ length: 1000 }, () => ({ query: '{ customers { totalCount } }' }))),
      });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).not.toContain('totalCount":');
    });
  });

  describe('privacy of error messages', () => {
    it('says nothing about the schema to a partner that mistypes a field (no suggestions, no type names)', async () => {
      const res = await asKey('{ customers { edges { node { emai nationalI } } } }');
      expect(codes(res).every((c) => c === 'BAD_USER_INPUT')).toBe(true);
      // Suggestions ("Did you mean ...") are off for API keys always (they may not introspect either);
      // outside production users get them, which shows the probe would have found something.
      expect(JSON.stringify(res.body)).not.toMatch(/Did you mean|"email"|nationalId"/);
      expect(JSON.stringify((await asAdmin('{ customers { edges { node { emai } } } }')).body)).toMatch(/Did you mean/);
    });

    it('does not echo a presented key or token in the error', async () => {
      const forged = `c360_abcdefghij_${'Z'.repeat(43)}`;
      const res = await app.gql('{ viewer { id } }', undefined, { authorization: `Bearer ${forged}` });
      expect(codes(res)).toEqual(['UNAUTHENTICATED']);
      expect(JSON.stringify(res.body)).not.toContain('Z'.repeat(43));
      const jwt = await app.gql('{ viewer { id } }', undefined, { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' });
      expect(JSON.stringify(jwt.body)).not.toContain('eyJzdWIiOiJ4In0');
    });

    it('a database failure surfaces as a masked error with a request id, not the SQL or the values', async () => {
      // A CHECK violation deep in a write: the database error text names the table and the value.
      await app.db.db.execute(sql`ALTER TABLE interactions ADD CONSTRAINT adv_no_writes CHECK (channel <> 'APP') NOT VALID`);
      try {
        const res = await app.gql('mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) { created } }', { i: {
          source: 'helpdesk', externalId: 'ADV-FAIL', customer: { id: consenting.gid }, channel: 'APP', type: 'TICKET', occurredAt: '2025-05-01T10:00:00Z', summary: 'private words',
        } });
        expect(codes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
        const text = JSON.stringify(res.body);
        expect(text).not.toMatch(/adv_no_writes|interactions|private words|violates/);
        expect(res.body.errors?.[0]?.extensions?.requestId ?? res.headers.get('x-request-id')).toBeTruthy();
      } finally {
        await app.db.db.execute(sql`ALTER TABLE interactions DROP CONSTRAINT adv_no_writes`);
      }
    });
  });
});
