import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startServerProcess, type ServerProcess } from './server-process';

/**
 * Issue 19 point 13: right after `npm start` on an empty directory, the derived data is there (the
 * models job's first scheduled run is an hour later) and every rule a demo tag names exists.
 */
describe('fresh start: derived data and the rules demo tags name', () => {
  let server: ServerProcess;
  let admin = '';
  beforeAll(async () => {
    server = await startServerProcess();
    admin = (await server.cli('src/cli/token.ts', ['--role', 'ADMIN'])).trim();
  }, 300_000);
  afterAll(async () => { await server?.stop(); }, 30_000);

  it('customers have RFM scores and value-tier tags at once', async () => {
    const res = await gql<{ customers: { edges: { node: { metrics: { orderCount: number; rfm: { score: number; segment: string } | null } | null; tags: { tag: { key: string } }[] } }[] } }>(
      server.url, admin, '{ customers(first: 100) { edges { node { metrics { orderCount rfm { score segment } } tags { tag { key } } } } } }');
    expect(res.body.errors).toBeUndefined();
    const nodes = res.body.data!.customers.edges.map((e) => e.node);
    const buyers = nodes.filter((n) => (n.metrics?.orderCount ?? 0) > 0);
    expect(buyers.length).toBeGreaterThan(5);
    expect(nodes.filter((n) => n.metrics?.rfm).length).toBeGreaterThan(0);
    expect(nodes.some((n) => n.tags.some((t) => t.tag.key === 'value_tier'))).toBe(true);
  });

  it('every rule a RULE tag of the demo names is in tagRules, and the assignment points at it', async () => {
    const res = await gql<{ customers: { edges: { node: { tags: { source: string; actor: string | null; rule: { key: string } | null }[] } }[] }; tagRules: { key: string }[] }>(
      server.url, admin, '{ customers(first: 100) { edges { node { tags { source actor rule { key } } } } } tagRules { key } }');
    expect(res.body.errors).toBeUndefined();
    const rules = new Set(res.body.data!.tagRules.map((r) => r.key));
    const ruleTags = res.body.data!.customers.edges.flatMap((e) => e.node.tags).filter((t) => t.source === 'RULE');
    expect(ruleTags.length).toBeGreaterThan(0);
    const named = [...new Set(ruleTags.map((t) => /^rule:([a-z0-9_]+)@v\d+$/.exec(t.actor ?? '')?.[1] ?? `unparsable actor ${t.actor}`))];
    expect(named.filter((k) => !rules.has(k))).toEqual([]);
    expect(ruleTags.filter((t) => !t.rule || !rules.has(t.rule.key))).toEqual([]);
    expect(rules).toContain('high_value');
  });
});
