import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRows } from '../../src/db/client';
import { toGlobalId } from '../../src/lib/global-id';
import { apikeyCommand } from '../../src/modules/admin/apikey.command';
import { buildBareSchema } from '../../src/schema';
import { createSeeder, type Seeder } from '../factories/index';
import { startApp, type TestApp } from '../helpers/app';

interface UserErrorShape { field: string[]; message: string; code: string }
interface Created { createApiKey: { secret: string | null; apiKey: { id: string; segmentIds: string[] | null } | null; userErrors: UserErrorShape[] } }
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  secret apiKey { id segmentIds } userErrors { field message code } } }`;
const CREATE_SEGMENT = 'mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { segment { id size } userErrors { message } } }';
const codeOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => body.errors?.[0]?.extensions?.code;
const SCOPES = ['customers:read', 'transactions:read', 'interactions:read', 'aggregates:read'];

/** A key restricted to segments: row scope = consent purpose AND countries AND membership of one of its segments. */
describe('partner API keys restricted to segments', () => {
  let app: TestApp;
  let seed: Seeder;
  const ids = { member: '', memberTx: '', memberIx: '', outsider: '', outsiderTx: '', outsiderIx: '', memberNoConsent: '', memberUs: '', leaver: '' };
  let segment: string;
  let segmentUuid: string;
  let key: string;
  const gid = (id: string) => toGlobalId('Customer', id);
  const as = (k: string) => ({ authorization: `Bearer ${k}` });

  const createKey = async (input: Record<string, unknown>) => {
    const res = await app.gql<Created>(CREATE_KEY, { input: { name: 'segment partner', scopes: SCOPES, purpose: 'partner_sharing', ...input } });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.createApiKey;
  };
  const createSegment = async (input: Record<string, unknown>) => {
    const res = await app.gql<{ createSegment: { segment: { id: string; size: number } } }>(CREATE_SEGMENT, { input }, { role: 'MARKETER' });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.createSegment.segment;
  };
  const firstRowId = async (table: 'transactions' | 'interactions', customerId: string) =>
    (await execRows<{ id: string }>(app.db.db, sql`SELECT id::text AS id FROM ${sql.raw(table)} WHERE customer_id = ${customerId}::uuid LIMIT 1`))[0]!.id;
  const listIds = async (k: string, filter?: Record<string, unknown>) => {
    const res = await app.gql<{ customers: { totalCount: number; edges: { node: { id: string } }[] } }>(
      'query ($f: CustomerFilter) { customers(filter: $f, first: 100) { totalCount edges { node { id } } } }', { f: filter ?? null }, as(k));
    expect(res.body.errors).toBeUndefined();
    return { totalCount: res.body.data!.customers.totalCount, ids: res.body.data!.customers.edges.map((e) => e.node.id).sort() };
  };

  beforeAll(async () => {
    app = await startApp({ AGGREGATE_MIN_GROUP_SIZE: '1' });
    seed = createSeeder(app.db.db);
    // Segment "Leipzig loyalty": customers in Leipzig (dynamic, materialized at creation).
    const member = await seed.customer({ city: 'Leipzig', country: 'DE' }).withIdentity('crm', 'S-MEMBER')
      .withConsent('partner_sharing', 'GRANTED').withTransactions(2).withInteractions(1).create();
    const outsider = await seed.customer({ city: 'Hamburg', country: 'DE', email: 'outsider@example.com', emailNormalized: 'outsider@example.com' })
      .withIdentity('crm', 'S-OUTSIDER').withConsent('partner_sharing', 'GRANTED').withTransactions(3).withInteractions(2).create();
    const memberNoConsent = await seed.customer({ city: 'Leipzig', country: 'DE' }).create();
    const memberUs = await seed.customer({ city: 'Leipzig', country: 'US' }).withConsent('partner_sharing', 'GRANTED').create();
    const leaver = await seed.customer({ city: 'Leipzig', country: 'DE' }).withConsent('partner_sharing', 'GRANTED').create();
    Object.assign(ids, {
      member: member.id, outsider: outsider.id, memberNoConsent: memberNoConsent.id, memberUs: memberUs.id, leaver: leaver.id,
      memberTx: await firstRowId('transactions', member.id), memberIx: await firstRowId('interactions', member.id),
      outsiderTx: await firstRowId('transactions', outsider.id), outsiderIx: await firstRowId('interactions', outsider.id),
    });
    const s = await createSegment({ name: 'Leipzig loyalty', kind: 'DYNAMIC', filter: { city: ['Leipzig'] } });
    expect(s.size).toBe(4);
    segment = s.id;
    segmentUuid = Buffer.from(segment, 'base64url').toString().split(':')[1]!;
    const created = await createKey({ segmentIds: [segment] });
    expect(created.userErrors).toEqual([]);
    key = created.secret!;
  }, 240_000);
  afterAll(async () => { await app?.close(); });

  it('lists the restriction on the key', async () => {
    const res = await app.gql<{ apiKeys: { segmentIds: string[] | null; countries: string[] | null }[] }>('{ apiKeys { segmentIds countries } }');
    expect(res.body.data!.apiKeys).toContainEqual({ segmentIds: [segment], countries: null });
  });

  it('lists and counts only segment members who granted the purpose', async () => {
    expect(await listIds(key)).toEqual({ totalCount: 3, ids: [ids.member, ids.memberUs, ids.leaver].map(gid).sort() });
  });

  it('cannot widen its scope with a filter of its own', async () => {
    expect(await listIds(key, { segment: { notIn: [segment] } })).toEqual({ totalCount: 0, ids: [] });
    expect(await listIds(key, { or: [{ city: ['Hamburg'] }, { email: 'outsider@example.com' }] })).toEqual({ totalCount: 0, ids: [] });
    const search = await app.gql<{ customers: { totalCount: number } }>('{ customers(search: "outsider@example.com") { totalCount } }', undefined, as(key));
    expect(search.body.data!.customers.totalCount).toBe(0);
  });

  it('reads a member by id, node and external id', async () => {
    const res = await app.gql<Record<string, { id: string } | null>>(`query ($id: ID!) {
      byId: customer(id: $id) { id } node: node(id: $id) { id } ext: customerByExternalId(source: "crm", externalId: "S-MEMBER") { id } }`,
    { id: gid(ids.member) }, as(key));
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ byId: { id: gid(ids.member) }, node: { id: gid(ids.member) }, ext: { id: gid(ids.member) } });
  });

  it('gets NOT_FOUND for a non-member by id, null through node (id forged from the uuid) and by external id', async () => {
    const forged = toGlobalId('Customer', ids.outsider);
    const byId = await app.gql('query ($id: ID!) { customer(id: $id) { id } }', { id: forged }, as(key));
    expect([byId.body.data, codeOf(byId.body)]).toEqual([{ customer: null }, 'NOT_FOUND']);
    // The same answer as for a customer that does not exist at all: no existence oracle.
    const missing = await app.gql('query ($id: ID!) { customer(id: $id) { id } }', { id: toGlobalId('Customer', '00000000-0000-4000-8000-000000000000') }, as(key));
    expect(byId.body.errors!.map((e) => [e.message, e.extensions?.code])).toEqual(missing.body.errors!.map((e) => [e.message, e.extensions?.code]));
    const node = await app.gql('query ($id: ID!) { node(id: $id) { id } }', { id: forged }, as(key));
    expect(node.body).toEqual({ data: { node: null } });
    const ext = await app.gql('{ customerByExternalId(source: "crm", externalId: "S-OUTSIDER") { id } }', undefined, as(key));
    expect(ext.body).toEqual({ data: { customerByExternalId: null } });
  });

  it('requires the purpose as well: a member without consent is NOT_FOUND', async () => {
    const res = await app.gql('query ($id: ID!) { customer(id: $id) { id } }', { id: gid(ids.memberNoConsent) }, as(key));
    expect(codeOf(res.body)).toBe('NOT_FOUND');
  });

  it('resolves transactions and interactions of members through node, never those of non-members', async () => {
    const q = 'query ($t: ID!, $i: ID!) { t: node(id: $t) { id } i: node(id: $i) { id } }';
    const member = await app.gql(q, { t: toGlobalId('Transaction', ids.memberTx), i: toGlobalId('Interaction', ids.memberIx) }, as(key));
    expect(member.body).toEqual({ data: { t: { id: toGlobalId('Transaction', ids.memberTx) }, i: { id: toGlobalId('Interaction', ids.memberIx) } } });
    const outsider = await app.gql(q, { t: toGlobalId('Transaction', ids.outsiderTx), i: toGlobalId('Interaction', ids.outsiderIx) }, as(key));
    expect(outsider.body).toEqual({ data: { t: null, i: null } });
  });

  it('aggregates only over segment members', async () => {
    const res = await app.gql<{ customerStats: { groups: { customerCount: number }[] } }>('{ customerStats { groups { customerCount } } }', undefined, as(key));
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.customerStats.groups).toEqual([{ customerCount: 3 }]);
    const admin = await app.gql<{ customerStats: { groups: { customerCount: number }[] } }>('{ customerStats { groups { customerCount } } }');
    expect(admin.body.data!.customerStats.groups).toEqual([{ customerCount: 5 }]);
  });

  it('combines segments with countries (both must hold)', async () => {
    const de = (await createKey({ segmentIds: [segment], countries: ['DE'] })).secret!;
    expect((await listIds(de)).ids).toEqual([ids.member, ids.leaver].map(gid).sort());
    const res = await app.gql<{ customerStats: { groups: { customerCount: number }[] } }>('{ customerStats { groups { customerCount } } }', undefined, as(de));
    expect(res.body.data!.customerStats.groups).toEqual([{ customerCount: 2 }]);
  });

  it('sees members of any of its segments', async () => {
    const elsewhere = await seed.customer({ city: 'Bonn', country: 'DE' }).withConsent('partner_sharing', 'GRANTED').create();
    const hamburg = await createSegment({ name: 'Hamburg pilot', kind: 'STATIC' });
    await app.gql('mutation ($s: ID!, $c: [ID!]!) { addSegmentMembers(segmentId: $s, customerIds: $c) { changed } }', { s: hamburg.id, c: [gid(ids.outsider)] });
    const both = (await createKey({ segmentIds: [segment, hamburg.id] })).secret!;
    expect((await listIds(both)).ids).toEqual([ids.member, ids.memberUs, ids.leaver, ids.outsider].map(gid).sort());
    await app.db.db.execute(sql`DELETE FROM customers WHERE id = ${elsewhere.id}::uuid`);
  });

  it('loses a customer who leaves the segment at the next membership refresh', async () => {
    const before = await app.gql('query ($id: ID!) { customer(id: $id) { id } }', { id: gid(ids.leaver) }, as(key));
    expect(before.body.errors).toBeUndefined();
    await app.db.db.execute(sql`UPDATE customers SET city = 'Dresden' WHERE id = ${ids.leaver}::uuid`);
    // Membership is materialized: until the refresh the customer is still a member, and still visible.
    expect((await listIds(key)).ids).toContain(gid(ids.leaver));
    const refresh = await app.gql<{ refreshSegment: { exited: number } }>('mutation ($id: ID!) { refreshSegment(id: $id) { exited } }', { id: segment });
    expect(refresh.body.data!.refreshSegment.exited).toBe(1);

    const after = await app.gql('query ($id: ID!) { customer(id: $id) { id } }', { id: gid(ids.leaver) }, as(key));
    expect(codeOf(after.body)).toBe('NOT_FOUND');
    const node = await app.gql('query ($id: ID!) { node(id: $id) { id } }', { id: gid(ids.leaver) }, as(key));
    expect(node.body).toEqual({ data: { node: null } });
    expect(await listIds(key)).toEqual({ totalCount: 2, ids: [ids.member, ids.memberUs].map(gid).sort() });
  });

  it('sees nobody once its segment is archived (fail closed)', async () => {
    const s = await createSegment({ name: 'Short-lived', kind: 'DYNAMIC', filter: { city: ['Leipzig'] } });
    const k = (await createKey({ segmentIds: [s.id] })).secret!;
    expect((await listIds(k)).totalCount).toBe(2);
    await app.gql('mutation ($id: ID!) { deleteSegment(id: $id) { segment { archivedAt } } }', { id: s.id });
    expect(await listIds(k)).toEqual({ totalCount: 0, ids: [] });
    const byId = await app.gql('query ($id: ID!) { customer(id: $id) { id } }', { id: gid(ids.member) }, as(k));
    expect(codeOf(byId.body)).toBe('NOT_FOUND');
  });

  it('refuses unknown, malformed, archived and empty segment lists with userErrors', async () => {
    const archived = await createSegment({ name: 'Archived one', kind: 'STATIC' });
    await app.gql('mutation ($id: ID!) { deleteSegment(id: $id) { segment { archivedAt } } }', { id: archived.id });
    const unknown = toGlobalId('Segment', '00000000-0000-4000-8000-000000000000');
    const bad = await createKey({ segmentIds: [segment, unknown, 'nope', toGlobalId('Customer', ids.member), archived.id] });
    expect([bad.secret, bad.apiKey]).toEqual([null, null]);
    expect(bad.userErrors.map((e) => [e.field.join('.'), e.code]).sort()).toEqual([
      ['input.segmentIds.1', 'NOT_FOUND'], ['input.segmentIds.2', 'BAD_USER_INPUT'], ['input.segmentIds.3', 'BAD_USER_INPUT'], ['input.segmentIds.4', 'BAD_USER_INPUT'],
    ]);
    expect(bad.userErrors.find((e) => e.field[2] === '4')!.message).toContain('"Archived one" is archived');
    const empty = await createKey({ segmentIds: [] });
    expect(empty.userErrors).toEqual([expect.objectContaining({ field: ['input', 'segmentIds'], code: 'BAD_USER_INPUT' })]);
    const [n] = await execRows<{ n: number }>(app.db.db, sql`SELECT count(*)::int AS n FROM api_keys WHERE cardinality(segment_ids) = 0`);
    expect(n!.n).toBe(0);
  });

  describe('npm run apikey', () => {
    const run = async (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await apikeyCommand(argv, { withDb: (fn) => fn(app.db.db), schema: buildBareSchema, io: { out: (l) => out.push(l), err: (l) => err.push(l) } });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const base = ['create', '--name', 'cli partner', '--scopes', 'customers:read', '--purpose', 'partner_sharing'];

    it('creates a key restricted to segments given by global id or uuid, and lists the restriction', async () => {
      const r = await run([...base, '--segment', segment, '--segment', segmentUuid.toUpperCase()]);
      expect([r.code, r.err]).toEqual([0, expect.stringMatching(/^created key [a-z0-9]{10} \(PARTNER/)]);
      const secret = r.out.trim();
      expect((await listIds(secret)).ids).toEqual([ids.member, ids.memberUs].map(gid).sort());
      const [row] = await execRows<{ segment_ids: string[] }>(app.db.db, sql`SELECT segment_ids::text[] AS segment_ids FROM api_keys WHERE prefix = ${secret.slice(5, 15)}`);
      expect(row!.segment_ids).toEqual([segmentUuid]);
      const listed = await run(['list']);
      expect(listed.code).toBe(0);
      expect(listed.out.split('\n').find((l) => l.startsWith(secret.slice(5, 15)))).toContain(`segments=${segment} (Leipzig loyalty)`);
    });

    it('refuses an unknown or archived segment with a clear message and exit code 1', async () => {
      const missing = '00000000-0000-4000-8000-000000000000';
      const r = await run([...base, '--segment', missing, '--segment', 'not-an-id']);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toContain(`apikey: --segment ${missing}: no such segment`);
      expect(r.err).toContain('apikey: --segment not-an-id: not a valid Segment id');
      const archived = await createSegment({ name: 'Gone for the CLI', kind: 'STATIC' });
      await app.gql('mutation ($id: ID!) { deleteSegment(id: $id) { segment { archivedAt } } }', { id: archived.id });
      const a = await run([...base, '--segment', archived.id]);
      expect([a.code, a.err]).toEqual([1, `apikey: --segment ${archived.id}: segment "Gone for the CLI" is archived (it has no members)`]);
    });

    it('documents --segment in --help without opening a database', async () => {
      const help: string[] = [];
      const r = await apikeyCommand(['create', '--help'], {
        withDb: () => { throw new Error('no database for --help'); }, schema: buildBareSchema, io: { out: (l) => { help.push(l); }, err: () => {} },
      });
      expect(r).toBe(0);
      expect(help.join('\n')).toMatch(/--segment <id>[\s\S]*repeatable/);
    });
  });
});
