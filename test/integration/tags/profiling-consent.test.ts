import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../../src/lib/global-id';
import { createSeeder } from '../../factories/index';
import { startOpsApp, type OpsApp } from '../../helpers/ops';
import { createProcessDb, runCli } from '../../helpers/process-db';

/**
 * Objection to profiling: a customer whose `profiling` consent is WITHDRAWN gets no automated
 * derivation (RULE and MODEL tags, RFM scores, value-tier and interest tags, DYNAMIC segment membership).
 * Withdrawal (recordConsent) removes what was derived, with history reason CONSENT_WITHDRAWN; the jobs
 * (`npm run jobs` as a process), rule runs and segment refreshes (the API) then leave the customer out;
 * a new GRANTED decision lets derivation start again.
 */
const DAY = 86_400_000;
const CUSTOMER = `query ($id: ID!) { customer(id: $id) {
  tags { tag { key } value source }
  metrics { rfm { score segment } }
  segments { name }
  tagHistory(first: 50) { tag { key } action source reason }
} }`;
interface CustomerShape {
  tags: { tag: { key: string }; value: string | null; source: string }[];
  metrics: { rfm: { score: string; segment: string } | null };
  segments: { name: string }[];
  tagHistory: { tag: { key: string }; action: string; source: string; reason: string | null }[];
}
const CONSENT = `mutation ($input: RecordConsentInput!) { recordConsent(input: $input) { customer { id } userErrors { message } } }`;

