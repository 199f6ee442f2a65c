import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRows } from '../../../src/db/client';
import { automationEvents, customerTags } from '../../../src/db/schema/index';
import { toGlobalId } from '../../../src/lib/global-id';
import { countEvents } from '../../../src/modules/automation/automation.repository';
import { expireTags } from '../../../src/modules/tags/tag-jobs.service';
import { createSeeder, type Seeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

const ASSIGN = 'mutation ($input: AssignTagInput!) { assignTag(input: $input) { changed userErrors { message } } }';
const REMOVE = 'mutation ($input: RemoveTagInput!) { removeTag(input: $input) { removed userErrors { message } } }';

describe('automation outbox', () => {
  let app: TestApp;
  let seed: Seeder;
  beforeAll(async () => {
    app = await startApp();
    seed = createSeeder(app.db.db);
    await seed.tagDefinition('vip', { category: 'VALUE', valueType: 'BOOLEAN' });
    await seed.tagDefinition('colour', { category: 'INTEREST', valueType: 'TEXT' });
  }, 240_000);
  afterAll(async () => { await app?.close(); });

  const eventsOf = (customerId: string) => execRows<{ type: string; payload: Record<string, unknown> | string }>(app.db.db, sql`
    SELECT type, payload FROM automation_events WHERE customer_id = ${customerId}::uuid ORDER BY seq`)
    .then((rows) => rows.map((r) => ({ type: r.type, payload: typeof r.payload === 'string' ? JSON.parse(r.payload) as Record<string, unknown> : r.payload })));

  it('writes TAG_ADDED / TAG_CHANGED / TAG_REMOVED for the tag mutations, and nothing for a no-op', async () => {
    const c = await seed.customer().create();
    const id = toGlobalId('Customer', c.id);
    await app.gql(ASSIGN, { input: { customerId: id, tagKey: 'colour', value: 'green' } });
    await app.gql(ASSIGN, { input: { customerId: id, tagKey: 'colour', value: 'green' } });
    await app.gql(ASSIGN, { input: { customerId: id, tagKey: 'colour', value: 'blue' } });
    await app.gql(REMOVE, { input: { customerId: id, tagKey: 'colour' } });
    expect(await eventsOf(c.id)).toEqual([
      { type: 'TAG_ADDED', payload: { tagKey: 'colour', tagCategory: 'INTEREST', value: 'green', previousValue: null, source: 'MANUAL' } },
      { type: 'TAG_CHANGED', payload: { tagKey: 'colour', tagCategory: 'INTEREST', value: 'blue', previousValue: 'green', source: 'MANUAL' } },
      { type: 'TAG_REMOVED', payload: { tagKey: 'colour', tagCategory: 'INTEREST', value: null, previousValue: 'blue', source: 'MANUAL' } },
    ]);
  });

  it('writes TAG_REMOVED once when the expiry job removes a tag that has expired', async () => {
    const c = await seed.customer().create();
    const colour = await seed.tagDefinition('colour');
    await app.db.db.insert(customerTags).values({
      customerId: c.id, tagId: colour.id, value: 'red', source: 'MANUAL', actor: 'agent-7', expiresAt: new Date(Date.now() + 1500),
    });
    await new Promise((r) => setTimeout(r, 1600));
    expect((await expireTags(app.db.db)).removed).toBeGreaterThanOrEqual(1);
    expect(await eventsOf(c.id)).toEqual([
      { type: 'TAG_ADDED', payload: expect.objectContaining({ tagKey: 'colour', value: 'red' }) },
      { type: 'TAG_REMOVED', payload: { tagKey: 'colour', tagCategory: 'INTEREST', value: null, previousValue: 'red', source: 'MANUAL' } },
    ]);
    // A second run finds nothing: no second event.
    await expireTags(app.db.db);
    expect((await eventsOf(c.id)).filter((e) => e.type === 'TAG_REMOVED')).toHaveLength(1);
  });

  it('writes the event in the transaction of the tag write: visible inside it, gone when it rolls back', async () => {
    const c = await seed.customer().create();
    const vip = await seed.tagDefinition('vip');
    const before = await countEvents(app.db.db, c.id);
    let insideTx = -1;
    await expect(app.db.db.transaction(async (tx) => {
      await tx.insert(customerTags).values({ customerId: c.id, tagId: vip.id, source: 'IMPORT', actor: 'import-job' });
      insideTx = await countEvents(tx, c.id);
      throw new Error('import row 17 failed');
    })).rejects.toThrow('import row 17 failed');
    expect(insideTx).toBe(before + 1);
    expect(await countEvents(app.db.db, c.id)).toBe(before);
    expect(await app.db.db.select().from(customerTags).where(eq(customerTags.customerId, c.id))).toEqual([]);

    await app.db.db.transaction(async (tx) => {
      await tx.insert(customerTags).values({ customerId: c.id, tagId: vip.id, source: 'IMPORT', actor: 'import-job' });
    });
    expect(await eventsOf(c.id)).toEqual([{ type: 'TAG_ADDED', payload: expect.objectContaining({ tagKey: 'vip', source: 'IMPORT' }) }]);
  });

  it('covers set-based writes from any path (one statement, many customers) and expiry', async () => {
    const cs = await Promise.all([1, 2, 3].map(() => seed.customer().create()));
    const vip = await seed.tagDefinition('vip');
    const past = new Date(Date.now() - 86_400_000);
    // A rule-style bulk insert: two live tags, one already expired (not held, so no event).
    await app.db.db.insert(customerTags).values([
      { customerId: cs[0]!.id, tagId: vip.id, source: 'RULE', actor: 'rule:vip' },
      { customerId: cs[1]!.id, tagId: vip.id, source: 'RULE', actor: 'rule:vip' },
      { customerId: cs[2]!.id, tagId: vip.id, source: 'RULE', actor: 'rule:vip', expiresAt: past },
    ]);
    // Expiring one and reviving the expired one in a single UPDATE.
    await app.db.db.update(customerTags).set({ expiresAt: sql`CASE WHEN customer_id = ${cs[1]!.id}::uuid THEN now() - interval '1 hour' ELSE NULL END` })
      .where(and(eq(customerTags.tagId, vip.id), sql`customer_id = ANY(${sql.param([cs[1]!.id, cs[2]!.id])}::uuid[])`));
    await app.db.db.delete(customerTags).where(eq(customerTags.customerId, cs[0]!.id));
    expect((await eventsOf(cs[0]!.id)).map((e) => e.type)).toEqual(['TAG_ADDED', 'TAG_REMOVED']);
    expect((await eventsOf(cs[1]!.id)).map((e) => e.type)).toEqual(['TAG_ADDED', 'TAG_REMOVED']);
    expect((await eventsOf(cs[2]!.id)).map((e) => e.type)).toEqual(['TAG_ADDED']);
  });

  it('writes SEGMENT_ENTERED / SEGMENT_EXITED with the segment and its version', async () => {
    const c = await seed.customer({ country: 'IE' }).create();
    const created = await app.gql<{ createSegment: { segment: { id: string } } }>(
      'mutation { createSegment(input: { name: "Ireland", kind: DYNAMIC, filter: { country: "IE" } }) { segment { id } userErrors { message } } }');
    const segmentId = created.body.data!.createSegment.segment.id;
    await app.db.db.execute(sql`UPDATE customers SET country = 'GB' WHERE id = ${c.id}::uuid`);
    await app.gql('mutation ($id: ID!) { refreshSegment(id: $id) { exited } }', { id: segmentId });
    const events = await eventsOf(c.id);
    const segmentUuid = Buffer.from(segmentId, 'base64url').toString().split(':')[1];
    expect(events).toEqual([
      { type: 'SEGMENT_ENTERED', payload: { segmentId: segmentUuid, segmentName: 'Ireland', segmentVersion: 1 } },
      { type: 'SEGMENT_EXITED', payload: { segmentId: segmentUuid, segmentName: 'Ireland', segmentVersion: 1 } },
    ]);
    const [n] = await execRows<{ n: number }>(app.db.db, sql`SELECT count(*)::int AS n FROM ${automationEvents} WHERE type LIKE 'SEGMENT_%' AND customer_id = ${c.id}::uuid`);
    expect(n!.n).toBe(2);
  });

  it('keeps no events of an erased customer (tag values may be personal) and emits none for the erasure', async () => {
    const c = await seed.customer().create();
    const id = toGlobalId('Customer', c.id);
    await app.gql(ASSIGN, { input: { customerId: id, tagKey: 'colour', value: 'likes jazz, lives at 1 Elm St' } });
    expect(await countEvents(app.db.db, c.id)).toBe(1);
    const res = await app.gql<{ eraseCustomer: { erased: boolean } }>(
      'mutation ($id: ID!) { eraseCustomer(input: { customerId: $id, reason: "DSR" }) { erased } }', { id });
    expect(res.body.data!.eraseCustomer.erased).toBe(true);
    expect(await countEvents(app.db.db, c.id)).toBe(0);
    const [hits] = await execRows<{ n: number }>(app.db.db, sql`SELECT count(*)::int AS n FROM automation_events WHERE payload::text LIKE '%jazz%'`);
    expect(hits!.n).toBe(0);
  });

  it('gives events time-ordered ids (UUID version 7, milliseconds first)', async () => {
    const c = await seed.customer().create();
    const vip = await seed.tagDefinition('vip');
    const before = Date.now();
    await app.db.db.insert(customerTags).values({ customerId: c.id, tagId: vip.id, source: 'IMPORT', actor: 'import-job' });
    const [e] = await app.db.db.select().from(automationEvents).where(eq(automationEvents.customerId, c.id));
    expect(e!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(e!.id.replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before - 5_000);
    expect(ms).toBeLessThanOrEqual(Date.now() + 5_000);
  });

  it('pairs old and new rows of a multi-value tag by value: one statement touching two values emits no TAG_CHANGED', async () => {
    const c = await seed.customer().create();
    const colours = await seed.tagDefinition('colours', { category: 'INTEREST', valueType: 'TEXT', cardinality: 'MULTIPLE' });
    await app.db.db.insert(customerTags).values(['red', 'blue'].map((v) => ({ customerId: c.id, tagId: colours.id, valueKey: v, value: v, source: 'MODEL', confidence: '0.4000' })));
    await app.db.db.update(customerTags).set({ confidence: '0.5000' }).where(and(eq(customerTags.customerId, c.id), eq(customerTags.tagId, colours.id)));
    expect((await eventsOf(c.id)).map((e) => e.type)).toEqual(['TAG_ADDED', 'TAG_ADDED']);
  });
});
