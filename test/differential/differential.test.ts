import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/lib/global-id';
import { buildBareSchema } from '../../src/schema';
import { createSeeder } from '../factories/index';
import { generateOperations, type Generated } from './generate';
import { auditRows, authorizationOf, comparable, send, startPair, type Answer, type Pair, type Viewer } from './harness';

/**
 * The compiled read path against the resolver path: the same operations, as every kind of viewer,
 * against two gateways on one database (COMPILED_READS=true and false). Data, errors (message, code,
 * path, locations), HTTP status and the audit rows must be identical.
 */
const RANDOM_COUNT = 500;
const SEED = 17;

let pair: Pair;
const viewers: Viewer[] = [{ role: 'ADMIN' }, { role: 'AGENT' }, { role: 'MARKETER' }, { role: 'ANALYST' }];
const ids: Record<string, string> = {};

/** The core benchmark's 360 selection (bench/suites/core.ts). */
const FIELDS_360 = `
  id displayName email phone lifecycleStage externalIds { source externalId }
  tags { tag { key name category } value source assignedAt }
  metrics { orderCount totalSpent { amount currency } averageOrderValue { amount currency } lastPurchaseAt }
  transactions(first: 10) { totalCount edges { node { id occurredAt type amount { amount currency } items { sku quantity } } } }
  interactions(first: 10) { edges { node { id channel type occurredAt sentiment } } }
  timeline(first: 5) { edges { node { __typename } } }`;
const FULL_PROFILE = `id displayName firstName lastName email phone birthDate nationalId gender createdAt updatedAt lifecycleStage
  address { line1 line2 city region postalCode country } externalIds { source externalId }
  consents { purpose status source recordedAt } consentHistory { purpose status recordedAt }
  interactions(first: 3) { totalCount edges { cursor node { id subject summary agent channel direction status occurredAt } } pageInfo { hasNextPage endCursor } }`;
const ORDERS = ['CREATED_AT_DESC', 'CREATED_AT_ASC', 'NAME_ASC', 'NAME_DESC', 'TOTAL_SPENT_DESC', 'TOTAL_SPENT_ASC', 'ORDER_COUNT_DESC', 'ORDER_COUNT_ASC', 'LAST_PURCHASE_DESC', 'LAST_PURCHASE_ASC'];

