import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRows } from '../../src/db/client';
import { toGlobalId } from '../../src/lib/global-id';
import { createSeeder } from '../factories/index';
import { startApp, type TestApp } from '../helpers/app';

interface Created { createApiKey: { secret: string | null; apiKey: { id: string; prefix: string; scopes: string[] } | null; userErrors: { field: string[]; message: string }[] } }
const CREATE = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  secret apiKey { id prefix scopes } userErrors { field message } } }`;
const codeOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => body.errors?.[0]?.extensions?.code;

describe('partner API keys', () => {
  let app: TestApp;
  let consenting: string;
  let refusing: string;
  let german: string;
  let key: string;
  let deKey: string;
  const asKey = (k: string) => ({ authorization: `Bearer ${k}` });

  const create = async (input: Record<string, unknown>) => {
    const res = await app.gql<Created>(CREATE, { input });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.createApiKey;
  };

  beforeAll(async () => {
    app = await startApp({ AGGREGATE_MIN_GROUP_SIZE: '1' });
    const seed = createSeeder(app.db.db);
    const a = await seed.customer({ firstName: 'Anna', email: 'anna@example.com', emailNormalized: 'anna@example.com', phone: '+14155550101', phoneE164: '+14155550101', country: 'US' })
      .withIdentity('crm', 'P-A').withConsent('partner_sharing', 'GRANTED').withTransactions(2).create();
    const b = await seed.customer({ firstName: 'Bert', email: 'bert@example.com', emailNormalized: 'bert@example.com', country: 'US' })
      .withIdentity('crm', 'P-B').withConsent('partner_sharing', 'GRANTED', new Date('2024-01-01T00:00:00Z')).withConsent('partner_sharing', 'WITHDRAWN', new Date('2025-01-01T00:00:00Z')).create();
    const c = await seed.customer({ firstName: 'Carla', country: 'DE' }).withConsent('partner_sharing', 'GRANTED').create();
    consenting = toGlobalId('Customer', a.id);
    refusing = toGlobalId('Customer', b.id);
    german = toGlobalId('Customer', c.id);
    key = (await create({ name: 'Acme', scopes: ['customers:read', 'tags:read'], fieldAllowList: ['Customer.email'], purpose: 'partner_sharing' })).secret!;
    deKey = (await create({ name: 'Berlin shop', scopes: ['customers:read', 'transactions:read', 'aggregates:read'], purpose: 'partner_sharing', countries: ['de'] })).secret!;
  });
  afterAll(async () => { await app?.close(); });

  it('shows the secret once and stores only its hash', async () => {
    expect(key).toMatch(/^c360_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
    const rows = await execRows<{ secret_hash: string }>(app.db.db, sql`SELECT secret_hash FROM api_keys`);
    expect(rows.map((r) => r.secret_hash)).not.toContain(key);
    expect(JSON.stringify(rows)).not.toContain(key.slice(16));
    const list = await app.gql<{ apiKeys: { name: string; prefix: string }[] }>('{ apiKeys { name prefix } }');
    expect(list.body.data!.apiKeys.map((k) => k.name).sort()).toEqual(['Acme', 'Berlin shop']);
    expect(JSON.stringify(list.body)).not.toContain(key.slice(16));
  });

  it('authenticates with X-Api-Key or a Bearer key', async () => {
    const viaHeader = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ query: '{ viewer { kind role scopes } }' }) });
    expect(await viaHeader.json()).toEqual({ data: { viewer: { kind: 'API_KEY', role: 'PARTNER', scopes: ['customers:read', 'tags:read'] } } });
    const viaBearer = await app.gql('{ viewer { kind } }', undefined, asKey(key));
    expect(viaBearer.body.data).toEqual({ viewer: { kind: 'API_KEY' } });
  });

  it('sees only customers who granted its purpose, on every path', async () => {
    const list = await app.gql<{ customers: { totalCount: number; edges: { node: { id: string } }[] } }>('{ customers { totalCount edges { node { id } } } }', undefined, asKey(key));
    expect(list.body.data!.customers).toEqual({ totalCount: 2, edges: expect.arrayContaining([{ node: { id: consenting } }, { node: { id: german } }]) });
    const byId = await app.gql('query($id: ID!) { customer(id: $id) { id } }', { id: refusing }, asKey(key));
    expect(codeOf(byId.body)).toBe('NOT_FOUND');
    const node = await app.gql('query($id: ID!) { node(id: $id) { id } }', { id: refusing }, asKey(key));
    expect(node.body.data).toEqual({ node: null });
    const ext = await app.gql('{ a: customerByExternalId(source: "crm", externalId: "P-B") { id } b: customerByExternalId(source: "crm", externalId: "P-A") { id } }', undefined, asKey(key));
    expect(ext.body.data).toEqual({ a: null, b: { id: consenting } });
    const search = await app.gql<{ customers: { edges: { node: { id: string } }[] } }>('{ customers(search: "bert@example.com") { edges { node { id } } } }', undefined, asKey(key));
    expect(search.body.data!.customers.edges.map((e) => e.node.id)).not.toContain(refusing);
    const admin = await app.gql<{ customers: { edges: { node: { id: string } }[] } }>('{ customers(search: "bert@example.com") { edges { node { id } } } }');
    expect(admin.body.data!.customers.edges[0]!.node.id).toBe(refusing);
  });

  it('restricts to its countries when it has some', async () => {
    const list = await app.gql<{ customers: { edges: { node: { id: string } }[] } }>('{ customers { edges { node { id } } } }', undefined, asKey(deKey));
    expect(list.body.data!.customers.edges).toEqual([{ node: { id: german } }]);
  });

  it('reads only its allow-listed personal data; the rest is null or a pseudonym', async () => {
    const res = await app.gql<{ customer: Record<string, unknown> }>('query($id: ID!) { customer(id: $id) { email phone firstName displayName externalIds { externalId } } }', { id: consenting }, asKey(key));
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.customer).toMatchObject({ email: 'anna@example.com', phone: null, firstName: null });
    expect(res.body.data!.customer.displayName).toMatch(/^anon_/);
    expect(JSON.stringify(res.body)).not.toMatch(/Anna|P-A|4155550101/);
  });

  it('needs a scope for each relation: FORBIDDEN at that path, the rest intact', async () => {
    const res = await app.gql<{ customer: { email: string; transactions: unknown } | null }>(
      'query($id: ID!) { customer(id: $id) { email tags { value } transactions { totalCount } } }', { id: consenting }, asKey(key));
    expect(res.body.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['customer.transactions', 'FORBIDDEN']]);
    const allowed = await app.gql<{ customer: { transactions: { totalCount: number } } }>(
      'query($id: ID!) { customer(id: $id) { transactions { totalCount } } }', { id: german }, asKey(deKey));
    expect(allowed.body.data!.customer.transactions.totalCount).toBe(0);
  });

  it('cannot write, aggregate without the scope, or manage keys', async () => {
    expect(codeOf((await app.gql('mutation { upsertCustomer(input: { source: "crm", externalId: "X" }) { created } }', undefined, asKey(key))).body)).toBe('FORBIDDEN');
    expect(codeOf((await app.gql(`mutation { assignTag(input: { customerId: "${consenting}", tagKey: "vip" }) { changed } }`, undefined, asKey(key))).body)).toBe('FORBIDDEN');
    expect(codeOf((await app.gql('{ customerStats { groups { customerCount } } }', undefined, asKey(key))).body)).toBe('FORBIDDEN');
    expect(codeOf((await app.gql('{ apiKeys { name } }', undefined, asKey(key))).body)).toBe('FORBIDDEN');
  });

  it('aggregates only over its row scope', async () => {
    const res = await app.gql<{ customerStats: { groups: { customerCount: number }[] } }>('{ customerStats { groups { customerCount } } }', undefined, asKey(deKey));
    expect(res.body.data!.customerStats.groups).toEqual([{ customerCount: 1 }]);
  });

  it('refuses revoked, expired, unknown and malformed keys with UNAUTHENTICATED', async () => {
    const temp = await create({ name: 'temp', scopes: ['customers:read'], purpose: 'partner_sharing' });
    expect((await app.gql('{ viewer { id } }', undefined, asKey(temp.secret!))).status).toBe(200);
    await app.gql('mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { revokedAt } } }', { id: temp.apiKey!.id });
    const revoked = await app.gql('{ viewer { id } }', undefined, asKey(temp.secret!));
    expect([revoked.status, codeOf(revoked.body)]).toEqual([401, 'UNAUTHENTICATED']);

    const old = await create({ name: 'old', scopes: ['customers:read'], purpose: 'partner_sharing' });
    await app.db.db.execute(sql`UPDATE api_keys SET expires_at = now() - interval '1 day' WHERE prefix = ${old.apiKey!.prefix}`);
    expect(codeOf((await app.gql('{ viewer { id } }', undefined, asKey(old.secret!))).body)).toBe('UNAUTHENTICATED');

    const forged = `${key.slice(0, 16)}${'A'.repeat(43)}`;
    for (const k of [forged, 'c360_nope', 'c360_0123456789_' + 'x'.repeat(43)]) {
      expect(codeOf((await app.gql('{ viewer { id } }', undefined, asKey(k))).body)).toBe('UNAUTHENTICATED');
    }
  });

  it('applies the key\'s own rate limit', async () => {
    const slow = await create({ name: 'slow', scopes: ['customers:read'], purpose: 'partner_sharing', rateLimitPerMinute: 1 });
    expect((await app.gql('{ viewer { id } }', undefined, asKey(slow.secret!))).status).toBe(200);
    const second = await app.gql('{ viewer { id } }', undefined, asKey(slow.secret!));
    expect([second.status, codeOf(second.body)]).toEqual([429, 'RATE_LIMITED']);
  });

  it('validates new keys and lets only ADMIN users create them', async () => {
    const bad = await create({ name: ' ', scopes: ['customers:write'], fieldAllowList: ['Customer.createdAt'], countries: ['XX'] });
    expect(bad.secret).toBeNull();
    expect(bad.userErrors.map((e) => e.field.join('.')).sort()).toEqual(['input.countries', 'input.fieldAllowList', 'input.name', 'input.purpose', 'input.scopes']);
    const marketer = await app.gql(CREATE, { input: { name: 'm', scopes: ['customers:read'], purpose: 'p' } }, { role: 'MARKETER' });
    expect(codeOf(marketer.body)).toBe('FORBIDDEN');
  });
});
