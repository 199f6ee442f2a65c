import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerTagEvents, customerTags, tagDefinitions } from '../../../src/db/schema/index';
import { toGlobalId } from '../../../src/lib/global-id';
import { expireTags } from '../../../src/modules/tags/tag-jobs.service';
import { createSeeder, type Seeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

interface UserErrorShape { field: string[]; message: string; code: string }
interface BulkShape { matched: number; added: number; changed: number; removed: number; unchanged: number; userErrors: UserErrorShape[] }
interface HistoryEntry { action: string; value: string | null; previousValue: string | null; source: string; actor: string | null; reason: string | null; confidence: number | null }

const BULK_ASSIGN = `mutation ($input: BulkAssignTagInput!) { bulkAssignTag(input: $input) { matched added changed removed unchanged userErrors { field message code } } }`;
const BULK_REMOVE = `mutation ($input: BulkRemoveTagInput!) { bulkRemoveTag(input: $input) { matched added changed removed unchanged userErrors { field message code } } }`;
const ASSIGN = `mutation ($input: AssignTagInput!) { assignTag(input: $input) { changed customerTag { value source actor confidence assignedAt expiresAt } userErrors { field message code } } }`;
const REMOVE = `mutation ($input: RemoveTagInput!) { removeTag(input: $input) { removed userErrors { field message code } } }`;
const TAGS = `query ($id: ID!) { customer(id: $id) { tags { tag { key cardinality } value source actor confidence expiresAt } } }`;
const HISTORY = `query ($id: ID!, $key: String) { customer(id: $id) { tagHistory(tagKey: $key) { action value previousValue source actor reason confidence } } }`;
const BY_TAG = `query ($key: String!) { customers(filter: { tag: { key: $key } }) { totalCount } }`;

describe('tag assignments: provenance, history, bulk, expiry', () => {
  let app: TestApp;
  let seed: Seeder;
  beforeAll(async () => {
    app = await startApp();
    seed = createSeeder(app.db.db);
    await seed.tagDefinition('newsletter', { category: 'CUSTOM', valueType: 'BOOLEAN' });
    await seed.tagDefinition('segment_code', { category: 'CUSTOM', valueType: 'TEXT' });
    await seed.tagDefinition('flash_sale', { category: 'CUSTOM', valueType: 'BOOLEAN' });
    await app.db.db.insert(tagDefinitions).values({ key: 'hobbies', name: 'Hobbies', category: 'INTEREST', valueType: 'TEXT', cardinality: 'MULTIPLE' });
  });
  afterAll(async () => { await app?.close(); });

  const history = async (customerId: string, key?: string) => {
    const res = await app.gql<{ customer: { tagHistory: HistoryEntry[] } }>(HISTORY, { id: toGlobalId('Customer', customerId), key });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.customer.tagHistory;
  };

  it('records provenance and every add, change and removal in tagHistory (newest first)', async () => {
    const c = await seed.customer().create();
    const id = toGlobalId('Customer', c.id);
    await app.gql(ASSIGN, { input: { customerId: id, tagKey: 'segment_code', value: 'A', confidence: 0.7 } }, { role: 'AGENT' });
    await app.gql(ASSIGN, { input: { customerId: id, tagKey: 'segment_code', value: 'B' } }, { role: 'MARKETER' });
    await app.gql(REMOVE, { input: { customerId: id, tagKey: 'segment_code' } });
    expect(await history(c.id, 'segment_code')).toEqual([
      { action: 'REMOVED', value: null, previousValue: 'B', source: 'MANUAL', actor: 'test-admin', reason: 'MANUAL', confidence: null },
      { action: 'CHANGED', value: 'B', previousValue: 'A', source: 'MANUAL', actor: 'test-marketer', reason: 'MANUAL', confidence: null },
      { action: 'ADDED', value: 'A', previousValue: null, source: 'MANUAL', actor: 'test-agent', reason: 'MANUAL', confidence: 0.7 },
    ]);
    const analyst = await app.gql<{ customer: { tagHistory: HistoryEntry[] } }>(HISTORY, { id, key: 'segment_code' }, { role: 'ANALYST' });
    expect(analyst.body.data!.customer.tagHistory.map((h) => h.actor)).toEqual([null, null, null]);
  });

  it('holds several values of a MULTIPLE tag and removes one of them', async () => {
    const c = await seed.customer().create();
    const id = toGlobalId('Customer', c.id);
    for (const v of ['chess', 'hiking']) await app.gql(ASSIGN, { input: { customerId: id, tagKey: 'hobbies', value: v } });
    const tags = await app.gql<{ customer: { tags: { value: string }[] } }>(TAGS, { id });
    expect(tags.body.data!.customer.tags.map((t) => t.value)).toEqual(['chess', 'hiking']);
    await app.gql(REMOVE, { input: { customerId: id, tagKey: 'hobbies', value: 'chess' } });
    const after = await app.gql<{ customer: { tags: { value: string }[] } }>(TAGS, { id });
    expect(after.body.data!.customer.tags.map((t) => t.value)).toEqual(['hiking']);
  });

  it('bulk-assigns by filter in one go, with history, and is idempotent', async () => {
    const de = await Promise.all([1, 2, 3].map(() => seed.customer({ country: 'DE' }).create()));
    await seed.customer({ country: 'FR' }).create();
    const input = { customers: { filter: { countries: ['DE'] } }, tagKey: 'newsletter', source: 'IMPORT', confidence: 0.95 };
    const first = await app.gql<{ bulkAssignTag: BulkShape }>(BULK_ASSIGN, { input }, { role: 'MARKETER' });
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data!.bulkAssignTag).toEqual({ matched: 3, added: 3, changed: 0, removed: 0, unchanged: 0, userErrors: [] });
    // One statement for the whole selection, whatever its size (plus the tag lookup and the lock).
    expect(first.statements).toBeLessThanOrEqual(6);
    const again = await app.gql<{ bulkAssignTag: BulkShape }>(BULK_ASSIGN, { input });
    expect(again.body.data!.bulkAssignTag).toMatchObject({ matched: 3, added: 0, unchanged: 3 });
    const tags = await app.gql<{ customer: { tags: unknown[] } }>(TAGS, { id: toGlobalId('Customer', de[0]!.id) });
    expect(tags.body.data!.customer.tags).toEqual([{ tag: { key: 'newsletter', cardinality: 'SINGLE' }, value: null, source: 'IMPORT', actor: 'test-marketer', confidence: 0.95, expiresAt: null }]);
    expect(await history(de[1]!.id, 'newsletter')).toEqual([
      { action: 'ADDED', value: null, previousValue: null, source: 'IMPORT', actor: 'test-marketer', reason: 'IMPORT', confidence: 0.95 },
    ]);
    const n = await app.gql<{ customers: { totalCount: number } }>(BY_TAG, { key: 'newsletter' });
    expect(n.body.data!.customers.totalCount).toBe(3);
  });

  it('bulk-assigns a value by ids (changing different values) and bulk-removes by ids', async () => {
    const a = await seed.customer().create();
    const b = await seed.customer().create();
    await app.gql(ASSIGN, { input: { customerId: toGlobalId('Customer', a.id), tagKey: 'segment_code', value: 'OLD' } });
    const ids = [a.id, b.id].map((i) => toGlobalId('Customer', i));
    const res = await app.gql<{ bulkAssignTag: BulkShape }>(BULK_ASSIGN, { input: { customers: { ids }, tagKey: 'segment_code', value: 'NEW' } }, { role: 'AGENT' });
    expect(res.body.data!.bulkAssignTag).toEqual({ matched: 2, added: 1, changed: 1, removed: 0, unchanged: 0, userErrors: [] });
    expect((await history(a.id, 'segment_code'))[0]).toMatchObject({ action: 'CHANGED', value: 'NEW', previousValue: 'OLD', reason: 'BULK' });
    const removed = await app.gql<{ bulkRemoveTag: BulkShape }>(BULK_REMOVE, { input: { customers: { ids }, tagKey: 'segment_code' } });
    expect(removed.body.data!.bulkRemoveTag).toEqual({ matched: 2, added: 0, changed: 0, removed: 2, unchanged: 0, userErrors: [] });
    expect((await history(b.id, 'segment_code'))[0]).toMatchObject({ action: 'REMOVED', previousValue: 'NEW', reason: 'BULK' });
  });

  it.each([
    ['both ids and a filter', { customers: { ids: [], filter: {} }, tagKey: 'newsletter' }, ['input', 'customers'], 'BAD_USER_INPUT'],
    ['a malformed id', { customers: { ids: ['nope'] }, tagKey: 'newsletter' }, ['input', 'customers', 'ids', '0'], 'BAD_USER_INPUT'],
    ['a malformed filter', { customers: { filter: { countries: ['Germany'] } }, tagKey: 'newsletter' }, ['input', 'customers', 'filter', 'countries'], 'BAD_USER_INPUT'],
    ['source RULE', { customers: { ids: [] }, tagKey: 'newsletter', source: 'RULE' }, ['input', 'source'], 'BAD_USER_INPUT'],
    ['an unknown tag', { customers: { ids: [] }, tagKey: 'nope' }, ['input', 'tagKey'], 'NOT_FOUND'],
  ])('refuses a bulk assignment with %s and writes nothing', async (_l, input, field, code) => {
    const before = await app.db.db.$count(customerTagEvents);
    const res = await app.gql<{ bulkAssignTag: BulkShape }>(BULK_ASSIGN, { input });
    expect(res.body.data!.bulkAssignTag.userErrors).toEqual([{ field, message: expect.any(String), code }]);
    expect(await app.db.db.$count(customerTagEvents)).toBe(before);
  });

  it('forbids ANALYST bulk assignment', async () => {
    const res = await app.gql(BULK_ASSIGN, { input: { customers: { filter: {} }, tagKey: 'newsletter' } }, { role: 'ANALYST' });
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });

  it('hides a tag the moment it expires (reads and filters), and the cleanup job records REMOVED', async () => {
    const c = await seed.customer().create();
    const id = toGlobalId('Customer', c.id);
    const expiresAt = new Date(Date.now() + 1500);
    const p = await app.gql<{ assignTag: { changed: boolean } }>(ASSIGN, { input: { customerId: id, tagKey: 'flash_sale', expiresAt: expiresAt.toISOString() } });
    expect(p.body.data!.assignTag.changed).toBe(true);
    expect((await app.gql<{ customers: { totalCount: number } }>(BY_TAG, { key: 'flash_sale' })).body.data!.customers.totalCount).toBe(1);
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt.getTime() - Date.now()) + 100));
    expect((await app.gql<{ customer: { tags: unknown[] } }>(TAGS, { id })).body.data!.customer.tags).toEqual([]);
    expect((await app.gql<{ customers: { totalCount: number } }>(BY_TAG, { key: 'flash_sale' })).body.data!.customers.totalCount).toBe(0);
    // Still stored until the job runs.
    const [def] = await app.db.db.select().from(tagDefinitions).where(eq(tagDefinitions.key, 'flash_sale'));
    expect(await app.db.db.$count(customerTags, and(eq(customerTags.customerId, c.id), eq(customerTags.tagId, def!.id)))).toBe(1);

    const r = await expireTags(app.db.db);
    expect(r.removed).toBeGreaterThanOrEqual(1);
    expect(await app.db.db.$count(customerTags, and(eq(customerTags.customerId, c.id), eq(customerTags.tagId, def!.id)))).toBe(0);
    expect(await history(c.id, 'flash_sale')).toEqual([
      { action: 'REMOVED', value: null, previousValue: null, source: 'MANUAL', actor: 'system:expiry', reason: 'EXPIRED', confidence: null },
      { action: 'ADDED', value: null, previousValue: null, source: 'MANUAL', actor: 'test-admin', reason: 'MANUAL', confidence: null },
    ]);
    const [ev] = await app.db.db.select().from(customerTagEvents)
      .where(and(eq(customerTagEvents.customerId, c.id), eq(customerTagEvents.action, 'REMOVED')));
    expect(ev!.occurredAt.getTime()).toBe(expiresAt.getTime());
    // Nothing left to clean: a second run changes nothing.
    expect((await expireTags(app.db.db)).removed).toBe(0);
  });
});
