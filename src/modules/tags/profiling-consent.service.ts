import { sql } from 'drizzle-orm';
import type { Config } from '../../config';
import { execRows, type Db, type Executor } from '../../db/client';
import { exitDynamicSegments } from '../segments';
import { CONSENT_WITHDRAWN, profilingAllowed } from './profiling-consent';
import { afterCustomerWrite } from './tag-jobs.service';

/** * Removes everything derived for customers who object now: RULE and MODEL tags (REMOVED history, reason
 * CONSENT_WITHDRAWN; the outbox triggers write TAG_REMOVED), RFM scores, DYNAMIC segment memberships
 * (EXITED history and SEGMENT_EXITED events). Customers who do not object (a later GRANTED decision) are
 * left alone. One transaction.
 */
export async function removeDerivedData(db: Db, customerIds: readonly string[], now = new Date()): Promise<{ tags: number; rfm: number; segments: number }> {
  if (!customerIds.length) return { tags: 0, rfm: 0, segments: 0 };
  const ids = sql`${sql.param([...customerIds])}::uuid[]`;
  return db.transaction(async (tx) => {
    const objectors = (await execRows<{ id: string }>(tx, sql`
      SELECT c.id FROM customers c WHERE c.id = ANY(${ids}) AND NOT ${profilingAllowed(sql`c.id`)}`)).map((r) => r.id);
    if (!objectors.length) return { tags: 0, rfm: 0, segments: 0 };
    const tags = await removeDerivedTags(tx, objectors, now);
    const [rfm] = await execRows<{ n: number }>(tx, sql`
      WITH del AS (DELETE FROM customer_rfm WHERE customer_id = ANY(${sql.param(objectors)}::uuid[]) RETURNING 1) SELECT count(*)::int AS n FROM del`);
    const segments = await exitDynamicSegments(tx, objectors);
    return { tags, rfm: Number(rfm?.n ?? 0), segments };
  });
}

async function removeDerivedTags(tx: Executor, customerIds: readonly string[], now: Date): Promise<number> {
  const at = sql`${now.toISOString()}::timestamptz`;
  const [r] = await execRows<{ n: number }>(tx, sql`
    WITH del AS (
      DELETE FROM customer_tags WHERE customer_id = ANY(${sql.param([...customerIds])}::uuid[]) AND source IN ('RULE', 'MODEL')
      RETURNING customer_id, tag_id, value, source, actor, rule_id, rule_version, confidence, expires_at
    ),
    ev AS (
      INSERT INTO customer_tag_events (customer_id, tag_id, action, value, previous_value, source, actor, occurred_at, rule_id, rule_version, confidence, reason)
      SELECT customer_id, tag_id, 'REMOVED', NULL, value, source, actor, ${at}, rule_id, rule_version, confidence, ${CONSENT_WITHDRAWN}
      FROM del WHERE expires_at IS NULL OR expires_at > ${at}
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM ev`);
  return Number(r?.n ?? 0);
}

/**
 * After a `profiling` consent decision: an objection removes the derived data at once; a grant lets the
 * rules run for the customer at once (TAG_RULES_INCREMENTAL), and RFM, the model tags and DYNAMIC
 * segments follow at their next run.
 */
export async function afterProfilingDecision(db: Db, config: Pick<Config, 'defaultPhoneRegion' | 'tagEngine'>, customerId: string): Promise<void> {
  const removed = await removeDerivedData(db, [customerId]);
  if (removed.tags + removed.rfm + removed.segments === 0) await afterCustomerWrite(db, config, [customerId], { lifecycle: false });
}
