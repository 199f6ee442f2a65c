import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRows } from '../../../src/db/client';
import { toGlobalId } from '../../../src/lib/global-id';
import { streamMemberIds } from '../../../src/modules/segments/segments.service';
import { createSeeder, type Seeder } from '../../factories/index';
import { startApp, type GqlResponse, type TestApp } from '../../helpers/app';

interface UserErrorShape { field: string[]; message: string; code: string }
interface SegmentShape { id: string; name: string; kind: string; version: number; size: number; filter: unknown }
interface SegmentPayloadData { segment: SegmentShape | null; userErrors: UserErrorShape[] }

interface MembersData { segment: { members: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } }

const SEGMENT_FIELDS = 'id name kind version size filter';
const CREATE = `mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { segment { ${SEGMENT_FIELDS} } userErrors { field message code } } }`;
const UPDATE = `mutation ($input: UpdateSegmentInput!) { updateSegment(input: $input) { segment { ${SEGMENT_FIELDS} } userErrors { field message code } } }`;
const REFRESH = `mutation ($id: ID!) { refreshSegment(id: $id) { entered exited segment { size } userErrors { field message code } } }`;
const ADD = `mutation ($s: ID!, $c: [ID!]!) { addSegmentMembers(segmentId: $s, customerIds: $c) { changed segment { size } userErrors { field message code } } }`;
const REMOVE = `mutation ($s: ID!, $c: [ID!]!) { removeSegmentMembers(segmentId: $s, customerIds: $c) { changed userErrors { field message code } } }`;
const MEMBERS = `query ($id: ID!, $first: Int, $after: String) { segment(id: $id) { size members(first: $first, after: $after, orderBy: [NAME_ASC]) {
  totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } } }`;