function corpus(): Generated[] {
  const op = (name: string, query: string, variables: Record<string, unknown> = {}): Generated => ({ name, query, variables });
  return [
    op('Core360', `query Core360($id: ID!) { customer(id: $id) { ${FIELDS_360} } }`, { id: ids.full }),
    op('CorePage', `query CorePage($first: Int) { customers(first: $first) { totalCount edges { cursor node { ${FIELDS_360} } } pageInfo { hasNextPage endCursor } } }`, { first: 50 }),
    op('CoreEmail', `query CoreEmail($email: String!) { customers(filter: { email: $email }, first: 1) { totalCount edges { cursor node { ${FIELDS_360} } } pageInfo { hasNextPage endCursor } } }`, { email: 'ada.full@example.com' }),
    op('FullProfile', `query FullProfile($id: ID!) { customer(id: $id) { ${FULL_PROFILE} } }`, { id: ids.full }),
    op('Rfm', `query Rfm($id: ID!) { customer(id: $id) { metrics { orderCount firstPurchaseAt rfm { recency frequency monetary score segment } } } }`, { id: ids.full }),
    op('Segments', `query Segments($id: ID!) { customer(id: $id) { id email segments { id name } } }`, { id: ids.full }),
    op('Sparse', `query Sparse($id: ID!) { customer(id: $id) { ${FULL_PROFILE} metrics { orderCount totalSpent { amount } rfm { score } } } }`, { id: ids.sparse }),
    op('ByExternalId', `query ByExternalId { customerByExternalId(source: "crm", externalId: "CRM-FULL") { id displayName email externalIds { source externalId } } }`),
    op('ByExternalIdMissing', `{ customerByExternalId(source: "crm", externalId: "nobody") { id } }`),
    op('Node', `query Node($id: ID!) { node(id: $id) { id __typename ... on Customer { displayName email } } }`, { id: ids.full }),
    op('NodeMalformed', `{ node(id: "bogus") { id } }`),
    op('Aliases', `query Aliases($a: ID!, $b: ID!) { one: customer(id: $a) { ...Card } two: customer(id: $b) { ...Card mail: email } } fragment Card on Customer { id name: displayName email tags { tag { key } } }`, { a: ids.full, b: ids.de }),
    op('Timeline', `query Timeline($id: ID!) { customer(id: $id) { timeline(first: 10) { edges { cursor node { __typename ... on Transaction { id type amount { amount currency } } ... on Interaction { id channel summary agent } ... on TagChange { action value tag { key } } } } pageInfo { hasNextPage endCursor } } } }`, { id: ids.full }),
    op('Search', `{ customers(search: "Ada", first: 5) { totalCount edges { cursor node { id displayName email } } pageInfo { hasNextPage endCursor } } }`),
    op('SearchRelevance', `{ customers(search: "ada.full@example.com", orderBy: [RELEVANCE], first: 5) { totalCount edges { cursor node { id email } } } }`),
    op('Filter', `{ customers(filter: { country: "DE" }, first: 5) { totalCount edges { node { id displayName address { country city } } } } }`),
    op('FilterBehavioural', `{ customers(filter: { transactions: { count: { min: 2 } } }, first: 5) { totalCount edges { node { id metrics { orderCount } } } } }`),
    ...ORDERS.map((o) => op(`Order_${o}`, `{ customers(orderBy: [${o}], first: 4) { totalCount edges { cursor node { id displayName metrics { totalSpent { amount } lastPurchaseAt } } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`)),
    op('TotalOnly', `{ customers { totalCount } }`),
    op('BadCursor', `{ customers(first: 2, after: "bogus") { edges { node { id } } } }`),
    op('TooMany', `{ customers(first: 1000) { edges { node { id } } } }`),
    op('ChildTooMany', `query ChildTooMany($id: ID!) { customer(id: $id) { id transactions(first: 1000) { totalCount } interactions(after: "x") { totalCount } } }`, { id: ids.full }),
    op('NotFound', `query NotFound($id: ID!) { customer(id: $id) { id email } }`, { id: ids.missing }),
    op('BadId', `{ customer(id: "bogus") { id } }`),
    op('NationalId', `query NationalId($id: ID!) { customer(id: $id) { id nationalId email } }`, { id: ids.full }),
    op('Variables', `query Variables($id: ID!, $n: Int) { customer(id: $id) { transactions(first: $n) { edges { node { id } } } } }`, { id: ids.full, n: 2 }),
    op('BadVariable', `query BadVariable($n: Int) { customers(first: $n) { totalCount } }`, { n: 'three' }),
    op('Typename', `{ __typename customers(first: 1) { __typename edges { __typename node { __typename id } } } }`),
    op('Mutation', `mutation { recordConsent(input: { customerId: "bogus", purpose: "x", status: GRANTED, source: "t" }) { userErrors { field message } } }`),
  ];
}

