import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerTagEvents, customerTags } from '../../../src/db/schema/index';
import { toGlobalId } from '../../../src/lib/global-id';
import { createSeeder, type Seeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

interface UserErrorShape { field: string[]; message: string; code: string }
interface CustomerTagShape { tag: { key: string; category: string }; value: string | null; source: string; actor: string | null; confidence: number | null; expiresAt: string | null }
interface AssignData { assignTag: { changed: boolean; customerTag: CustomerTagShape | null; customer: { id: string } | null; userErrors: UserErrorShape[] } }
interface RemoveData { removeTag: { removed: boolean; customer: { id: string } | null; userErrors: UserErrorShape[] } }
interface TagsData { customer: { tags: { tag: { key: string }; value: string | null }[] } }
interface TimelineData {
  customer: { timeline: { edges: { node: { __typename: string; tag?: { key: string }; action?: string; value?: string | null; previousValue?: string | null } }[] } };
}

const ASSIGN = `mutation ($input: AssignTagInput!) { assignTag(input: $input) {
  changed customerTag { tag { key category } value source actor confidence expiresAt } customer { id } userErrors { field message code } } }`;
const REMOVE = `mutation ($input: RemoveTagInput!) { removeTag(input: $input) { removed customer { id } userErrors { field message code } } }`;
const TAGS = `query ($id: ID!, $category: TagCategory) { customer(id: $id) { tags(category: $category) { tag { key } value } } }`;
const TIMELINE = `query ($id: ID!) { customer(id: $id) { timeline(first: 50) { edges { node {
  __typename ... on TagChange { tag { key } action value previousValue } } } } } }`;

describe('assignTag and removeTag', () => {
  let app: TestApp;
  let seed: Seeder;
  beforeAll(async () => {
    app = await startApp();
    seed = createSeeder(app.db.db);
    await seed.tagDefinition('vip', { category: 'VALUE', valueType: 'BOOLEAN' });
    await seed.tagDefinition('favourite_colour', { category: 'INTEREST', valueType: 'TEXT' });
    await seed.tagDefinition('interest_tea', { category: 'INTEREST', valueType: 'BOOLEAN' });
    await seed.tagDefinition('clv_score', { category: 'VALUE', valueType: 'NUMBER' });
  });
  afterAll(async () => { await app?.close(); });

  const newCustomer = async () => {
    const row = await seed.customer().create();
    return { id: row.id, gid: toGlobalId('Customer', row.id) };
  };
  const assign = async (input: Record<string, unknown>) => {
    const res = await app.gql<AssignData>(ASSIGN, { input });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.assignTag;
  };
  const remove = async (input: Record<string, unknown>) => {
    const res = await app.gql<RemoveData>(REMOVE, { input });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.removeTag;
  };
  const tagsOf = async (gid: string, category?: string) => {
    const res = await app.gql<TagsData>(TAGS, { id: gid, category });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.customer.tags;
  };
  const counts = async () => ({ tags: await app.db.db.$count(customerTags), events: await app.db.db.$count(customerTagEvents) });
  const eventsOf = (customerId: string) => app.db.db.select().from(customerTagEvents)
    .where(eq(customerTagEvents.customerId, customerId)).orderBy(customerTagEvents.occurredAt);

  it('assigns a tag, reports the change and shows it in customer.tags', async () => {
    const c = await newCustomer();
    const p = await assign({ customerId: c.gid, tagKey: 'vip', confidence: 0.9 });
    expect(p.userErrors).toEqual([]);
    expect(p.changed).toBe(true);
    expect(p.customer).toEqual({ id: c.gid });
    expect(p.customerTag).toEqual({
      tag: { key: 'vip', category: 'VALUE' }, value: null, source: 'MANUAL', actor: 'test-admin', confidence: 0.9, expiresAt: null,
    });
    expect(await tagsOf(c.gid)).toEqual([{ tag: { key: 'vip' }, value: null }]);
    expect((await eventsOf(c.id)).map((e) => e.action)).toEqual(['ADDED']);
  });

  it('reports no change and writes no history for the same assignment again', async () => {
    const c = await newCustomer();
    await assign({ customerId: c.gid, tagKey: 'favourite_colour', value: 'green' });
    const before = await counts();
    const p = await assign({ customerId: c.gid, tagKey: 'favourite_colour', value: ' green ' });
    expect(p.userErrors).toEqual([]);
    expect(p.changed).toBe(false);
    expect(p.customerTag?.value).toBe('green');
    expect(await counts()).toEqual(before);
  });

  it('records a CHANGED event with the previous value when the value changes', async () => {
    const c = await newCustomer();
    await assign({ customerId: c.gid, tagKey: 'favourite_colour', value: 'green' });
    const p = await assign({ customerId: c.gid, tagKey: 'favourite_colour', value: 'blue' });
    expect(p.changed).toBe(true);
    expect(await tagsOf(c.gid)).toEqual([{ tag: { key: 'favourite_colour' }, value: 'blue' }]);
    expect((await eventsOf(c.id)).map((e) => ({ action: e.action, value: e.value, previousValue: e.previousValue }))).toEqual([
      { action: 'ADDED', value: 'green', previousValue: null },
      { action: 'CHANGED', value: 'blue', previousValue: 'green' },
    ]);
  });

  it('removes a tag with a REMOVED event, and a second removal changes nothing', async () => {
    const c = await newCustomer();
    await assign({ customerId: c.gid, tagKey: 'favourite_colour', value: 'red' });
    const first = await remove({ customerId: c.gid, tagKey: 'favourite_colour' });
    expect(first).toEqual({ removed: true, customer: { id: c.gid }, userErrors: [] });
    expect(await tagsOf(c.gid)).toEqual([]);
    const events = await eventsOf(c.id);
    expect(events.at(-1)).toMatchObject({ action: 'REMOVED', value: null, previousValue: 'red' });

    const before = await counts();
    const second = await remove({ customerId: c.gid, tagKey: 'favourite_colour' });
    expect(second).toEqual({ removed: false, customer: { id: c.gid }, userErrors: [] });
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['a non-numeric value for a NUMBER tag', { tagKey: 'clv_score', value: 'abc' }, ['input', 'value'], 'BAD_USER_INPUT'],
    ['no value for a NUMBER tag', { tagKey: 'clv_score' }, ['input', 'value'], 'BAD_USER_INPUT'],
    ['a value for a BOOLEAN tag', { tagKey: 'vip', value: 'yes' }, ['input', 'value'], 'BAD_USER_INPUT'],
    ['a blank value for a TEXT tag', { tagKey: 'favourite_colour', value: '   ' }, ['input', 'value'], 'BAD_USER_INPUT'],
    ['an expiresAt in the past', { tagKey: 'vip', expiresAt: '2020-01-01T00:00:00Z' }, ['input', 'expiresAt'], 'BAD_USER_INPUT'],
    ['a confidence above 1', { tagKey: 'vip', confidence: 1.5 }, ['input', 'confidence'], 'BAD_USER_INPUT'],
    ['a negative confidence', { tagKey: 'vip', confidence: -0.1 }, ['input', 'confidence'], 'BAD_USER_INPUT'],
    ['an unknown tagKey', { tagKey: 'no_such_tag' }, ['input', 'tagKey'], 'NOT_FOUND'],
  ])('returns userErrors and writes nothing for %s', async (_label, fields, path, code) => {
    const c = await newCustomer();
    const before = await counts();
    const p = await assign({ customerId: c.gid, ...fields });
    expect(p.changed).toBe(false);
    expect(p.customerTag).toBeNull();
    expect(p.userErrors).toEqual([{ field: path, message: expect.any(String), code }]);
    expect(await counts()).toEqual(before);
  });

  it('returns userErrors for a malformed or unknown customer id', async () => {
    const malformed = await assign({ customerId: 'garbage', tagKey: 'vip' });
    expect(malformed.userErrors).toEqual([{ field: ['input', 'customerId'], message: expect.any(String), code: 'BAD_USER_INPUT' }]);
    const unknown = await remove({ customerId: toGlobalId('Customer', '00000000-0000-4000-8000-000000000000'), tagKey: 'vip' });
    expect(unknown).toEqual({ removed: false, customer: null, userErrors: [{ field: ['input', 'customerId'], message: expect.any(String), code: 'NOT_FOUND' }] });
  });

  it('accepts a numeric value for a NUMBER tag', async () => {
    const c = await newCustomer();
    const p = await assign({ customerId: c.gid, tagKey: 'clv_score', value: '42.5' });
    expect(p.userErrors).toEqual([]);
    expect(p.customerTag?.value).toBe('42.5');
  });

  it('hides an assignment whose expiresAt has passed', async () => {
    const row = await seed.customer()
      .withTag('expired_promo', null, { expiresAt: new Date(Date.now() - 60_000) })
      .withTag('live_promo', null, { expiresAt: new Date(Date.now() + 3_600_000) })
      .create();
    expect(await tagsOf(toGlobalId('Customer', row.id))).toEqual([{ tag: { key: 'live_promo' }, value: null }]);
    // The expired row is still stored: it is hidden on read, not deleted.
    expect(await app.db.db.$count(customerTags, eq(customerTags.customerId, row.id))).toBe(2);
  });

  it('reassigning an expired tag records it as ADDED again', async () => {
    const row = await seed.customer().withTag('vip', null, { expiresAt: new Date(Date.now() - 60_000) }).create();
    const p = await assign({ customerId: toGlobalId('Customer', row.id), tagKey: 'vip' });
    expect(p.changed).toBe(true);
    expect((await eventsOf(row.id)).map((e) => e.action)).toEqual(['ADDED', 'ADDED']);
  });

  it('filters customer.tags by category', async () => {
    const c = await newCustomer();
    await assign({ customerId: c.gid, tagKey: 'vip' });
    await assign({ customerId: c.gid, tagKey: 'interest_tea' });
    await assign({ customerId: c.gid, tagKey: 'favourite_colour', value: 'teal' });
    const interest = await tagsOf(c.gid, 'INTEREST');
    expect(interest.map((t) => t.tag.key).sort()).toEqual(['favourite_colour', 'interest_tea']);
    expect((await tagsOf(c.gid, 'VALUE')).map((t) => t.tag.key)).toEqual(['vip']);
    expect(await tagsOf(c.gid, 'LIFECYCLE')).toEqual([]);
  });

  it('shows tag changes in the timeline as TagChange with tag key and action', async () => {
    const c = await newCustomer();
    await assign({ customerId: c.gid, tagKey: 'favourite_colour', value: 'green' });
    await assign({ customerId: c.gid, tagKey: 'favourite_colour', value: 'blue' });
    await remove({ customerId: c.gid, tagKey: 'favourite_colour' });
    const res = await app.gql<TimelineData>(TIMELINE, { id: c.gid });
    expect(res.body.errors).toBeUndefined();
    // Newest first.
    expect(res.body.data!.customer.timeline.edges.map((e) => e.node)).toEqual([
      { __typename: 'TagChange', tag: { key: 'favourite_colour' }, action: 'REMOVED', value: null, previousValue: 'blue' },
      { __typename: 'TagChange', tag: { key: 'favourite_colour' }, action: 'CHANGED', value: 'blue', previousValue: 'green' },
      { __typename: 'TagChange', tag: { key: 'favourite_colour' }, action: 'ADDED', value: 'green', previousValue: null },
    ]);
  });

  it('forbids ANALYST from assigning tags and writes nothing', async () => {
    const c = await newCustomer();
    const before = await counts();
    const res = await app.gql<AssignData>(ASSIGN, { input: { customerId: c.gid, tagKey: 'vip' } }, { role: 'ANALYST' });
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(await counts()).toEqual(before);
  });

  it('lets MARKETER assign tags', async () => {
    const c = await newCustomer();
    const res = await app.gql<AssignData>(ASSIGN, { input: { customerId: c.gid, tagKey: 'vip' } }, { role: 'MARKETER' });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.assignTag).toMatchObject({ changed: true, customerTag: { actor: 'test-marketer' } });
  });
});
