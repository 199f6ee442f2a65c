import { loadavg } from 'node:os';
import { eq, sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config';
import { execRows } from '../../src/db/client';
import { customerTags, tagDefinitions, tagRules } from '../../src/db/schema/index';
import { refreshLifecycleStages, refreshRfmScores, runModels } from '../../src/modules/tags/tag-jobs.service';
import { previewTagRule, runRule } from '../../src/modules/tags/tag-rules.service';
import { openBenchDb } from '../lib/database';
import { fmt, formatTable } from '../lib/report';
import { BenchFailure, type Suite, type SuiteContext, type SuiteOutcome } from './types';

/**
 * Tags suite: the tag engine's set-based statements on the whole bench database, timed end to end
 * through the same service functions the API and the scheduler call.
 *   preview   previewTagRule of a three-condition rule (dry run: counts and samples)
 *   apply     enabling it: the one diff statement that writes gains/changes/losses and their history
 *   rfm       RFM refresh of every customer (one statement): the first one (customer_rfm emptied, every
 *             score inserted) and the next day's (only changed scores written)
 *   models    lifecycle stages, value-tier and interest tags after the RFM refresh (reported, no target)
 * Targets (issue 6) on 1,000,000 customers: preview <= 10 s, apply <= 60 s, RFM refresh <= 60 s.
 * The preview must equal the apply it precedes, or the run fails.
 */

const RULE_KEY = 'bench_frequent_buyers';
const TAG_KEY = 'bench_frequent_buyer';
const TARGETS_1M = { preview: 10_000, apply: 60_000, rfm: 60_000 };

// Three conditions: 3+ completed orders in the last year, in one of four countries, not churned (a tag).
const FILTER = {
  transactions: { window: { last: 'P365D' }, count: { min: 3 } },
  countries: ['US', 'DE', 'GB', 'FR'],
  not: { tag: { key: 'churned' } },
};

export const tagsSuite: Suite = {
  name: 'tags',
  description: 'tag engine on the whole base: rule preview, rule apply, RFM refresh (+ lifecycle/model tags)',
  resultFile: 'tags.json',
  scenarios: ['preview', 'apply', 'rfm', 'models'],
  run,
};

async function run(ctx: SuiteContext): Promise<SuiteOutcome> {
  const config = loadConfig({ ...process.env, DATABASE_URL: ctx.databaseUrl, LOG_LEVEL: 'silent', TAG_JOB_STATEMENT_TIMEOUT_MS: '3600000' });
  const handle = await openBenchDb(ctx.databaseUrl);
  const db = handle.db;
  const want = (s: string) => ctx.options.scenarios.length === 0 || ctx.options.scenarios.includes(s);
  const timings: Record<string, number> = {};
  const loadAtStart = loadavg();
  const details: Record<string, unknown> = {};
  try {
    const [{ n: customers } = { n: 0 }] = await execRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM customers`);
    ctx.log(`${customers.toLocaleString('en-US')} customers`);

    // A clean slate: the bench rule and its assignments from an earlier run are removed.
    await db.insert(tagDefinitions).values({ key: TAG_KEY, name: 'Bench: frequent buyer', category: 'BEHAVIOR', description: 'bench suite' }).onConflictDoNothing();
    const [tag] = await db.select().from(tagDefinitions).where(eq(tagDefinitions.key, TAG_KEY));
    await db.delete(customerTags).where(eq(customerTags.tagId, tag!.id));
    await db.delete(tagRules).where(eq(tagRules.key, RULE_KEY));
    await execRows(db, sql`DELETE FROM customer_tag_events WHERE tag_id = ${tag!.id}::uuid`);
    await execRows(db, sql`ANALYZE customer_tags`);

    const input = { key: RULE_KEY, name: 'Bench: frequent buyers', tagKey: TAG_KEY, filter: FILTER };
    let preview: Awaited<ReturnType<typeof previewTagRule>> | null = null;
    if (want('preview') || want('apply')) {
      ctx.log('preview of the three-condition rule');
      const t0 = performance.now();
      preview = await previewTagRule(db, config, { input, sampleSize: 5 });
      timings.preview = performance.now() - t0;
      if (preview.userErrors.length) throw new BenchFailure(`preview failed: ${JSON.stringify(preview.userErrors)}`);
      details.preview = { matching: preview.matching, gain: preview.gain, change: preview.change, lose: preview.lose, keep: preview.keep };
      ctx.log(`  ${fmt.ms(timings.preview)} ms: ${JSON.stringify(details.preview)}`);
    }
    if (want('apply') && preview) {
      ctx.log('apply (enable) of the rule');
      const [rule] = await db.insert(tagRules).values({ key: RULE_KEY, name: input.name, tagId: tag!.id, filter: FILTER, enabled: true }).returning();
      const t0 = performance.now();
      const r = await runRule(db, config, rule!, 'ENABLE');
      timings.apply = performance.now() - t0;
      if (!r) throw new BenchFailure('apply recorded no run');
      details.apply = { added: r.added, changed: r.changed, removed: r.removed, kept: r.kept, recordedDurationMs: r.durationMs };
      ctx.log(`  ${fmt.ms(timings.apply)} ms: ${JSON.stringify(details.apply)}`);
      if (r.added !== preview.gain || r.changed !== preview.change || r.removed !== preview.lose || r.kept !== preview.keep) {
        throw new BenchFailure(`apply differs from its preview: preview ${JSON.stringify(details.preview)}, apply ${JSON.stringify(details.apply)}`);
      }
      // Re-evaluation with nothing changed: the scheduled run's cost on a stable base.
      const t1 = performance.now();
      const again = await runRule(db, config, rule!, 'SCHEDULE');
      timings.reapply = performance.now() - t1;
      details.reapply = { added: again?.added, removed: again?.removed, kept: again?.kept };
    }
    if (want('rfm')) {
      // The first refresh of a base (every customer's scores inserted), then the next day's refresh
      // (only the customers whose scores changed are written: orders leaving the window, shifted quintiles).
      await execRows(db, sql`TRUNCATE customer_rfm, rfm_refresh`);
      const now = new Date();
      ctx.log('RFM refresh, first (empty customer_rfm)');
      let t0 = performance.now();
      details.rfmFill = await refreshRfmScores(db, config, now);
      timings.rfmFill = performance.now() - t0;
      ctx.log(`  ${fmt.ms(timings.rfmFill)} ms: ${JSON.stringify(details.rfmFill)}`);
      await execRows(db, sql`ANALYZE customer_rfm`);
      ctx.log('RFM refresh, one day later');
      t0 = performance.now();
      details.rfm = await refreshRfmScores(db, config, new Date(now.getTime() + 86_400_000));
      timings.rfm = performance.now() - t0;
      ctx.log(`  ${fmt.ms(timings.rfm)} ms: ${JSON.stringify(details.rfm)}`);
    }
    if (want('models')) {
      ctx.log('lifecycle refresh');
      let t0 = performance.now();
      details.lifecycleChanges = await refreshLifecycleStages(db, config);
      timings.lifecycle = performance.now() - t0;
      ctx.log('models (RFM + lifecycle + value tier + interests)');
      t0 = performance.now();
      const m = await runModels(db, config);
      timings.models = performance.now() - t0;
      details.models = m;
      ctx.log(`  ${fmt.ms(timings.models)} ms: ${JSON.stringify(m.ms)}`);
    }

    const scale = customers / 1_000_000;
    const row = (id: string, label: string, target?: number) => {
      const ms = timings[id];
      if (ms === undefined) return null;
      const scaledTarget = target === undefined ? null : target * scale;
      return [id, label, fmt.int(ms), target === undefined ? '-' : fmt.int(target), scaledTarget === null ? '-' : fmt.int(scaledTarget),
        scaledTarget === null ? '-' : ms <= scaledTarget ? 'PASS (linear)' : 'MISS (linear)'];
    };
    const rows = [
      ['scenario', 'what', 'ms', 'target ms @1M', 'target x size (linear)', 'verdict'],
      row('preview', 'previewTagRule, 3 conditions', TARGETS_1M.preview),
      row('apply', 'enable = apply (one diff statement)', TARGETS_1M.apply),
      row('reapply', 're-evaluation, nothing to change'),
      row('rfmFill', 'RFM refresh, first (all inserted)', TARGETS_1M.rfm),
      row('rfm', 'RFM refresh, next day (changes written)', TARGETS_1M.rfm),
      row('lifecycle', 'lifecycle refresh, all customers'),
      row('models', 'RFM + lifecycle + value tier + interests'),
    ].filter((r): r is string[] => r !== null);
    const table = `${formatTable(rows)}\n\n${customers.toLocaleString('en-US')} customers, load average ${loadAtStart.map((l) => l.toFixed(1)).join(' ')} at start. Targets are for 1,000,000 customers; the linear column scales them to this base (an estimate, not a measurement at 1M).`;
    return { result: { suite: 'tags', measuredAt: new Date().toISOString(), customers, loadAverage: { atStart: loadAtStart, atEnd: loadavg() }, timingsMs: timings, details, targets1M: TARGETS_1M }, table };
  } finally {
    await handle.close();
  }
}