beforeAll(async () => {
  pair = await startPair();
  const seed = createSeeder(pair.db.db);
  const full = await seed.customer({
    firstName: 'Ada', lastName: 'Full', email: 'ada.full@example.com', emailNormalized: 'ada.full@example.com', phone: '+14155550132', phoneE164: '+14155550132',
    birthDate: '1987-09-23', nationalId: 'AB1234567', gender: 'FEMALE', addressLine1: '1 Market St', addressLine2: 'Apt 2', postalCode: '94105', city: 'San Francisco', region: 'CA',
  }).withIdentity('crm', 'CRM-FULL').withIdentity('shop', 'S-1').withTransactions(4, { items: [{ sku: 'A', quantity: 2, unitPrice: '3.5000' }, { sku: 'B', quantity: 1, unitPrice: '12.2500' }] })
    .withTransactions(1, { type: 'REFUND', amount: '-5.0000', amountBase: '-5.0000', currency: 'EUR', occurredAt: new Date('2025-06-02T08:00:00Z') })
    .withInteractions(3, { summary: 'Ada called about order 77', agent: 'Sam Agent', subject: 'Order 77' })
    .withTag('vip').withTag('tier', 'gold').withConsent('partner_sharing', 'GRANTED').withConsent('marketing_email', 'DENIED').create();
  const sparse = await seed.customer({ firstName: null, lastName: null, email: null, emailNormalized: null, country: null }).create();
  const de = await seed.customer({ firstName: 'Bea', lastName: 'Berlin', country: 'DE', city: 'Berlin' }).withIdentity('crm', 'CRM-DE')
    .withTransactions(2).withConsent('partner_sharing', 'GRANTED').withTag('vip').create();
  for (let i = 0; i < 5; i++) {
    await seed.customer({ firstName: `Ada${i}`, lastName: `Other${i}` }).withTransactions(i, { amount: `${10 + i}.0000`, amountBase: `${10 + i}.0000` }).withInteractions(i % 2).create();
  }
  ids.full = toGlobalId('Customer', full.id);
  ids.sparse = toGlobalId('Customer', sparse.id);
  ids.de = toGlobalId('Customer', de.id);
  ids.missing = toGlobalId('Customer', '00000000-0000-4000-8000-000000000000');

  const CREATE = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret userErrors { message } } }';
  const admin = await authorizationOf({ role: 'ADMIN' });
  const key = async (name: string, input: Record<string, unknown>) => {
    const r = await send(pair.resolvers, admin, CREATE, { input: { name, role: 'PARTNER', ...input } }, `setup-${name}`);
    const secret = (r.body.data as { createApiKey: { secret: string | null; userErrors: unknown[] } } | undefined)?.createApiKey.secret;
    expect(r.body, JSON.stringify(r.body)).toHaveProperty("data.createApiKey.userErrors", []);
    expect(secret).toMatch(/^c360_/);
    return secret!;
  };
  viewers.push({ name: 'partner-allow-list', key: await key('partner-allow-list', {
    scopes: ['customers:read', 'transactions:read', 'interactions:read', 'tags:read', 'consents:read'],
    fieldAllowList: ['Customer.email', 'Customer.firstName', 'ExternalId.externalId', 'Interaction.summary'], purpose: 'partner_sharing',
  }) });
  viewers.push({ name: 'partner-no-transactions', key: await key('partner-no-transactions', { scopes: ['customers:read', 'interactions:read', 'tags:read'], purpose: 'partner_sharing', countries: ['US'] }) });
}, 120_000);
afterAll(async () => { await pair?.close(); });

const viewerName = (v: Viewer) => ('key' in v ? v.name : v.role);

interface Outcome { op: Generated; viewer: string; compiled: Answer; resolvers: Answer; requestIds: [string, string] }

async function runAll(ops: Generated[], tag: string): Promise<Outcome[]> {
  const out: Outcome[] = [];
  let n = 0;
  for (const op of ops) {
    for (const v of viewers) {
      const auth = await authorizationOf(v);
      const rid = `${tag}-${n++}`;
      const [compiled, resolvers] = await Promise.all([
        send(pair.compiled, auth, op.query, op.variables, `${rid}-c`),
        send(pair.resolvers, auth, op.query, op.variables, `${rid}-r`),
      ]);
      out.push({ op, viewer: viewerName(v), compiled, resolvers, requestIds: [`${rid}-c`, `${rid}-r`] });
    }
  }
  return out;
}

type Row = { actor: string; role: string; action: string; customer: string | null; fields: string[]; operation: string | null };
/** Every field the compiled path audited for a customer was audited by the resolver path too. */
function auditSubset(c: Row[], r: Row[]): boolean {
  return c.every((row) => {
    const other = r.find((x) => x.customer === row.customer && x.action === row.action && x.actor === row.actor && x.operation === row.operation);
    return Boolean(other) && row.fields.every((f) => other!.fields.includes(f));
  });
}

async function expectIdentical(outcomes: Outcome[]): Promise<void> {
  const differences: string[] = [];
  for (const o of outcomes) {
    const a = comparable(o.compiled);
    const b = comparable(o.resolvers);
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      differences.push(`${o.op.name} as ${o.viewer}:\n  query: ${o.op.query}\n  compiled:  ${JSON.stringify(a).slice(0, 1500)}\n  resolvers: ${JSON.stringify(b).slice(0, 1500)}`);
    }
  }
  const audit = await auditRows(pair, outcomes.flatMap((o) => o.requestIds));
  for (const o of outcomes) {
    const strip = (id: string) => (audit.get(id) ?? []).map(({ request: _r, ...rest }) => rest);
    const [c, r] = [strip(o.requestIds[0]), strip(o.requestIds[1])];
    // With errors, the resolver path also audits values of subtrees an error nulled when they resolved
    // before the error propagated (timing); the compiled path audits what the response discloses. So:
    // identical without errors, and never more than the resolver path with them.
    const same = JSON.stringify(c) === JSON.stringify(r);
    if (!same && (!o.compiled.body.errors?.length || !auditSubset(c, r))) {
      differences.push(`${o.op.name} as ${o.viewer}: audit rows differ\n  compiled:  ${JSON.stringify(c)}\n  resolvers: ${JSON.stringify(r)}`);
    }
  }
  expect(differences.slice(0, 5).join('\n\n'), `${differences.length} differences`).toBe('');
}