describe('segments', () => {
  let app: TestApp;
  let seed: Seeder;
  beforeAll(async () => {
    app = await startApp({ SEGMENT_REFRESH_INTERVAL_MS: '0' });
    seed = createSeeder(app.db.db);
  }, 240_000);
  afterAll(async () => { await app?.close(); });

  const gid = (id: string) => toGlobalId('Customer', id);
  const create = async (input: Record<string, unknown>, role: 'ADMIN' | 'MARKETER' = 'MARKETER') => {
    const res = await app.gql<{ createSegment: SegmentPayloadData }>(CREATE, { input }, { role });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.createSegment;
  };
  const allMembers = async (segmentId: string): Promise<string[]> => {
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res: GqlResponse<MembersData> = await app.gql<MembersData>(MEMBERS, { id: segmentId, first: 2, after });
      expect(res.body.errors).toBeUndefined();
      const m: MembersData['segment']['members'] = res.body.data!.segment.members;
      ids.push(...m.edges.map((e) => e.node.id));
      if (!m.pageInfo.hasNextPage) return ids.sort();
      after = m.pageInfo.endCursor;
    }
  };

  it('refuses invalid definitions with userErrors and writes nothing', async () => {
    const cases: [Record<string, unknown>, string[], string][] = [
      [{ name: '  ', kind: 'STATIC' }, ['input', 'name'], 'BAD_USER_INPUT'],
      [{ name: 'No filter', kind: 'DYNAMIC' }, ['input', 'filter'], 'BAD_USER_INPUT'],
      [{ name: 'Static with filter', kind: 'STATIC', filter: { country: 'DE' } }, ['input', 'filter'], 'BAD_USER_INPUT'],
      [{ name: 'Bad country', kind: 'DYNAMIC', filter: { country: 'Germany' } }, ['input', 'filter', 'country'], 'BAD_USER_INPUT'],
      [{ name: 'Bad window', kind: 'DYNAMIC', filter: { transactions: { window: { last: 'ninety days' } } } }, ['input', 'filter', 'transactions', 'window', 'last'], 'BAD_USER_INPUT'],
      [{ name: 'Bad segment ref', kind: 'DYNAMIC', filter: { segment: { in: ['nope'] } } }, ['input', 'filter', 'segment', 'in'], 'BAD_USER_INPUT'],
    ];
    for (const [input, field, code] of cases) {
      const p = await create(input);
      expect(p.segment).toBeNull();
      expect(p.userErrors).toEqual([expect.objectContaining({ field, code })]);
    }
    const [row] = await execRows<{ n: number }>(app.db.db, sql`SELECT count(*)::int AS n FROM segments`);
    expect(row!.n).toBe(0);
  });

  it('refuses a duplicate name (case-insensitive) with CONFLICT, and allows it again after archiving', async () => {
    const first = await create({ name: 'Newsletter list', kind: 'STATIC' });
    expect(first.userErrors).toEqual([]);
    const dup = await create({ name: 'newsletter LIST', kind: 'STATIC' });
    expect(dup.userErrors).toEqual([expect.objectContaining({ field: ['input', 'name'], code: 'CONFLICT' })]);
    const del = await app.gql<{ deleteSegment: { segment: { archivedAt: string | null } } }>(
      'mutation ($id: ID!) { deleteSegment(id: $id) { segment { archivedAt } userErrors { message } } }', { id: first.segment!.id });
    expect(del.body.data!.deleteSegment.segment!.archivedAt).not.toBeNull();
    const again = await create({ name: 'Newsletter list', kind: 'STATIC' });
    expect(again.userErrors).toEqual([]);
    const listed = await app.gql<{ segments: { totalCount: number; edges: { node: { name: string } }[] } }>(
      '{ segments(kind: STATIC) { totalCount edges { node { name } } } }');
    expect(listed.body.data!.segments.edges.map((e) => e.node.name)).toEqual(['Newsletter list']);
    const withArchived = await app.gql<{ segments: { totalCount: number } }>('{ segments(kind: STATIC, includeArchived: true) { totalCount } }');
    expect(withArchived.body.data!.segments.totalCount).toBe(2);
  });

  it('materializes a dynamic segment equal to the filter result and keeps it equal through refreshes', async () => {
    const filter = { countries: ['DE'], transactions: { sum: { min: '30' } } };
    const big = await Promise.all([1, 2, 3].map(() => seed.customer({ country: 'DE' }).withTransactions(4).create()));
    const small = await seed.customer({ country: 'DE' }).withTransactions(1).create();
    await seed.customer({ country: 'FR' }).withTransactions(5).create();
    const p = await create({ name: 'German big spenders', kind: 'DYNAMIC', filter });
    expect(p.userErrors).toEqual([]);
    expect(p.segment).toMatchObject({ kind: 'DYNAMIC', version: 1, size: 3, filter });

    const expected = async () => {
      const res = await app.gql<{ customers: { edges: { node: { id: string } }[] } }>(
        'query ($f: CustomerFilter) { customers(filter: $f, first: 100) { edges { node { id } } } }', { f: filter });
      return res.body.data!.customers.edges.map((e) => e.node.id).sort();
    };
    expect(await allMembers(p.segment!.id)).toEqual(await expected());
    expect(await allMembers(p.segment!.id)).toEqual(big.map((c) => gid(c.id)).sort());

    // Data changes: one joins (buys more), one leaves (its orders are deleted); refresh picks both up.
    await seed.customer({ country: 'DE' }).withTransactions(3).create();
    await app.db.db.execute(sql`INSERT INTO transactions (customer_id, source, external_id, type, status, currency, amount, amount_base, channel, occurred_at)
      VALUES (${small.id}::uuid, 'test', 'TX-EXTRA-1', 'ORDER', 'COMPLETED', 'USD', 25, 25, 'online', '2025-06-02T00:00:00Z')`);
    await app.db.db.execute(sql`DELETE FROM transactions WHERE customer_id = ${big[0]!.id}::uuid`);
    const r = await app.gql<{ refreshSegment: { entered: number; exited: number; segment: { size: number } } }>(REFRESH, { id: p.segment!.id }, { role: 'MARKETER' });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.refreshSegment).toMatchObject({ entered: 2, exited: 1, segment: { size: 4 } });
    expect(await allMembers(p.segment!.id)).toEqual(await expected());

    // A second refresh without changes changes nothing.
    const again = await app.gql<{ refreshSegment: { entered: number; exited: number } }>(REFRESH, { id: p.segment!.id });
    expect(again.body.data!.refreshSegment).toMatchObject({ entered: 0, exited: 0 });
  });

  it('records membership history with the definition version and a daily size snapshot', async () => {
    const a = await seed.customer({ country: 'AT', city: 'Wien' }).create();
    const b = await seed.customer({ country: 'AT', city: 'Graz' }).create();
    const p = await create({ name: 'Austria', kind: 'DYNAMIC', filter: { country: 'AT' } });
    expect(p.segment!.size).toBe(2);
    const u = await app.gql<{ updateSegment: SegmentPayloadData }>(UPDATE, { input: { id: p.segment!.id, filter: { country: 'AT', city: ['wien'] } } });
    expect(u.body.data!.updateSegment.userErrors).toEqual([]);
    expect(u.body.data!.updateSegment.segment).toMatchObject({ version: 2, size: 1 });

    const res = await app.gql<{ segment: { membershipChanges: { edges: { node: { action: string; customerId: string; segmentVersion: number } }[] } } }>(
      'query ($id: ID!) { segment(id: $id) { membershipChanges(first: 10) { edges { node { action customerId segmentVersion } } } } }', { id: p.segment!.id });
    const changes = res.body.data!.segment.membershipChanges.edges.map((e) => e.node);
    expect(changes[0]).toEqual({ action: 'EXITED', customerId: gid(b.id), segmentVersion: 2 });
    expect(changes.slice(1).sort((x, y) => x.customerId.localeCompare(y.customerId))).toEqual(
      [a, b].map((c) => ({ action: 'ENTERED', customerId: gid(c.id), segmentVersion: 1 })).sort((x, y) => x.customerId.localeCompare(y.customerId)));

    const today = new Date().toISOString().slice(0, 10);
    const hist = await app.gql<{ segmentSizeHistory: { day: string; size: number }[] }>(
      'query ($id: ID!) { segmentSizeHistory(id: $id) { day size } }', { id: p.segment!.id }, { role: 'ANALYST' });
    expect(hist.body.errors).toBeUndefined();
    expect(hist.body.data!.segmentSizeHistory).toEqual([{ day: today, size: 1 }]);
    // Older days are kept as they were.
    const segId = p.segment!.id;
    await app.db.db.execute(sql`INSERT INTO segment_size_snapshots (segment_id, day, size) SELECT id, '2025-01-01', 7 FROM segments WHERE name = 'Austria'`);
    const range = await app.gql<{ segmentSizeHistory: { day: string; size: number }[] }>(
      'query ($id: ID!) { segmentSizeHistory(id: $id, from: "2024-12-01", to: "2025-01-31") { day size } }', { id: segId });
    expect(range.body.data!.segmentSizeHistory).toEqual([{ day: '2025-01-01', size: 7 }]);
    const bad = await app.gql('query ($id: ID!) { segmentSizeHistory(id: $id, from: "2025-02-01", to: "2025-01-01") { day } }', { id: segId });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('edits static segments: add, remove, idempotent, validated', async () => {
    const cs = await Promise.all([1, 2, 3].map(() => seed.customer().create()));
    const p = await create({ name: 'VIP event guests', kind: 'STATIC' });
    const s = p.segment!.id;
    const add = await app.gql<{ addSegmentMembers: { changed: number; segment: { size: number } } }>(ADD, { s, c: cs.map((c) => gid(c.id)) }, { role: 'MARKETER' });
    expect(add.body.data!.addSegmentMembers).toMatchObject({ changed: 3, segment: { size: 3 } });
    const again = await app.gql<{ addSegmentMembers: { changed: number } }>(ADD, { s, c: [gid(cs[0]!.id)] });
    expect(again.body.data!.addSegmentMembers.changed).toBe(0);
    const rm = await app.gql<{ removeSegmentMembers: { changed: number } }>(REMOVE, { s, c: [gid(cs[1]!.id), gid(cs[1]!.id)] });
    expect(rm.body.data!.removeSegmentMembers.changed).toBe(1);
    expect(await allMembers(s)).toEqual([cs[0]!, cs[2]!].map((c) => gid(c.id)).sort());

    const unknown = await app.gql<{ addSegmentMembers: { changed: number; userErrors: UserErrorShape[] } }>(
      ADD, { s, c: [gid(cs[1]!.id), gid('00000000-0000-4000-8000-000000000000')] });
    expect(unknown.body.data!.addSegmentMembers).toMatchObject({ changed: 0, userErrors: [expect.objectContaining({ field: ['customerIds', '1'], code: 'NOT_FOUND' })] });
    expect(await allMembers(s)).toHaveLength(2);

    const dyn = await create({ name: 'Dynamic one', kind: 'DYNAMIC', filter: { country: 'US' } });
    const wrong = await app.gql<{ addSegmentMembers: { userErrors: UserErrorShape[] } }>(ADD, { s: dyn.segment!.id, c: [gid(cs[1]!.id)] });
    expect(wrong.body.data!.addSegmentMembers.userErrors).toEqual([expect.objectContaining({ field: ['segmentId'] })]);

    // The import/export entry point pages member ids.
    const streamed: string[] = [];
    const segmentUuid = Buffer.from(s, 'base64url').toString().split(':')[1]!;
    for await (const page of streamMemberIds(app.db.db, segmentUuid, 1)) streamed.push(...page);
    expect(streamed.sort()).toEqual([cs[0]!.id, cs[2]!.id].sort());
  });

  it('filters customers by segment membership (in / notIn)', async () => {
    const inside = await seed.customer({ country: 'NL' }).create();
    const outside = await seed.customer({ country: 'NL' }).create();
    const p = await create({ name: 'Dutch pilot', kind: 'STATIC' });
    await app.gql(ADD, { s: p.segment!.id, c: [gid(inside.id)] });
    const q = 'query ($f: CustomerFilter) { customers(filter: $f, first: 10) { totalCount edges { node { id } } } }';
    const r1 = await app.gql<{ customers: { edges: { node: { id: string } }[] } }>(q, { f: { country: 'NL', segment: { in: [p.segment!.id] } } });
    expect(r1.body.data!.customers.edges.map((e) => e.node.id)).toEqual([gid(inside.id)]);
    const r2 = await app.gql<{ customers: { edges: { node: { id: string } }[] } }>(q, { f: { country: 'NL', segment: { notIn: [p.segment!.id] } } });
    expect(r2.body.data!.customers.edges.map((e) => e.node.id)).toEqual([gid(outside.id)]);
    const bad = await app.gql(q, { f: { segment: { in: [gid(inside.id)] } } });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // A dynamic segment defined over another segment's membership.
    const nested = await create({ name: 'Dutch pilot (dynamic)', kind: 'DYNAMIC', filter: { segment: { in: [p.segment!.id] } } });
    expect(nested.segment!.size).toBe(1);
    const self = await app.gql<{ updateSegment: SegmentPayloadData }>(UPDATE, { input: { id: nested.segment!.id, filter: { segment: { in: [nested.segment!.id] } } } });
    expect(self.body.data!.updateSegment.userErrors).toEqual([expect.objectContaining({ field: ['input', 'filter'] })]);
  });

  it('batches Customer.segments: the same statement count for 5 and 50 customers', async () => {
    const country = 'PT';
    const cs = await Promise.all(Array.from({ length: 50 }, () => seed.customer({ country }).create()));
    const s1 = await create({ name: 'Portugal', kind: 'DYNAMIC', filter: { country } });
    const s2 = await create({ name: 'Portugal static', kind: 'STATIC' });
    await app.gql(ADD, { s: s2.segment!.id, c: cs.slice(0, 10).map((c) => gid(c.id)) });
    const q = 'query ($n: Int, $f: CustomerFilter) { customers(first: $n, filter: $f, orderBy: [CREATED_AT_ASC]) { edges { node { id segments { name size } } } } }';
    const five = await app.gql<{ customers: { edges: { node: { id: string; segments: { name: string; size: number }[] } }[] } }>(q, { n: 5, f: { country } });
    const fifty = await app.gql<{ customers: { edges: { node: { id: string; segments: { name: string; size: number }[] } }[] } }>(q, { n: 50, f: { country } });
    expect(five.body.errors).toBeUndefined();
    expect(fifty.body.data!.customers.edges).toHaveLength(50);
    expect(fifty.statements).toBe(five.statements);
    const byId = new Map(fifty.body.data!.customers.edges.map((e) => [e.node.id, e.node.segments]));
    expect(byId.get(gid(cs[0]!.id))).toEqual([{ name: 'Portugal', size: 50 }, { name: 'Portugal static', size: 10 }]);
    expect(byId.get(gid(cs[49]!.id))).toEqual([{ name: 'Portugal', size: 50 }]);
    expect(s1.segment!.size).toBe(50);
  });

  it('applies the shield: segment reads for ADMIN/MARKETER/ANALYST, writes for ADMIN/MARKETER', async () => {
    const read = '{ segments { totalCount } }';
    for (const role of ['ADMIN', 'MARKETER', 'ANALYST'] as const) {
      const r = await app.gql(read, undefined, { role });
      expect(r.body.errors).toBeUndefined();
    }
    const agent = await app.gql(read, undefined, { role: 'AGENT' });
    expect(agent.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const analystWrite = await app.gql(CREATE, { input: { name: 'Nope', kind: 'STATIC' } }, { role: 'ANALYST' });
    expect(analystWrite.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const c = await seed.customer().create();
    const agentSegments = await app.gql<{ customer: { id: string; segments: unknown } | null }>(
      'query ($id: ID!) { customer(id: $id) { id segments { name } } }', { id: gid(c.id) }, { role: 'AGENT' });
    expect(agentSegments.body.errors?.[0]).toMatchObject({ path: ['customer', 'segments'], extensions: { code: 'FORBIDDEN' } });
    const missing = await app.gql('query ($id: ID!) { segment(id: $id) { id } }', { id: toGlobalId('Segment', '00000000-0000-4000-8000-000000000000') });
    expect(missing.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
