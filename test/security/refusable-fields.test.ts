import { isNonNullType, isObjectType, type GraphQLResolveInfo } from 'graphql';
import { allow } from 'graphql-shield';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuleTree } from '../../src/auth/permissions';
import type { Viewer } from '../../src/auth/viewer';
import { buildBareSchema, privacyPolicy, ruleTree } from '../../src/schema';
import type { Role } from '../../src/__generated__/resolvers-types';
import { createSeeder } from '../factories/index';
import { startApp, type TestApp } from '../helpers/app';

/**
 * Issue 18.7: a field that a rule or the privacy policy can refuse is nullable, so its FORBIDDEN stays
 * at its path instead of nulling its parent (and, through non-null parents, the whole response).
 */

type ShieldRule = { resolve(parent: unknown, args: unknown, ctx: unknown, info: unknown, options: unknown): Promise<unknown> };
const isRule = (x: unknown): x is ShieldRule => typeof x === 'object' && x !== null && typeof (x as { resolve?: unknown }).resolve === 'function';

/** The rule shield applies to `type.field` (as src/auth/permissions.ts looks it up), or null for the deny fallback. */
function ruleOf(tree: RuleTree, type: string, field: string): ShieldRule | null {
  const r = tree[type];
  if (r === undefined) return null;
  if (isRule(r)) return r;
  const f = r[field] ?? r['*'];
  return isRule(f) ? f : null;
}

const ROLES: Role[] = ['ADMIN', 'AGENT', 'MARKETER', 'ANALYST', 'PARTNER'];
/** Every kind of caller the gateway knows: users of each role, and API keys of each role with no scopes. */
const PROBES: Viewer[] = [
  ...ROLES.filter((r) => r !== 'PARTNER').map((role): Viewer => ({ kind: 'user', id: `probe-${role}`, role, scopes: [] })),
  ...ROLES.map((role): Viewer => ({
    kind: 'apiKey', id: `probe-key-${role}`, role, name: 'probe', scopes: [], fieldAllowList: new Set(), purpose: null, countries: null,
    segmentIds: null, rateLimitPerMinute: null, rateLimitBurst: null, maxCost: null, persistedOnly: false,
  })),
];

/** Fields some caller is refused: a shield rule (evaluated for every probe) that does not pass, or a DENY in the privacy policy. */
async function refusableFields(): Promise<{ field: string; nonNull: boolean }[]> {
  const schema = buildBareSchema();
  const tree = ruleTree();
  const policy = privacyPolicy();
  const out: { field: string; nonNull: boolean }[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const name = `${type.name}.${field.name}`;
      const rule = ruleOf(tree, type.name, field.name);
      let refusable = rule === null || Object.values(policy[name] ?? {}).includes('DENY');
      if (!refusable && rule !== allow) {
        const info = { fieldName: field.name, parentType: type, returnType: field.type } as unknown as GraphQLResolveInfo;
        for (const viewer of PROBES) {
          const ctx = { viewer, _shield: { cache: {} } };
          const verdict = await rule!.resolve({}, {}, ctx, info, { debug: false, allowExternalErrors: true, hashFunction: JSON.stringify });
          if (verdict !== true) { refusable = true; break; }
        }
      }
      if (refusable) out.push({ field: name, nonNull: isNonNullType(field.type) });
    }
  }
  return out;
}

describe('fields a rule can refuse', () => {
  it('are all nullable (derived from the shield tree and the privacy table)', async () => {
    const fields = await refusableFields();
    // The walk finds what it must (so an empty result below means something).
    expect(fields.map((f) => f.field)).toEqual(expect.arrayContaining([
      'Customer.transactions', 'Customer.interactions', 'Customer.tags', 'Customer.consents', 'Customer.metrics', 'Customer.timeline',
      'Customer.segments', 'Customer.nationalId', 'Query.segment', 'Query.customers', 'TagDefinition.customerCount', 'Mutation.createApiKey',
    ]));
    expect(fields.map((f) => f.field)).not.toContain('Query.viewer');
    expect(fields.filter((f) => f.nonNull).map((f) => f.field)).toEqual([]);
  });
});

describe('a refused field keeps the rest of the response', () => {
  let app: TestApp;
  let key: string;
  const names: string[] = [];
  let segmentGid: string;
  beforeAll(async () => {
    app = await startApp();
    const seed = createSeeder(app.db.db);
    for (const firstName of ['Hanna', 'Ivo', 'Joke']) {
      await seed.customer({ firstName, lastName: 'Refused' }).withConsent('partner_sharing', 'GRANTED').withTransactions(2).create();
      names.push(`${firstName} Refused`);
    }
    const created = await app.gql<{ createApiKey: { secret: string } }>(`mutation { createApiKey(input: {
      name: "no transactions", scopes: ["customers:read"], purpose: "partner_sharing", fieldAllowList: ["Customer.displayName"] }) { secret } }`);
    key = created.body.data!.createApiKey.secret;
    const seg = await app.gql<{ createSegment: { segment: { id: string } } }>(
      'mutation { createSegment(input: { name: "Refused", kind: STATIC }) { segment { id } } }');
    segmentGid = seg.body.data!.createSegment.segment.id;
  });
  afterAll(async () => { await app?.close(); });

  it('a partner key without transactions:read gets the names and one FORBIDDEN per customer at …transactions', async () => {
    const res = await app.gql<{ customers: { edges: { node: { displayName: string; transactions: unknown } }[] } }>(
      '{ customers(orderBy: [NAME_ASC]) { edges { node { displayName transactions { edges { node { id } } } } } } }', undefined, { authorization: `Bearer ${key}` });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ customers: { edges: names.map((displayName) => ({ node: { displayName, transactions: null } })) } });
    expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual(
      names.map((_, i) => [['customers', 'edges', i, 'node', 'transactions'], 'FORBIDDEN']));
  });

  it('a refused root field is null next to the others', async () => {
    const res = await app.gql<{ viewer: { kind: string }; customerStats: unknown }>('{ viewer { kind } customerStats { suppressedGroups } }', undefined, { authorization: `Bearer ${key}` });
    expect(res.body, JSON.stringify(res.body)).toMatchObject({ data: { viewer: { kind: 'API_KEY' }, customerStats: null } });
    expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['customerStats'], 'FORBIDDEN']]);
    const agent = await app.gql('query($id: ID!) { viewer { role } segment(id: $id) { name } }', { id: segmentGid }, { role: 'AGENT' });
    expect(agent.body.data).toEqual({ viewer: { role: 'AGENT' }, segment: null });
    expect(agent.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['segment'], 'FORBIDDEN']]);
  });

  it("AGENT reads a customer's profile without its segments", async () => {
    const list = await app.gql<{ customers: { edges: { node: { id: string } }[] } }>('{ customers(first: 1, orderBy: [NAME_ASC]) { edges { node { id } } } }');
    const id = list.body.data!.customers.edges[0]!.node.id;
    const res = await app.gql('query($id: ID!) { customer(id: $id) { displayName segments { id } tags { value } } }', { id }, { role: 'AGENT' });
    expect(res.body.data).toEqual({ customer: { displayName: names[0], segments: null, tags: [] } });
    expect(res.body.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['customer', 'segments'], 'FORBIDDEN']]);
  });
});
