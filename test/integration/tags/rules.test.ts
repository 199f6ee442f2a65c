import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerTags, tagRuleRuns, tagRules } from '../../../src/db/schema/index';
import { toGlobalId } from '../../../src/lib/global-id';
import { previewTagRule, runEnabledRules } from '../../../src/modules/tags/tag-rules.service';
import { createSeeder, type Seeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

interface UserErrorShape { field: string[]; message: string; code: string }
interface RunShape { trigger: string; ruleVersion: number; added: number; changed: number; removed: number; kept: number; scopedCustomers: number | null; durationMs: number }
interface RulePayload { rule: { id: string; key: string; version: number; enabled: boolean; customerCount: number; tag: { key: string } } | null; run: RunShape | null; userErrors: UserErrorShape[] }
interface PreviewShape { matching: number; gain: number; change: number; lose: number; keep: number; gainSample: { id: string }[]; loseSample: { id: string }[]; userErrors: UserErrorShape[] }

const RULE_FIELDS = 'rule { id key version enabled customerCount tag { key } } run { trigger ruleVersion added changed removed kept scopedCustomers durationMs } userErrors { field message code }';
const CREATE_RULE = `mutation ($input: TagRuleInput!) { createTagRule(input: $input) { ${RULE_FIELDS} } }`;
const UPDATE_RULE = `mutation ($input: UpdateTagRuleInput!) { updateTagRule(input: $input) { ${RULE_FIELDS} } }`;
const DISABLE_RULE = `mutation ($id: ID!) { disableTagRule(id: $id, removeAssignments: true) { ${RULE_FIELDS} } }`;
const PREVIEW = `query ($id: ID, $input: TagRuleInput) { previewTagRule(id: $id, input: $input, sampleSize: 10) {
  matching gain change lose keep gainSample { id } loseSample { id } userErrors { field message code } } }`;
const TAGS = `query ($id: ID!) { customer(id: $id) { tags { tag { key } value source actor rule { key } ruleVersion } } }`;
const HISTORY = `query ($id: ID!) { customer(id: $id) { tagHistory(tagKey: "frequent_recent") { action source reason ruleVersion rule { key } } } }`;
const RECORD_TX = `mutation ($input: RecordTransactionInput!) { recordTransaction(input: $input) { created userErrors { message } } }`;

const DAY = 86_400_000;
const daysAgo = (n: number, from = Date.now()) => new Date(from - n * DAY);

// Three conditions: 3+ orders in the last 90 days, in the US, and not opted out.
const FILTER = {
  transactions: { window: { last: 'P90D' }, count: { min: 3 } },
  countries: ['US'],
  not: { tag: { key: 'opted_out' } },
};

describe('tag rules', () => {
  let app: TestApp;
  let seed: Seeder;
  const ids: Record<string, string> = {};
  const gid = (name: string) => toGlobalId('Customer', ids[name]!);

  beforeAll(async () => {
    app = await startApp();
    seed = createSeeder(app.db.db);
    await seed.tagDefinition('frequent_recent', { category: 'BEHAVIOR', valueType: 'BOOLEAN' });
    await seed.tagDefinition('opted_out', { category: 'CUSTOM', valueType: 'BOOLEAN' });
    await app.db.db.execute(`INSERT INTO tag_definitions (key, name, category, value_type, allowed_values) VALUES ('spend_band', 'Spend band', 'VALUE', 'ENUM', ARRAY['LOW','MID','HIGH'])`);
    const make = async (name: string, b: ReturnType<Seeder['customer']>) => { ids[name] = (await b.create()).id; };
    await make('recent', seed.customer().withTransactions(3, { occurredAt: daysAgo(10) }));
    // Matches now, falls out of the 90-day window within 10 days.
    await make('fading', seed.customer().withTransactions(3, { occurredAt: daysAgo(84) }));
    await make('two', seed.customer().withTransactions(2, { occurredAt: daysAgo(5) }));
    await make('german', seed.customer({ country: 'DE' }).withTransactions(3, { occurredAt: daysAgo(5) }));
    await make('optedOut', seed.customer().withTransactions(4, { occurredAt: daysAgo(5) }).withTag('opted_out'));
    // Holds the tag by hand: the rule keeps it and never takes it away.
    await make('manual', seed.customer().withTransactions(3, { occurredAt: daysAgo(20) }).withTag('frequent_recent'));
  });
  afterAll(async () => { await app?.close(); });

  const input = { key: 'frequent_recent_us', name: 'Frequent recent buyers (US)', tagKey: 'frequent_recent', filter: FILTER };
  let ruleId = '';

  it('previews an unsaved rule without writing, and applying it changes exactly what the preview said', async () => {
    const before = { tags: await app.db.db.$count(customerTags), rules: await app.db.db.$count(tagRules) };
    const preview = await app.gql<{ previewTagRule: PreviewShape }>(PREVIEW, { input }, { role: 'MARKETER' });
    expect(preview.body.errors).toBeUndefined();
    const p = preview.body.data!.previewTagRule;
    expect(p).toMatchObject({ userErrors: [], matching: 3, gain: 2, change: 0, lose: 0, keep: 1 });
    expect(p.gainSample.map((c) => c.id).sort()).toEqual([gid('recent'), gid('fading')].sort());
    expect({ tags: await app.db.db.$count(customerTags), rules: await app.db.db.$count(tagRules) }).toEqual(before);
    // The rule engine compiles the filter set-based (grouped semi-joins); lists use per-customer
    // subqueries. Both must find the same customers.
    const listed = await app.gql<{ customers: { totalCount: number } }>('query ($f: CustomerFilter) { customers(filter: $f) { totalCount } }', { f: FILTER });
    expect(listed.body.data!.customers.totalCount).toBe(p.matching);

    const created = await app.gql<{ createTagRule: RulePayload }>(CREATE_RULE, { input: { ...input, enabled: true } }, { role: 'MARKETER' });
    expect(created.body.errors).toBeUndefined();
    const c = created.body.data!.createTagRule;
    expect(c.userErrors).toEqual([]);
    expect(c.run).toMatchObject({ trigger: 'ENABLE', ruleVersion: 1, added: p.gain, changed: p.change, removed: p.lose, kept: p.keep, scopedCustomers: null });
    expect(c.rule).toMatchObject({ enabled: true, version: 1, customerCount: 2, tag: { key: 'frequent_recent' } });
    ruleId = c.rule!.id;

    const tags = await app.gql<{ customer: { tags: unknown[] } }>(TAGS, { id: gid('recent') });
    expect(tags.body.data!.customer.tags).toEqual([{ tag: { key: 'frequent_recent' }, value: null, source: 'RULE', actor: 'rule:frequent_recent_us@v1', rule: { key: 'frequent_recent_us' }, ruleVersion: 1 }]);
    const again = await app.gql<{ previewTagRule: PreviewShape }>(PREVIEW, { id: ruleId });
    expect(again.body.data!.previewTagRule).toMatchObject({ gain: 0, change: 0, lose: 0, keep: 3 });
  });

  it('re-evaluates windowed conditions when the clock moves, and the preview at that clock matches', async () => {
    const later = new Date(Date.now() + 10 * DAY);
    const p = await previewTagRule(app.db.db, app.config, { id: ruleId }, later);
    expect(p).toMatchObject({ gain: 0, lose: 1, loseSample: [ids.fading] });
    const runs = await runEnabledRules(app.db.db, app.config, 'SCHEDULE', { now: later });
    expect(runs.map((r) => ({ trigger: r.trigger, added: r.added, changed: r.changed, removed: r.removed, kept: r.kept }))).toEqual([
      { trigger: 'SCHEDULE', added: p.gain, changed: p.change, removed: p.lose, kept: p.keep },
    ]);
    const tags = await app.gql<{ customer: { tags: unknown[] } }>(TAGS, { id: gid('fading') });
    expect(tags.body.data!.customer.tags).toEqual([]);
    const history = await app.gql<{ customer: { tagHistory: unknown[] } }>(HISTORY, { id: gid('fading') });
    expect(history.body.data!.customer.tagHistory).toEqual([
      { action: 'REMOVED', source: 'RULE', reason: 'RULE', ruleVersion: 1, rule: { key: 'frequent_recent_us' } },
      { action: 'ADDED', source: 'RULE', reason: 'RULE', ruleVersion: 1, rule: { key: 'frequent_recent_us' } },
    ]);
    // The manual holder keeps the tag.
    expect((await app.gql<{ customer: { tags: { source: string }[] } }>(TAGS, { id: gid('manual') })).body.data!.customer.tags.map((t) => t.source)).toEqual(['MANUAL']);
  });

  it('re-evaluates the rules for a customer right after a write to them', async () => {
    const res = await app.gql<{ recordTransaction: { created: boolean; userErrors: unknown[] } }>(RECORD_TX, { input: {
      source: 'shop', externalId: 'RULE-TX-1', customer: { id: gid('two') }, occurredAt: daysAgo(1).toISOString(), type: 'ORDER', currency: 'USD', amount: '15.00',
    } });
    expect(res.body.data!.recordTransaction).toEqual({ created: true, userErrors: [] });
    const tags = await app.gql<{ customer: { tags: { tag: { key: string }; source: string }[] } }>(TAGS, { id: gid('two') });
    expect(tags.body.data!.customer.tags.map((t) => [t.tag.key, t.source])).toEqual([['frequent_recent', 'RULE']]);
    const [run] = await app.db.db.select().from(tagRuleRuns).where(eq(tagRuleRuns.trigger, 'INCREMENTAL'));
    expect(run).toMatchObject({ scopedCustomers: 1, added: 1, removed: 0 });
  });

  it('derives values from a metric in bands, and a change of bands records CHANGED with the new version', async () => {
    const bandInput = {
      key: 'spend_bands', name: 'Spend bands', tagKey: 'spend_band', filter: { countries: ['US'] }, enabled: true,
      valueFrom: { metric: 'TOTAL_SPENT', bands: [{ max: '25', value: 'LOW' }, { min: '25', max: '35', value: 'MID' }, { min: '35', value: 'HIGH' }] },
    };
    const created = await app.gql<{ createTagRule: RulePayload }>(CREATE_RULE, { input: bandInput });
    expect(created.body.data!.createTagRule.userErrors).toEqual([]);
    const valueOf = async (name: string) => (await app.gql<{ customer: { tags: { tag: { key: string }; value: string }[] } }>(TAGS, { id: gid(name) }))
      .body.data!.customer.tags.find((t) => t.tag.key === 'spend_band')?.value;
    // 30.00, 35.00 (min is inclusive) and 40.00 spent, all in the US.
    expect([await valueOf('recent'), await valueOf('two'), await valueOf('optedOut')]).toEqual(['MID', 'HIGH', 'HIGH']);
    const updated = await app.gql<{ updateTagRule: RulePayload }>(UPDATE_RULE, { input: {
      id: created.body.data!.createTagRule.rule!.id,
      valueFrom: { metric: 'TOTAL_SPENT', bands: [{ max: '32', value: 'LOW' }, { min: '32', value: 'HIGH' }] },
    } });
    expect(updated.body.data!.updateTagRule).toMatchObject({ userErrors: [], rule: { version: 2 }, run: { trigger: 'UPDATE', ruleVersion: 2, added: 0, removed: 0 } });
    expect(updated.body.data!.updateTagRule.run!.changed).toBeGreaterThanOrEqual(2);
    expect([await valueOf('recent'), await valueOf('two'), await valueOf('optedOut')]).toEqual(['LOW', 'HIGH', 'HIGH']);
  });

  it.each([
    ['an unknown tag', { ...input, key: 'r_unknown', tagKey: 'nope' }, ['input', 'tagKey'], 'NOT_FOUND'],
    ['a value for a BOOLEAN tag', { ...input, key: 'r_value', value: 'x' }, ['input', 'value'], 'BAD_USER_INPUT'],
    ['a malformed filter', { ...input, key: 'r_filter', filter: { transactions: { window: { last: 'ninety days' } } } }, ['input', 'filter', 'transactions', 'window', 'last'], 'BAD_USER_INPUT'],
    ['a filter on an unknown tag', { ...input, key: 'r_ref', filter: { tag: { key: 'ghost' } } }, ['input', 'filter'], 'NOT_FOUND'],
    ['an existing key', { ...input }, ['input', 'key'], 'CONFLICT'],
  ])('refuses a rule with %s', async (_l, bad, field, code) => {
    const before = await app.db.db.$count(tagRules);
    const res = await app.gql<{ createTagRule: RulePayload }>(CREATE_RULE, { input: bad });
    expect(res.body.data!.createTagRule).toEqual({ rule: null, run: null, userErrors: [{ field, message: expect.any(String), code }] });
    expect(await app.db.db.$count(tagRules)).toBe(before);
  });

  it('lists rules in usedBy of the tags they assign and filter on', async () => {
    const res = await app.gql<{ tagDefinitions: { key: string; usedBy: { relation: string; consumer: { key: string } }[] }[] }>(
      '{ tagDefinitions { key usedBy { relation consumer { ... on TagRule { key } } } } }', {}, { role: 'MARKETER' });
    const usedBy = (key: string) => res.body.data!.tagDefinitions.find((d) => d.key === key)?.usedBy;
    expect(usedBy('frequent_recent')).toEqual([{ relation: 'ASSIGNS', consumer: { key: 'frequent_recent_us' } }]);
    expect(usedBy('opted_out')).toEqual([{ relation: 'FILTERS_ON', consumer: { key: 'frequent_recent_us' } }]);
  });

  it('disabling with removeAssignments takes the tag from the rule holders only (recent, two)', async () => {
    const res = await app.gql<{ disableTagRule: RulePayload }>(DISABLE_RULE, { id: ruleId });
    expect(res.body.data!.disableTagRule).toMatchObject({ userErrors: [], rule: { enabled: false, customerCount: 0 }, run: { trigger: 'DISABLE', removed: 2 } });
    const manual = await app.gql<{ customer: { tags: { tag: { key: string }; source: string }[] } }>(TAGS, { id: gid('manual') });
    expect(manual.body.data!.customer.tags.filter((t) => t.tag.key === 'frequent_recent').map((t) => t.source)).toEqual(['MANUAL']);
  });

  it.each(['AGENT', 'ANALYST'] as const)('forbids %s to preview or create rules', async (role) => {
    const before = await app.db.db.$count(tagRules);
    const p = await app.gql(PREVIEW, { input }, { role });
    expect(p.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const c = await app.gql(CREATE_RULE, { input: { ...input, key: `by_${role.toLowerCase()}` } }, { role });
    expect(c.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const l = await app.gql('{ tagRules { key } }', {}, { role });
    expect(l.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(await app.db.db.$count(tagRules)).toBe(before);
  });
});
