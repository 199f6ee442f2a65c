import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerTagEvents, customerTags, tagDefinitions } from '../../../src/db/schema/index';
import { toGlobalId } from '../../../src/lib/global-id';
import { createSeeder, type Seeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

interface UserErrorShape { field: string[]; message: string; code: string }
interface DefShape {
  id: string; key: string; name: string; category: string; valueType: string; allowedValues: string[] | null; cardinality: string;
  defaultTtl: string | null; owner: string | null; status: string; formerKeys: string[]; customerCount: number;
  mergedInto: { key: string } | null;
}
interface DefPayload { tagDefinition: DefShape | null; userErrors: UserErrorShape[] }

const DEF_FIELDS = 'id key name category valueType allowedValues cardinality defaultTtl owner status formerKeys customerCount mergedInto { key }';
const CREATE = `mutation ($input: CreateTagDefinitionInput!) { createTagDefinition(input: $input) { tagDefinition { ${DEF_FIELDS} } userErrors { field message code } } }`;
const UPDATE = `mutation ($input: UpdateTagDefinitionInput!) { updateTagDefinition(input: $input) { tagDefinition { ${DEF_FIELDS} } userErrors { field message code } } }`;
const RENAME = `mutation ($input: RenameTagDefinitionInput!) { renameTagDefinition(input: $input) { tagDefinition { ${DEF_FIELDS} } userErrors { field message code } } }`;
const DEPRECATE = `mutation ($input: DeprecateTagDefinitionInput!) { deprecateTagDefinition(input: $input) { tagDefinition { ${DEF_FIELDS} } userErrors { field message code } } }`;
const MERGE = `mutation ($input: MergeTagDefinitionsInput!) { mergeTagDefinitions(input: $input) {
  moved dropped rulesRepointed target { ${DEF_FIELDS} } source { ${DEF_FIELDS} } userErrors { field message code } } }`;
const ASSIGN = `mutation ($input: AssignTagInput!) { assignTag(input: $input) { changed customerTag { value expiresAt } userErrors { field message code } } }`;
const COUNT_BY_TAG = `query ($key: String!) { customers(filter: { tag: { key: $key } }) { totalCount } }`;

describe('tag taxonomy', () => {
  let app: TestApp;
  let seed: Seeder;
  beforeAll(async () => {
    app = await startApp();
    seed = createSeeder(app.db.db);
  });
  afterAll(async () => { await app?.close(); });

  const create = async (input: Record<string, unknown>, role: 'ADMIN' | 'MARKETER' = 'ADMIN') => {
    const res = await app.gql<{ createTagDefinition: DefPayload }>(CREATE, { input }, { role });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.createTagDefinition;
  };

  it('creates an ENUM tag with allowed values, cardinality, default TTL and owner', async () => {
    const p = await create({
      key: 'loyalty_tier', name: 'Loyalty tier', category: 'VALUE', valueType: 'ENUM', allowedValues: ['GOLD', 'SILVER'],
      defaultTtl: 'P30D', owner: 'crm-team',
    }, 'MARKETER');
    expect(p.userErrors).toEqual([]);
    expect(p.tagDefinition).toMatchObject({
      key: 'loyalty_tier', valueType: 'ENUM', allowedValues: ['GOLD', 'SILVER'], cardinality: 'SINGLE', defaultTtl: 'P30D',
      owner: 'crm-team', status: 'ACTIVE', formerKeys: [], customerCount: 0, mergedInto: null,
    });
  });

  it.each([
    ['a malformed key', { key: 'Bad Key', name: 'x', category: 'CUSTOM' }, ['input', 'key'], 'BAD_USER_INPUT'],
    ['a key already in use', { key: 'loyalty_tier', name: 'x', category: 'CUSTOM' }, ['input', 'key'], 'CONFLICT'],
    ['an ENUM without allowed values', { key: 'enum_empty', name: 'x', category: 'CUSTOM', valueType: 'ENUM' }, ['input', 'allowedValues'], 'BAD_USER_INPUT'],
    ['allowed values on a TEXT tag', { key: 'text_vals', name: 'x', category: 'CUSTOM', valueType: 'TEXT', allowedValues: ['a'] }, ['input', 'allowedValues'], 'BAD_USER_INPUT'],
    ['a default TTL that is no ISO duration', { key: 'ttl_bad', name: 'x', category: 'CUSTOM', defaultTtl: '30 days' }, ['input', 'defaultTtl'], 'BAD_USER_INPUT'],
    ['a multi-value BOOLEAN tag', { key: 'multi_bool', name: 'x', category: 'CUSTOM', cardinality: 'MULTIPLE' }, ['input', 'cardinality'], 'BAD_USER_INPUT'],
    ['a blank name', { key: 'blank_name', name: '  ', category: 'CUSTOM' }, ['input', 'name'], 'BAD_USER_INPUT'],
  ])('refuses %s with a userError and writes nothing', async (_l, input, field, code) => {
    const before = await app.db.db.$count(tagDefinitions);
    const p = await create(input);
    expect(p.tagDefinition).toBeNull();
    expect(p.userErrors).toEqual([{ field, message: expect.any(String), code }]);
    expect(await app.db.db.$count(tagDefinitions)).toBe(before);
  });

  it('validates ENUM values on assignment and applies the default TTL', async () => {
    const c = await seed.customer().create();
    const gid = toGlobalId('Customer', c.id);
    const bad = await app.gql<{ assignTag: { changed: boolean; userErrors: UserErrorShape[] } }>(ASSIGN, { input: { customerId: gid, tagKey: 'loyalty_tier', value: 'BRONZE' } });
    expect(bad.body.data!.assignTag.userErrors).toEqual([{ field: ['input', 'value'], message: expect.stringContaining('GOLD'), code: 'BAD_USER_INPUT' }]);
    const ok = await app.gql<{ assignTag: { changed: boolean; customerTag: { value: string; expiresAt: string } } }>(ASSIGN, { input: { customerId: gid, tagKey: 'loyalty_tier', value: 'GOLD' } });
    expect(ok.body.data!.assignTag.customerTag.value).toBe('GOLD');
    const days = (new Date(ok.body.data!.assignTag.customerTag.expiresAt).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
  });

  it('updates a definition and refuses to drop an allowed value still assigned', async () => {
    const [def] = await app.db.db.select().from(tagDefinitions).where(eq(tagDefinitions.key, 'loyalty_tier'));
    const id = toGlobalId('TagDefinition', def!.id);
    const refused = await app.gql<{ updateTagDefinition: DefPayload }>(UPDATE, { input: { id, allowedValues: ['SILVER'] } });
    expect(refused.body.data!.updateTagDefinition.userErrors).toEqual([{ field: ['input', 'allowedValues'], message: expect.any(String), code: 'CONFLICT' }]);
    const ok = await app.gql<{ updateTagDefinition: DefPayload }>(UPDATE, { input: { id, name: 'Loyalty level', allowedValues: ['GOLD', 'SILVER', 'BRONZE'], defaultTtl: null } });
    expect(ok.body.data!.updateTagDefinition).toMatchObject({ userErrors: [], tagDefinition: { name: 'Loyalty level', allowedValues: ['GOLD', 'SILVER', 'BRONZE'], defaultTtl: null, customerCount: 1 } });
  });

  it('renames a tag; filters on the old key keep matching', async () => {
    await create({ key: 'likes_tea', name: 'Likes tea', category: 'INTEREST' });
    const c = await seed.customer().create();
    await app.gql(ASSIGN, { input: { customerId: toGlobalId('Customer', c.id), tagKey: 'likes_tea' } });
    const [def] = await app.db.db.select().from(tagDefinitions).where(eq(tagDefinitions.key, 'likes_tea'));
    const res = await app.gql<{ renameTagDefinition: DefPayload }>(RENAME, { input: { id: toGlobalId('TagDefinition', def!.id), key: 'interest_tea', name: 'Interest: tea' } });
    expect(res.body.data!.renameTagDefinition).toMatchObject({ userErrors: [], tagDefinition: { key: 'interest_tea', name: 'Interest: tea', formerKeys: ['likes_tea'] } });
    for (const key of ['likes_tea', 'interest_tea']) {
      const n = await app.gql<{ customers: { totalCount: number } }>(COUNT_BY_TAG, { key });
      expect(n.body.data!.customers.totalCount).toBe(1);
    }
    // The old key cannot be given to another tag.
    const taken = await create({ key: 'likes_tea', name: 'x', category: 'CUSTOM' });
    expect(taken.userErrors.map((e) => e.code)).toEqual(['CONFLICT']);
  });

  it('merges two tags: assignments move, history stays, the source is deprecated', async () => {
    await create({ key: 'vip_old', name: 'VIP (old)', category: 'VALUE' });
    await create({ key: 'vip_new', name: 'VIP', category: 'VALUE' });
    const onlyOld = await seed.customer().create();
    const both = await seed.customer().create();
    for (const [c, key] of [[onlyOld, 'vip_old'], [both, 'vip_old'], [both, 'vip_new']] as const) {
      await app.gql(ASSIGN, { input: { customerId: toGlobalId('Customer', c.id), tagKey: key } });
    }
    const [src] = await app.db.db.select().from(tagDefinitions).where(eq(tagDefinitions.key, 'vip_old'));
    const [dst] = await app.db.db.select().from(tagDefinitions).where(eq(tagDefinitions.key, 'vip_new'));
    const res = await app.gql<{ mergeTagDefinitions: { moved: number; dropped: number; target: DefShape; source: DefShape; userErrors: UserErrorShape[] } }>(MERGE, {
      input: { sourceId: toGlobalId('TagDefinition', src!.id), targetId: toGlobalId('TagDefinition', dst!.id) },
    }, { role: 'MARKETER' });
    expect(res.body.errors).toBeUndefined();
    const m = res.body.data!.mergeTagDefinitions;
    expect(m).toMatchObject({ userErrors: [], moved: 1, dropped: 1, target: { key: 'vip_new', customerCount: 2, formerKeys: ['vip_old'] },
      source: { status: 'DEPRECATED', customerCount: 0, mergedInto: { key: 'vip_new' } } });
    expect(await app.db.db.$count(customerTags, eq(customerTags.tagId, src!.id))).toBe(0);
    // History of the source is kept, and the move is recorded on both tags.
    const events = await app.db.db.select().from(customerTagEvents).where(eq(customerTagEvents.customerId, onlyOld.id)).orderBy(customerTagEvents.occurredAt);
    const described = events.map((e) => `${e.tagId === src!.id ? 'vip_old' : 'vip_new'} ${e.action} ${e.reason}`);
    expect(described[0]).toBe('vip_old ADDED MANUAL');
    // The two merge events share one instant.
    expect(described.slice(1).sort()).toEqual(['vip_new ADDED MERGE', 'vip_old REMOVED MERGE']);
    // The old key now finds the target's holders.
    const n = await app.gql<{ customers: { totalCount: number } }>(COUNT_BY_TAG, { key: 'vip_old' });
    expect(n.body.data!.customers.totalCount).toBe(2);
  });

  it('deprecates a tag: existing assignments stay, new ones are refused', async () => {
    await create({ key: 'promo_2025', name: 'Promo 2025', category: 'CUSTOM' });
    const c = await seed.customer().create();
    const gid = toGlobalId('Customer', c.id);
    await app.gql(ASSIGN, { input: { customerId: gid, tagKey: 'promo_2025' } });
    const [def] = await app.db.db.select().from(tagDefinitions).where(eq(tagDefinitions.key, 'promo_2025'));
    const res = await app.gql<{ deprecateTagDefinition: DefPayload }>(DEPRECATE, { input: { id: toGlobalId('TagDefinition', def!.id) } });
    expect(res.body.data!.deprecateTagDefinition).toMatchObject({ userErrors: [], tagDefinition: { status: 'DEPRECATED', customerCount: 1 } });
    const other = await seed.customer().create();
    const refused = await app.gql<{ assignTag: { changed: boolean; userErrors: UserErrorShape[] } }>(ASSIGN, { input: { customerId: toGlobalId('Customer', other.id), tagKey: 'promo_2025' } });
    expect(refused.body.data!.assignTag).toMatchObject({ changed: false, userErrors: [{ field: ['input', 'tagKey'], code: 'CONFLICT' }] });
  });

  it.each([
    ['AGENT', CREATE, { input: { key: 'agent_tag', name: 'x', category: 'CUSTOM' } }],
    ['ANALYST', CREATE, { input: { key: 'analyst_tag', name: 'x', category: 'CUSTOM' } }],
    ['AGENT', DEPRECATE, { input: { id: toGlobalId('TagDefinition', '00000000-0000-4000-8000-000000000000') } }],
  ] as const)('forbids %s from changing the taxonomy', async (role, query, variables) => {
    const before = await app.db.db.$count(tagDefinitions);
    const res = await app.gql(query, variables, { role });
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(await app.db.db.$count(tagDefinitions)).toBe(before);
  });

  it('shows customerCount to staff but not usedBy to AGENT', async () => {
    const res = await app.gql<{ tagDefinitions: { key: string; customerCount: number }[] }>('{ tagDefinitions(category: VALUE) { key customerCount } }', {}, { role: 'AGENT' });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.tagDefinitions.find((d) => d.key === 'vip_new')?.customerCount).toBe(2);
    const denied = await app.gql('{ tagDefinitions { usedBy { relation } } }', {}, { role: 'AGENT' });
    expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