describe('compiled reads vs resolvers', () => {
  it('answers the corpus identically for every viewer, and compiles the core queries', async () => {
    const outcomes = await runAll(corpus(), 'corpus');
    await expectIdentical(outcomes);
    const pathOf = (name: string, viewer: string) => outcomes.find((o) => o.op.name === name && o.viewer === viewer)!;
    // The core reads take the compiled path (for every viewer), with the statement counts of the resolver path.
    // (The key without transactions:read is refused non-null fields of the 360: those operations stay on the resolver path.)
    const everywhere = ['Aliases', 'Node', 'ByExternalId', 'BadCursor', 'NotFound', 'Search', 'Filter', 'Typename'];
    const allowed = ['Core360', 'CorePage', 'CoreEmail', 'FullProfile', 'Timeline', ...ORDERS.map((o) => `Order_${o}`)];
    for (const v of viewers.map(viewerName)) {
      for (const name of v === 'partner-no-transactions' ? everywhere : [...everywhere, ...allowed]) {
        expect(`${name} as ${v}: ${pathOf(name, v).compiled.path}`).toBe(`${name} as ${v}: compiled`);
      }
    }
    // The benchmark's reads: one statement for one customer, two for a page with totalCount; never more than the resolver path.
    expect(pathOf('Core360', 'ADMIN').compiled.statements).toBe(1);
    expect(pathOf('CorePage', 'ADMIN').compiled.statements).toBeLessThanOrEqual(2);
    expect(pathOf('CoreEmail', 'MARKETER').compiled.statements).toBeLessThanOrEqual(2);
    const more = outcomes.filter((o) => o.compiled.statements > o.resolvers.statements).map((o) => `${o.op.name} as ${o.viewer}: ${o.compiled.statements} > ${o.resolvers.statements}`);
    expect(more).toEqual([]);
    expect(pathOf('CorePage', 'ADMIN').resolvers.path).toBe('resolvers');
    // What the planner does not cover runs on the resolver path.
    expect(pathOf('Mutation', 'ADMIN').compiled.path).toBe('resolvers');
    expect(pathOf('BadVariable', 'ADMIN').compiled.path).toBe('resolvers');
  }, 300_000);

  it('pages identically with first/after on both paths', async () => {
    const admin = await authorizationOf({ role: 'ADMIN' });
    const q = 'query P($after: String) { customers(first: 3, after: $after, orderBy: [NAME_ASC]) { edges { cursor node { id displayName } } pageInfo { hasNextPage endCursor } } }';
    const first = await send(pair.resolvers, admin, q, {}, 'page-0');
    const end = (first.body.data as { customers: { pageInfo: { endCursor: string } } }).customers.pageInfo.endCursor;
    expect(end).toEqual(expect.any(String));
    await expectIdentical(await runAll([{ name: 'SecondPage', query: q, variables: { after: end } }], 'paging'));
  }, 120_000);

  it(`answers ${RANDOM_COUNT} random selections (seed ${SEED}) identically for every viewer`, async () => {
    const ops = generateOperations(buildBareSchema(), SEED, RANDOM_COUNT, { customerId: ids.full!, externalId: { source: 'crm', externalId: 'CRM-FULL' } });
    const outcomes = await runAll(ops, 'random');
    await expectIdentical(outcomes);
    // Most of them are compiled: the comparison is not between two runs of the resolver path.
    const compiled = outcomes.filter((o) => o.compiled.path === 'compiled').length;
    expect(compiled / outcomes.length).toBeGreaterThan(0.5);
  }, 600_000);
});
