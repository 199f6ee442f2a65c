/**
 * `npm run jobs -- <job>`: the tag engine's background jobs, once, against DATABASE_URL (or PGlite in
 * PGLITE_DIR). The same functions run on the in-process schedule of `npm start`.
 *   rfm        RFM scores of every customer (`npm run rfm:refresh`)
 *   lifecycle  lifecycle stages (with history)
 *   models     rfm, lifecycle, then the value-tier and interest tags
 *   rules      re-evaluate every enabled tag rule (or one: --rule <key>)
 *   expire     remove expired tag assignments (REMOVED history, reason EXPIRED)
 *   all        expire, models, rules
 * `--now <ISO time>` evaluates at another clock (replays, tests). Prints a JSON summary.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { eq } from 'drizzle-orm';
import { ConfigError, loadConfig } from '../config';
import { openDb } from '../db/client';
import { migrateDb } from '../db/migrate';
import { tagRules } from '../db/schema/index';
import { expireTags, refreshLifecycleStages, refreshRfmScores, runModels } from '../modules/tags';
import { runEnabledRules, runRule } from '../modules/tags';
import { configureCrypto } from './setup';

const JOBS = ['rfm', 'lifecycle', 'models', 'rules', 'expire', 'all'] as const;
type Job = (typeof JOBS)[number];

const instant = (v: string): Date => {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError('expected an ISO 8601 time such as 2026-01-31T00:00:00Z');
  return d;
};

const program = new Command()
  .name('npm run jobs --')
  .description('Run a tag-engine job once (the server runs them on a schedule: TAG_*_INTERVAL_SECONDS).')
  .addArgument(new Command().createArgument('<job>', 'job to run').choices(JOBS))
  .option('--now <time>', 'evaluate at this clock instead of the current time', instant)
  .addOption(new Option('--rule <key>', 'rules: only this rule (it must be enabled)'))
  .action(async (job: Job, opts: { now?: Date; rule?: string }) => {
    try {
      const config = loadConfig();
      configureCrypto(config);
      const handle = await openDb({ ...config, statementTimeoutMs: config.tagEngine.jobStatementTimeoutMs });
      await migrateDb(handle);
      const db = handle.db;
      const now = opts.now ?? new Date();
      const started = performance.now();
      const out: Record<string, unknown> = {};
      if (job === 'expire' || job === 'all') out.expire = await expireTags(db, now);
      if (job === 'rfm') out.rfm = await refreshRfmScores(db, config, now);
      if (job === 'lifecycle') out.lifecycleChanges = await refreshLifecycleStages(db, config, now);
      if (job === 'models' || job === 'all') out.models = await runModels(db, config, now);
      if (job === 'rules' || job === 'all') {
        if (opts.rule) {
          const [rule] = await db.select().from(tagRules).where(eq(tagRules.key, opts.rule));
          if (!rule?.enabled) throw new Error(`no enabled rule with key ${opts.rule}`);
          out.rules = [await runRule(db, config, rule, 'MANUAL', { now })];
        } else {
          out.rules = await runEnabledRules(db, config, 'SCHEDULE', { now });
        }
      }
      await handle.close();
      process.stdout.write(`${JSON.stringify({ job, now: now.toISOString(), ms: Math.round(performance.now() - started), ...out }, null, 2)}\n`);
    } catch (e) {
      process.stderr.write(`${e instanceof ConfigError ? e.message : `job failed: ${e instanceof Error ? e.message : String(e)}`}\n`);
      process.exit(1);
    }
  });

await program.parseAsync();