describe('profiling consent stops automated derivation', { timeout: 240_000 }, () => {
  let db: Awaited<ReturnType<typeof createProcessDb>>;
  let app: OpsApp;
  const ids: Record<string, string> = {};
  const gid = (name: string) => toGlobalId('Customer', ids[name]!);
  let ruleId = '';
  let segmentId = '';

  const start = async () => { app = await startOpsApp({ ...db.env, RATE_LIMIT_BURST: '100000' }); };
  /** `npm run jobs -- <job>` as its own process; an embedded PGlite directory has one process at a time, so the server closes meanwhile. */
  const jobs = async (job: string) => {
    await app.close();
    const r = await runCli('src/cli/jobs.ts', [job], db.env);
    expect(r.code, r.stderr).toBe(0);
    await start();
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  const gql = async <T>(query: string, variables: Record<string, unknown>) => {
    const res = await app.post({ query, variables });
    expect(res.body.errors).toBeUndefined();
    return res.body.data as T;
  };
  const customer = async (name: string) => (await gql<{ customer: CustomerShape }>(CUSTOMER, { id: gid(name) })).customer;
  const derived = (c: CustomerShape) => ({
    tags: c.tags.filter((t) => t.source === 'RULE' || t.source === 'MODEL').map((t) => `${t.source}:${t.tag.key}`).sort(),
    rfm: c.metrics.rfm !== null,
    segments: c.segments.map((s) => s.name),
  });
  const refreshAll = async () => {
    const run = await gql<{ runTagRule: { userErrors: unknown[] } }>('mutation ($id: ID!) { runTagRule(id: $id) { userErrors { message } } }', { id: ruleId });
    expect(run.runTagRule.userErrors).toEqual([]);
    const seg = await gql<{ refreshSegment: { userErrors: unknown[] } }>('mutation ($id: ID!) { refreshSegment(id: $id) { userErrors { message } } }', { id: segmentId });
    expect(seg.refreshSegment.userErrors).toEqual([]);
  };
  const consent = async (name: string, status: string) => {
    const r = await gql<{ recordConsent: { userErrors: unknown[] } }>(CONSENT, { input: { customerId: gid(name), purpose: 'profiling', status, source: 'preference-centre' } });
    expect(r.recordConsent.userErrors).toEqual([]);
  };

  beforeAll(async () => {
    db = await createProcessDb('c360-profiling');
    await start();
    const seed = createSeeder(app.handle.db);
    await seed.tagDefinition('big_spender', { category: 'VALUE', valueType: 'BOOLEAN' });
    await seed.tagDefinition('vip', { category: 'VALUE', valueType: 'BOOLEAN' });
    // Ten buyers with distinct spend (two per RFM quintile); the two biggest are `objector` and `control`.
    for (let i = 1; i <= 10; i++) {
      const name = i === 10 ? 'objector' : i === 9 ? 'control' : `c${i}`;
      const each = `${i * 10}.0000`;
      ids[name] = (await seed.customer().withTransactions(i, {
        occurredAt: new Date(Date.now() - (12 - i) * DAY), amount: each, amountBase: each,
        items: [{ sku: `BOOK-${i}`, quantity: 1, unitPrice: each, category: 'books' }],
      }).create()).id;
    }
    const rule = await gql<{ createTagRule: { rule: { id: string }; userErrors: unknown[] } }>(
      'mutation ($input: TagRuleInput!) { createTagRule(input: $input) { rule { id } userErrors { message } } }',
      { input: { key: 'big_spenders', name: 'Big spenders', tagKey: 'big_spender', filter: { transactions: { window: { last: 'P365D' }, count: { min: 5 } } }, enabled: true } });
    expect(rule.createTagRule.userErrors).toEqual([]);
    ruleId = rule.createTagRule.rule.id;
    const seg = await gql<{ createSegment: { segment: { id: string }; userErrors: unknown[] } }>(
      'mutation ($input: CreateSegmentInput!) { createSegment(input: $input) { segment { id } userErrors { message } } }',
      { input: { name: 'Book lovers', kind: 'DYNAMIC', filter: { transactions: { window: { last: 'P90D' }, count: { min: 1 } } } } });
    expect(seg.createSegment.userErrors).toEqual([]);
    segmentId = seg.createSegment.segment.id;
    const assigned = await gql<{ assignTag: { changed: boolean } }>('mutation ($i: AssignTagInput!) { assignTag(input: $i) { changed } }', { i: { customerId: gid('objector'), tagKey: 'vip' } });
    expect(assigned.assignTag.changed).toBe(true);
    await jobs('models');
    await refreshAll();
  }, 600_000);
  afterAll(async () => {
    await app?.close();
    await db?.destroy();
  });

  const EVERYTHING = { tags: ['MODEL:interest', 'MODEL:value_tier', 'RULE:big_spender'], rfm: true, segments: ['Book lovers'] };

  it('derives tags, scores and segment membership while profiling is allowed', async () => {
    expect(derived(await customer('objector'))).toEqual(EVERYTHING);
    expect(derived(await customer('control'))).toEqual(EVERYTHING);
  });

  it('removes every derived tag, the RFM scores and dynamic memberships at withdrawal, with history reason CONSENT_WITHDRAWN', async () => {
    await consent('objector', 'WITHDRAWN');
    const c = await customer('objector');
    expect(derived(c)).toEqual({ tags: [], rfm: false, segments: [] });
    // A tag a person assigned is not a derivation: it stays.
    expect(c.tags.map((t) => `${t.source}:${t.tag.key}`)).toEqual(['MANUAL:vip']);
    const withdrawn = c.tagHistory.filter((h) => h.reason === 'CONSENT_WITHDRAWN');
    expect(withdrawn.map((h) => `${h.action}:${h.source}:${h.tag.key}`).sort()).toEqual(['REMOVED:MODEL:interest', 'REMOVED:MODEL:value_tier', 'REMOVED:RULE:big_spender']);
    expect(derived(await customer('control'))).toEqual(EVERYTHING);
  });

  it('leaves the customer out of the jobs (npm run jobs), rule runs and segment refreshes', async () => {
    const out = await jobs('all') as { models: { rfm: { scored: number } } };
    expect(out.models.rfm.scored).toBe(9);
    await refreshAll();
    expect(derived(await customer('objector'))).toEqual({ tags: [], rfm: false, segments: [] });
    expect(derived(await customer('control'))).toEqual(EVERYTHING);
    const members = await gql<{ segment: { size: number } }>('query ($id: ID!) { segment(id: $id) { size } }', { id: segmentId });
    expect(members.segment.size).toBe(9);
  });

  it('removes derived data at the next job run, with reason CONSENT_WITHDRAWN, when the objection did not come through recordConsent', async () => {
    // A decision that arrived another way (an import, a direct database write): the jobs find it.
    await app.handle.db.execute(`INSERT INTO consents (customer_id, purpose, status, source) VALUES ('${ids.c8}', 'profiling', 'DENIED', 'import')`);
    expect(derived(await customer('c8')).tags).toEqual(['MODEL:interest', 'RULE:big_spender']);
    await jobs('all');
    await refreshAll();
    const c = await customer('c8');
    expect(derived(c)).toEqual({ tags: [], rfm: false, segments: [] });
    expect(c.tagHistory.filter((h) => h.reason === 'CONSENT_WITHDRAWN').map((h) => h.tag.key).sort()).toEqual(['big_spender', 'interest']);
  });

  it('starts deriving again when profiling is granted: the rules at once, scores, model tags and segments at their next run', async () => {
    await consent('objector', 'GRANTED');
    expect(derived(await customer('objector')).tags).toEqual(['RULE:big_spender']);
    await jobs('models');
    await refreshAll();
    expect(derived(await customer('objector'))).toEqual(EVERYTHING);
  });
});
