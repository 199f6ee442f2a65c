import { eq, sql, type SQL } from 'drizzle-orm';
import type { Config } from '../../config';
import { execRows, type Db } from '../../db/client';
import { tagDefinitions, tagRules } from '../../db/schema/index';
import type { Logger } from '../../logger';
import {
  applySync, expireBatch, interestDesired, lockTag, refreshLifecycle, refreshRfm, setLocalStatementTimeout, tryJobLock,
  valueTierDesired, type SyncCounts,
} from './tag-engine.repository';
import { runEnabledRules, runRule } from './tag-rules.service';

/**
 * Background work of the tag engine: expiry cleanup, the model jobs (RFM, lifecycle, value tier,
 * interests) and the scheduled re-evaluation of rules. Every job takes `now` (injectable clock) and is
 * set-based. Several gateway instances may run the schedule at once: that is safe (every write of a
 * tag's assignments holds that tag's advisory lock, and a second evaluation finds nothing left to
 * change), only wasted work; expiry batches take a try-lock so instances do not delete the same rows.
 */
type JobConfig = Pick<Config, 'defaultPhoneRegion' | 'tagEngine'>;

const EXPIRY_BATCH = 50_000;

/** Removes expired assignments (REMOVED history with reason EXPIRED, at the moment they expired). */
export async function expireTags(db: Db, now = new Date()): Promise<{ removed: number }> {
  let removed = 0;
  for (;;) {
    const n = await db.transaction(async (tx) => {
      if (!(await tryJobLock(tx, 'expire'))) return -1;
      return expireBatch(tx, now, EXPIRY_BATCH);
    });
    if (n <= 0) break;
    removed += n;
    if (n < EXPIRY_BATCH) break;
  }
  return { removed };
}

export interface ModelRunResult {
  rfm: { scored: number; changed: number; cleared: number };
  lifecycleChanges: number;
  valueTier: SyncCounts;
  interests: SyncCounts;
  ms: { rfm: number; lifecycle: number; valueTier: number; interests: number };
}

async function syncModelTag(db: Db, config: JobConfig, key: string, model: string, desired: SQL, now: Date): Promise<SyncCounts> {
  const [tag] = await db.select().from(tagDefinitions).where(eq(tagDefinitions.key, key));
  if (!tag || tag.status !== 'ACTIVE') return { added: 0, changed: 0, removed: 0, kept: 0 };
  return db.transaction(async (tx) => {
    await setLocalStatementTimeout(tx, config.tagEngine.jobStatementTimeoutMs);
    await lockTag(tx, tag.id);
    return applySync(tx, { tag, owner: { kind: 'MODEL', model }, desired, now, customerIds: null });
  });
}

/**
 * RFM scores for everybody (one statement), as `npm run rfm:refresh` and the schedule run it.
 * The per-customer grouping of the window's transactions runs as a streaming GroupAggregate over the
 * (customer_id, occurred_at) index instead of a hash aggregate: on 1,000,000 customers the planner
 * picked the hash, which spilled 340MB to disk in batches (16 s against 9 s; measured with EXPLAIN).
 */
export async function refreshRfmScores(db: Db, config: JobConfig, now = new Date()): Promise<{ scored: number; changed: number; cleared: number }> {
  return db.transaction(async (tx) => {
    await setLocalStatementTimeout(tx, config.tagEngine.jobStatementTimeoutMs);
    await execRows(tx, sql.raw('SET LOCAL enable_hashagg = off'));
    return refreshRfm(tx, now, config.tagEngine.rfmWindow);
  });
}

export async function refreshLifecycleStages(db: Db, config: JobConfig, now = new Date(), customerIds: readonly string[] | null = null, reason = 'REFRESH'): Promise<number> {
  return db.transaction(async (tx) => {
    if (!customerIds) await setLocalStatementTimeout(tx, config.tagEngine.jobStatementTimeoutMs);
    return refreshLifecycle(tx, now, config.tagEngine.lifecycle, reason, customerIds);
  });
}

/** RFM, then lifecycle stages, then the value-tier and interest tags that read them. */
export async function runModels(db: Db, config: JobConfig, now = new Date()): Promise<ModelRunResult> {
  const t = () => performance.now();
  let s = t();
  const rfm = await refreshRfmScores(db, config, now);
  const msRfm = t() - s; s = t();
  const lifecycleChanges = await refreshLifecycleStages(db, config, now);
  const msLifecycle = t() - s; s = t();
  const valueTier = await syncModelTag(db, config, 'value_tier', 'value-tier', valueTierDesired(now, config.tagEngine.lifecycle.churnDays), now);
  const msValue = t() - s; s = t();
  const interests = await syncModelTag(db, config, 'interest', 'interest-affinity', interestDesired(now, config.tagEngine.interest), now);
  const msInterest = t() - s;
  return { rfm, lifecycleChanges, valueTier, interests, ms: { rfm: msRfm, lifecycle: msLifecycle, valueTier: msValue, interests: msInterest } };
}

/**
 * After a write to customers (transaction, interaction, profile): every enabled rule re-evaluated for
 * just those customers, and their lifecycle stage. Runs in the request, so the response (and the next
 * read) already reflects it.
 */
export async function afterCustomerWrite(db: Db, config: JobConfig, customerIds: readonly string[], opts: { lifecycle?: boolean; now?: Date } = {}): Promise<void> {
  if (!config.tagEngine.incremental || customerIds.length === 0) return;
  const now = opts.now ?? new Date();
  if (opts.lifecycle !== false) await refreshLifecycleStages(db, config, now, customerIds, 'WRITE');
  const rules = await db.select().from(tagRules).where(eq(tagRules.enabled, true)).orderBy(tagRules.key);
  for (const r of rules) await runRule(db, config, r, 'INCREMENTAL', { now, customerIds });
}

export interface Scheduler { stop(): void }

/** In-process schedules (index.ts): intervals from config, 0 turns a job off. Overlapping ticks are skipped. */
export function startTagScheduler(db: Db, config: JobConfig, logger: Logger): Scheduler {
  const timers: NodeJS.Timeout[] = [];
  const every = (name: string, seconds: number, job: () => Promise<unknown>) => {
    if (seconds <= 0) return;
    let running = false;
    const tick = async () => {
      if (running) return;
      running = true;
      const started = performance.now();
      try {
        const result = await job();
        logger.info({ job: name, ms: Math.round(performance.now() - started), result }, 'tag job finished');
      } catch (e) {
        logger.error({ err: e, job: name }, 'tag job failed');
      } finally {
        running = false;
      }
    };
    const timer = setInterval(() => void tick(), seconds * 1000);
    timer.unref();
    timers.push(timer);
  };
  every('expire', config.tagEngine.expiryIntervalSeconds, () => expireTags(db));
  every('models', config.tagEngine.modelsIntervalSeconds, () => withJobLock(db, 'models', () => runModels(db, config)));
  every('rules', config.tagEngine.rulesIntervalSeconds, () => withJobLock(db, 'rules', async () => (await runEnabledRules(db, config, 'SCHEDULE')).length));
  return { stop: () => timers.forEach(clearInterval) };
}

/** Skips the tick when another instance is inside the same job's lock at this moment. */
async function withJobLock<T>(db: Db, job: string, fn: () => Promise<T>): Promise<T | 'skipped'> {
  const free = await db.transaction((tx) => tryJobLock(tx, job));
  if (!free) return 'skipped';
  return fn();
}
