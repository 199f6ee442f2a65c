import { sql, type SQL } from 'drizzle-orm';
import { execRows, type Executor } from '../../db/client';
import { CONSENT_WITHDRAWN, profilingAllowed } from './profiling-consent';

/**
 * Set-based statements of the tag engine. Every statement handles every customer it concerns at once
 * (one INSERT, one UPDATE, one DELETE per change kind, with their history rows), never a loop per customer.
 *
 * The rule engine and the model jobs share one shape: a *desired set* (customer, value, confidence) is
 * compared with the *current* unexpired assignments of one tag; the comparison (`diff`) is what the
 * preview counts and what the apply statement writes, so a preview always equals the apply that follows.
 */

const ts = (d: Date): SQL => sql`${d.toISOString()}::timestamptz`;
const uuidArr = (ids: readonly string[]): SQL => sql`${sql.param([...ids])}::uuid[]`;

export interface SyncTag { id: string; cardinality: string; defaultTtl: string | null }

/** Who owns the assignments a sync may change or remove: one rule, or one model. */
export type SyncOwner =
  | { kind: 'RULE'; ruleId: string; version: number; actor: string }
  | { kind: 'MODEL'; model: string };

export interface SyncPlan {
  tag: SyncTag;
  owner: SyncOwner;
  /** SELECT producing customer_id uuid, value text, confidence numeric: one row per customer (and value, for MULTIPLE tags). */
  desired: SQL;
  now: Date;
  /** Restrict to these customers (incremental re-evaluation); null = everybody. */
  customerIds: readonly string[] | null;
}

const ownerActor = (o: SyncOwner): string => (o.kind === 'RULE' ? o.actor : `model:${o.model}`);

/**
 * `ordered`: the diff is materialized in primary-key order, so the writes that follow touch the
 * indexes that lead with customer_id (customer_tags, customer_tag_events, automation_events) and the
 * foreign-key lookups in customers in order instead of at random (the preview does not need it).
 */
function diffCtes(p: SyncPlan, ordered = false): SQL {
  const owned = p.owner.kind === 'RULE'
    ? sql`(ct.rule_id IS NOT DISTINCT FROM ${p.owner.ruleId}::uuid)`
    : sql`(ct.source = 'MODEL' AND ct.actor = ${ownerActor(p.owner)})`;
  const valueKey = p.tag.cardinality === 'MULTIPLE' ? sql`coalesce(x.value, '')` : sql`''`;
  // Customers who object to profiling have no automated tags (src/modules/tags/profiling-consent.ts).
  const scopeD = sql`WHERE ${p.customerIds ? sql`x.customer_id = ANY(${uuidArr(p.customerIds)}) AND ` : sql``}${profilingAllowed(sql`x.customer_id`)}`;
  const scopeC = p.customerIds ? sql`AND ct.customer_id = ANY(${uuidArr(p.customerIds)})` : sql``;
  return sql`
    d AS (
      SELECT x.customer_id, x.value, round(x.confidence::numeric, 4) AS confidence, ${valueKey} AS value_key
      FROM (${p.desired}) x ${scopeD}
    ),
    cur AS (
      SELECT ct.customer_id, ct.value_key, ct.value, ct.confidence, ${owned} AS owned
      FROM customer_tags ct
      WHERE ct.tag_id = ${p.tag.id}::uuid AND (ct.expires_at IS NULL OR ct.expires_at > ${ts(p.now)}) ${scopeC}
    ),
    diff AS MATERIALIZED (
      SELECT coalesce(d.customer_id, cur.customer_id) AS customer_id, ${p.tag.id}::uuid AS tag_id,
        coalesce(cur.value_key, d.value_key) AS value_key,
        d.value AS new_value, cur.value AS old_value, d.confidence AS new_confidence,
        CASE WHEN cur.customer_id IS NULL THEN 'GAIN'
             WHEN d.customer_id IS NULL THEN 'LOSE'
             WHEN NOT cur.owned THEN 'KEEP'
             WHEN cur.value IS DISTINCT FROM d.value THEN 'CHANGE'
             WHEN cur.confidence IS DISTINCT FROM d.confidence THEN 'TOUCH'
             ELSE 'KEEP' END AS kind
      FROM d FULL JOIN cur ON cur.customer_id = d.customer_id AND cur.value_key = d.value_key
      WHERE d.customer_id IS NOT NULL OR cur.owned
      ${ordered ? sql`ORDER BY 1, 3` : sql``}
    )`;
}

export interface PreviewCounts {
  matching: number; gain: number; change: number; lose: number; keep: number;
  gainSample: string[]; loseSample: string[]; changeSample: string[];
}

/** What `applySync` would do now. Writes nothing. */
export async function previewSync(db: Executor, p: SyncPlan, sampleSize: number): Promise<PreviewCounts> {
  const [r] = await execRows<{
    matching: number; gain: number; change: number; lose: number; keep: number;
    gain_sample: string[] | null; lose_sample: string[] | null; change_sample: string[] | null;
  }>(db, sql`
    WITH ${diffCtes(p)}
    SELECT count(*) FILTER (WHERE kind <> 'LOSE')::int AS matching,
      count(*) FILTER (WHERE kind = 'GAIN')::int AS gain,
      count(*) FILTER (WHERE kind = 'CHANGE')::int AS change,
      count(*) FILTER (WHERE kind = 'LOSE')::int AS lose,
      count(*) FILTER (WHERE kind IN ('KEEP', 'TOUCH'))::int AS keep,
      (SELECT array_agg(customer_id) FROM (SELECT DISTINCT customer_id FROM diff WHERE kind = 'GAIN' ORDER BY customer_id LIMIT ${sampleSize}) s) AS gain_sample,
      (SELECT array_agg(customer_id) FROM (SELECT DISTINCT customer_id FROM diff WHERE kind = 'LOSE' ORDER BY customer_id LIMIT ${sampleSize}) s) AS lose_sample,
      (SELECT array_agg(customer_id) FROM (SELECT DISTINCT customer_id FROM diff WHERE kind = 'CHANGE' ORDER BY customer_id LIMIT ${sampleSize}) s) AS change_sample
    FROM diff`);
  return {
    matching: Number(r?.matching ?? 0), gain: Number(r?.gain ?? 0), change: Number(r?.change ?? 0), lose: Number(r?.lose ?? 0), keep: Number(r?.keep ?? 0),
    gainSample: r?.gain_sample ?? [], loseSample: r?.lose_sample ?? [], changeSample: r?.change_sample ?? [],
  };
}

export interface SyncCounts { added: number; changed: number; removed: number; kept: number }

/*
 * The UPDATE and DELETE join customer_tags on all three primary-key columns taken from the diff (not
 * `tag_id = <constant>`): right after a large apply the statistics of customer_tags are stale, and a
 * constant tag_id made the planner pick "all rows of the tag x all diff rows" (measured: minutes on
 * 27,000 assignments); a primary-key lookup per diff row stays linear.
 */

/**
 * Applies the diff: one statement with one INSERT (gains; an expired row of the same key is replaced),
 * one UPDATE (value or confidence changes), one DELETE (losses) and one INSERT of their history rows.
 * Run inside a transaction that holds `lockTag`.
 */
export async function applySync(tx: Executor, p: SyncPlan): Promise<SyncCounts> {
  const source = p.owner.kind === 'RULE' ? 'RULE' : 'MODEL';
  const actor = ownerActor(p.owner);
  const ruleId = p.owner.kind === 'RULE' ? sql`${p.owner.ruleId}::uuid` : sql`NULL::uuid`;
  const version = p.owner.kind === 'RULE' ? sql`${p.owner.version}::int` : sql`NULL::int`;
  const now = ts(p.now);
  const expires = p.tag.defaultTtl ? sql`${now} + ${p.tag.defaultTtl}::interval` : sql`NULL::timestamptz`;
  const tag = sql`${p.tag.id}::uuid`;
  const [r] = await execRows<SyncCounts>(tx, sql`
    WITH ${diffCtes(p, true)},
    ins AS (
      INSERT INTO customer_tags (customer_id, tag_id, value_key, value, source, actor, confidence, assigned_at, expires_at, rule_id, rule_version)
      SELECT customer_id, ${tag}, value_key, new_value, ${source}, ${actor}, new_confidence, ${now}, ${expires}, ${ruleId}, ${version}
      FROM diff WHERE kind = 'GAIN'
      ON CONFLICT (customer_id, tag_id, value_key) DO UPDATE SET value = excluded.value, source = excluded.source, actor = excluded.actor,
        confidence = excluded.confidence, assigned_at = excluded.assigned_at, expires_at = excluded.expires_at,
        rule_id = excluded.rule_id, rule_version = excluded.rule_version
      WHERE customer_tags.expires_at IS NOT NULL AND customer_tags.expires_at <= ${now}
      RETURNING customer_id, value, confidence
    ),
    upd AS (
      UPDATE customer_tags ct SET value = diff.new_value, confidence = diff.new_confidence, rule_version = ${version},
        assigned_at = CASE WHEN diff.kind = 'CHANGE' THEN ${now} ELSE ct.assigned_at END
      FROM diff
      WHERE diff.kind IN ('CHANGE', 'TOUCH') AND ct.customer_id = diff.customer_id AND ct.tag_id = diff.tag_id AND ct.value_key = diff.value_key
      RETURNING ct.customer_id, ct.value, ct.confidence, diff.old_value, diff.kind
    ),
    del AS (
      DELETE FROM customer_tags ct USING diff
      WHERE diff.kind = 'LOSE' AND ct.customer_id = diff.customer_id AND ct.tag_id = diff.tag_id AND ct.value_key = diff.value_key
      RETURNING ct.customer_id, ct.value, ct.confidence
    ),
    ev AS (
      INSERT INTO customer_tag_events (customer_id, tag_id, action, value, previous_value, source, actor, occurred_at, rule_id, rule_version, confidence, reason)
      SELECT customer_id, ${tag}, 'ADDED', value, NULL, ${source}, ${actor}, ${now}, ${ruleId}, ${version}, confidence, ${source} FROM ins
      UNION ALL
      SELECT customer_id, ${tag}, 'CHANGED', value, old_value, ${source}, ${actor}, ${now}, ${ruleId}, ${version}, confidence, ${source} FROM upd WHERE kind = 'CHANGE'
      UNION ALL
      SELECT customer_id, ${tag}, 'REMOVED', NULL, value, ${source}, ${actor}, ${now}, ${ruleId}, ${version}, confidence,
        CASE WHEN ${profilingAllowed(sql`del.customer_id`)} THEN ${source} ELSE ${CONSENT_WITHDRAWN} END FROM del
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM ins)::int AS added,
      (SELECT count(*) FROM upd WHERE kind = 'CHANGE')::int AS changed,
      (SELECT count(*) FROM del)::int AS removed,
      (SELECT count(*) FROM diff WHERE kind IN ('KEEP', 'TOUCH'))::int AS kept,
      (SELECT count(*) FROM ev)::int AS events`);
  return { added: Number(r?.added ?? 0), changed: Number(r?.changed ?? 0), removed: Number(r?.removed ?? 0), kept: Number(r?.kept ?? 0) };
}

/**
 * Removes every assignment a rule owns (disabling with removeAssignments), with REMOVED history.
 */
export async function removeRuleAssignments(tx: Executor, rule: { id: string; version: number; actor: string }, now: Date): Promise<number> {
  const [r] = await execRows<{ n: number }>(tx, sql`
    WITH del AS (
      DELETE FROM customer_tags WHERE rule_id = ${rule.id}::uuid
      RETURNING customer_id, tag_id, value, confidence, expires_at
    ),
    ev AS (
      INSERT INTO customer_tag_events (customer_id, tag_id, action, value, previous_value, source, actor, occurred_at, rule_id, rule_version, confidence, reason)
      SELECT customer_id, tag_id, 'REMOVED', NULL, value, 'RULE', ${rule.actor}, ${ts(now)}, ${rule.id}::uuid, ${rule.version}::int, confidence, 'RULE'
      FROM del WHERE expires_at IS NULL OR expires_at > ${ts(now)}
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM ev)::int AS n`);
  return Number(r?.n ?? 0);
}

/** Serializes writers of one tag's assignments (rule runs, model jobs, merges), per transaction. */
export async function lockTag(tx: Executor, tagId: string): Promise<void> {
  await execRows(tx, sql`SELECT pg_advisory_xact_lock(hashtextextended(${`c360-tag:${tagId}`}, 0))`);
}

/** Only one process runs a given job at a time (several gateway instances): false when another holds it. */
export async function tryJobLock(tx: Executor, job: string): Promise<boolean> {
  const [r] = await execRows<{ ok: boolean }>(tx, sql`SELECT pg_try_advisory_xact_lock(hashtextextended(${`c360-job:${job}`}, 0)) AS ok`);
  return Boolean(r?.ok);
}

/** Memory per sort or hash of the long set-based statements (the server default is usually 4MB). */
export const JOB_WORK_MEM = '64MB';

/**
 * Long set-based statements: their own statement timeout, no JIT (the planner's cost for a
 * correlated filter over every customer is high enough to trigger it, and compiling cost about 2 s
 * per statement without making execution faster; measured on 100,000 customers), and JOB_WORK_MEM
 * so that the grouping of every customer's transactions and the RFM window sorts stay in memory
 * instead of spilling to disk in batches (they spilled at 100,000 customers with 4MB).
 */
export async function setLocalStatementTimeout(tx: Executor, ms: number): Promise<void> {
  await execRows(tx, sql.raw(`SET LOCAL statement_timeout = ${Math.max(1000, Math.floor(ms))}`));
  await execRows(tx, sql.raw('SET LOCAL jit = off'));
  await execRows(tx, sql.raw(`SET LOCAL work_mem = '${JOB_WORK_MEM}'`));
}

// ---------------------------------------------------------------------------------------------
// Bulk assignment and removal

export interface BulkAssign {
  tagId: string; valueKey: string; value: string | null; source: string; actor: string; confidence: string | null;
  expiresAt: Date | null; defaultTtl: string | null; now: Date;
  /** WHERE over `customers` (compiled filter or id list). */
  where: SQL;
}

/** Assigns to every selected customer: gains inserted, different values changed, history for both. */
export async function bulkAssign(tx: Executor, b: BulkAssign): Promise<{ matched: number; added: number; changed: number }> {
  const now = ts(b.now);
  const tag = sql`${b.tagId}::uuid`;
  const expires = b.expiresAt ? ts(b.expiresAt) : b.defaultTtl ? sql`${now} + ${b.defaultTtl}::interval` : sql`NULL::timestamptz`;
  const value = sql`${b.value}::text`;
  const confidence = sql`${b.confidence}::numeric`;
  const reason = b.source === 'MANUAL' ? 'BULK' : b.source;
  const [r] = await execRows<{ matched: number; added: number; changed: number }>(tx, sql`
    WITH sel AS MATERIALIZED (SELECT customers.id AS customer_id FROM customers WHERE ${b.where}),
    cur AS MATERIALIZED (
      SELECT ct.customer_id, ct.tag_id, ct.value FROM customer_tags ct JOIN sel ON sel.customer_id = ct.customer_id
      WHERE ct.tag_id = ${tag} AND ct.value_key = ${b.valueKey} AND (ct.expires_at IS NULL OR ct.expires_at > ${now})
    ),
    ins AS (
      INSERT INTO customer_tags (customer_id, tag_id, value_key, value, source, actor, confidence, assigned_at, expires_at)
      SELECT sel.customer_id, ${tag}, ${b.valueKey}, ${value}, ${b.source}, ${b.actor}, ${confidence}, ${now}, ${expires}
      FROM sel WHERE NOT EXISTS (SELECT 1 FROM cur WHERE cur.customer_id = sel.customer_id)
      ON CONFLICT (customer_id, tag_id, value_key) DO UPDATE SET value = excluded.value, source = excluded.source, actor = excluded.actor,
        confidence = excluded.confidence, assigned_at = excluded.assigned_at, expires_at = excluded.expires_at, rule_id = NULL, rule_version = NULL
      WHERE customer_tags.expires_at IS NOT NULL AND customer_tags.expires_at <= ${now}
      RETURNING customer_id
    ),
    upd AS (
      UPDATE customer_tags ct SET value = ${value}, source = ${b.source}, actor = ${b.actor}, confidence = ${confidence},
        assigned_at = ${now}, expires_at = ${expires}, rule_id = NULL, rule_version = NULL
      FROM cur
      WHERE ct.customer_id = cur.customer_id AND ct.tag_id = cur.tag_id AND ct.value_key = ${b.valueKey} AND cur.value IS DISTINCT FROM ${value}
      RETURNING ct.customer_id, cur.value AS old_value
    ),
    ev AS (
      INSERT INTO customer_tag_events (customer_id, tag_id, action, value, previous_value, source, actor, occurred_at, confidence, reason)
      SELECT customer_id, ${tag}, 'ADDED', ${value}, NULL, ${b.source}, ${b.actor}, ${now}, ${confidence}, ${reason} FROM ins
      UNION ALL
      SELECT customer_id, ${tag}, 'CHANGED', ${value}, old_value, ${b.source}, ${b.actor}, ${now}, ${confidence}, ${reason} FROM upd
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM sel)::int AS matched, (SELECT count(*) FROM ins)::int AS added,
      (SELECT count(*) FROM upd)::int AS changed, (SELECT count(*) FROM ev)::int AS events`);
  return { matched: Number(r?.matched ?? 0), added: Number(r?.added ?? 0), changed: Number(r?.changed ?? 0) };
}

/** Removes the tag (one value, or all values) from every selected customer; history for unexpired ones. */
export async function bulkRemove(tx: Executor, b: { tagId: string; valueKey: string | null; actor: string; now: Date; where: SQL }): Promise<{ matched: number; removed: number }> {
  const now = ts(b.now);
  const [r] = await execRows<{ matched: number; removed: number }>(tx, sql`
    WITH sel AS MATERIALIZED (SELECT customers.id AS customer_id, ${b.tagId}::uuid AS tag_id FROM customers WHERE ${b.where}),
    del AS (
      DELETE FROM customer_tags ct USING sel
      WHERE ct.customer_id = sel.customer_id AND ct.tag_id = sel.tag_id ${b.valueKey === null ? sql`` : sql`AND ct.value_key = ${b.valueKey}`}
      RETURNING ct.customer_id, ct.value, ct.source, ct.expires_at
    ),
    ev AS (
      INSERT INTO customer_tag_events (customer_id, tag_id, action, value, previous_value, source, actor, occurred_at, reason)
      SELECT customer_id, ${b.tagId}::uuid, 'REMOVED', NULL, value, 'MANUAL', ${b.actor}, ${now}, 'BULK'
      FROM del WHERE expires_at IS NULL OR expires_at > ${now}
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM sel)::int AS matched, (SELECT count(*) FROM ev)::int AS removed`);
  return { matched: Number(r?.matched ?? 0), removed: Number(r?.removed ?? 0) };
}

// ---------------------------------------------------------------------------------------------
// Expiry

/**
 * Deletes up to `batch` expired assignments and records each as REMOVED (reason EXPIRED) at the moment
 * it expired. Returns how many were removed; callers repeat until 0.
 */
export async function expireBatch(tx: Executor, now: Date, batch: number): Promise<number> {
  const [r] = await execRows<{ n: number; events: number }>(tx, sql`
    WITH victims AS (
      SELECT customer_id, tag_id, value_key FROM customer_tags
      WHERE expires_at IS NOT NULL AND expires_at <= ${ts(now)} LIMIT ${batch}
    ),
    del AS (
      DELETE FROM customer_tags ct USING victims v
      WHERE ct.customer_id = v.customer_id AND ct.tag_id = v.tag_id AND ct.value_key = v.value_key
      RETURNING ct.customer_id, ct.tag_id, ct.value, ct.source, ct.rule_id, ct.rule_version, ct.confidence, ct.expires_at
    ),
    ev AS (
      INSERT INTO customer_tag_events (customer_id, tag_id, action, value, previous_value, source, actor, occurred_at, rule_id, rule_version, confidence, reason)
      SELECT customer_id, tag_id, 'REMOVED', NULL, value, source, 'system:expiry', expires_at, rule_id, rule_version, confidence, 'EXPIRED' FROM del
      RETURNING 1
    ),
    -- The customer lost the tag when it expired; the delete trigger skips rows that are no longer
    -- live, so the automation event (webhooks, subscriptions) is written here, in the same statement.
    outbox AS (
      INSERT INTO automation_events (type, customer_id, payload)
      SELECT 'TAG_REMOVED', del.customer_id,
        jsonb_build_object('tagKey', d.key, 'tagCategory', d.category, 'value', NULL, 'previousValue', del.value, 'source', del.source)
      FROM del JOIN tag_definitions d ON d.id = del.tag_id
      -- Rows still live by the database clock (an injected job clock ahead of it) get theirs from the trigger.
      WHERE del.expires_at <= now() AND NOT EXISTS (SELECT 1 FROM erasures z WHERE z.customer_id = del.customer_id)
      RETURNING 1
    )
    SELECT (SELECT count(*)::int FROM ev) AS n, (SELECT count(*)::int FROM outbox) AS events`);
  return Number(r?.n ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Merge

/**
 * Moves the source tag's unexpired assignments to the target (provenance kept), drops the ones the
 * customer already holds on the target, and records REMOVED (source) and ADDED (target) history.
 */
export async function mergeAssignments(tx: Executor, m: { sourceId: string; targetId: string; targetMultiple: boolean; actor: string; now: Date }): Promise<{ moved: number; dropped: number }> {
  const now = ts(m.now);
  const key = m.targetMultiple ? sql`coalesce(s.value, '')` : sql`''`;
  const [r] = await execRows<{ moved: number; dropped: number }>(tx, sql`
    WITH del AS (
      DELETE FROM customer_tags s WHERE s.tag_id = ${m.sourceId}::uuid
      RETURNING s.customer_id, s.value, s.value_key, s.source, s.actor, s.confidence, s.assigned_at, s.expires_at, s.rule_id, s.rule_version
    ),
    live AS (SELECT * FROM del s WHERE s.expires_at IS NULL OR s.expires_at > ${now}),
    moving AS (
      SELECT DISTINCT ON (customer_id, target_key) * FROM (
        SELECT s.*, ${key} AS target_key FROM live s
        WHERE NOT EXISTS (
          SELECT 1 FROM customer_tags t WHERE t.customer_id = s.customer_id AND t.tag_id = ${m.targetId}::uuid AND t.value_key = ${key}
            AND (t.expires_at IS NULL OR t.expires_at > ${now}))
      ) x
      ORDER BY customer_id, target_key, assigned_at DESC
    ),
    ins AS (
      INSERT INTO customer_tags (customer_id, tag_id, value_key, value, source, actor, confidence, assigned_at, expires_at, rule_id, rule_version)
      SELECT customer_id, ${m.targetId}::uuid, target_key, value, source, actor, confidence, assigned_at, expires_at, rule_id, rule_version FROM moving
      ON CONFLICT (customer_id, tag_id, value_key) DO UPDATE SET value = excluded.value, source = excluded.source, actor = excluded.actor,
        confidence = excluded.confidence, assigned_at = excluded.assigned_at, expires_at = excluded.expires_at,
        rule_id = excluded.rule_id, rule_version = excluded.rule_version
      RETURNING customer_id, value, source, confidence
    ),
    ev AS (
      INSERT INTO customer_tag_events (customer_id, tag_id, action, value, previous_value, source, actor, occurred_at, confidence, reason)
      SELECT customer_id, ${m.sourceId}::uuid, 'REMOVED', NULL, value, source, ${m.actor}, ${now}, confidence, 'MERGE' FROM live
      UNION ALL
      SELECT customer_id, ${m.targetId}::uuid, 'ADDED', value, NULL, source, ${m.actor}, ${now}, confidence, 'MERGE' FROM ins
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM ins)::int AS moved, ((SELECT count(*) FROM live) - (SELECT count(*) FROM ins))::int AS dropped,
      (SELECT count(*) FROM ev)::int AS events`);
  return { moved: Number(r?.moved ?? 0), dropped: Number(r?.dropped ?? 0) };
}

// ---------------------------------------------------------------------------------------------
// RFM, lifecycle, value tier, interests

/**
 * Recomputes every customer's RFM scores over the window ending at `now`, in one statement:
 * quintiles with ntile(5) (ties broken by customer id so a run is deterministic), the named segment;
 * only what differs is written: new customers inserted, changed ones updated (`IS DISTINCT FROM` on
 * every stored column), customers without a completed order in the window deleted, and the refresh
 * time recorded once in `rfm_refresh`. Rewriting every row each run cost two index entries and a
 * new row version per customer (measured: most of the refresh on 100,000 customers).
 * `scored` is how many customers have scores, `changed` how many rows were inserted or updated.
 */
export async function refreshRfm(tx: Executor, now: Date, window: string): Promise<{ scored: number; changed: number; cleared: number }> {
  const n = ts(now);
  const [r] = await execRows<{ scored: number; changed: number; cleared: number }>(tx, sql`
    WITH agg AS MATERIALIZED (
      SELECT t.customer_id,
        max(t.occurred_at) FILTER (WHERE t.type = 'ORDER') AS last_purchase_at,
        count(*) FILTER (WHERE t.type = 'ORDER')::int AS frequency,
        sum(CASE WHEN t.type = 'ORDER' THEN t.amount_base ELSE -t.amount_base END) AS monetary
      FROM transactions t
      WHERE t.status = 'COMPLETED' AND t.occurred_at > ${n} - ${window}::interval AND t.occurred_at <= ${n}
      GROUP BY t.customer_id
      -- No scores for customers who object to profiling (their rows are cleared below).
      HAVING count(*) FILTER (WHERE t.type = 'ORDER') > 0 AND ${profilingAllowed(sql`t.customer_id`)}
    ),
    scored AS (
      SELECT customer_id, last_purchase_at, frequency, monetary, r, f, m,
        CASE WHEN r >= 4 AND f >= 4 AND m >= 4 THEN 'CHAMPIONS'
             WHEN r >= 4 AND frequency = 1 THEN 'NEW'
             WHEN f >= 4 AND r >= 3 THEN 'LOYAL'
             WHEN r >= 4 AND f >= 2 THEN 'POTENTIAL_LOYALIST'
             WHEN r <= 2 AND f >= 3 THEN 'AT_RISK'
             WHEN r = 2 THEN 'HIBERNATING'
             WHEN r = 1 THEN 'LOST'
             ELSE 'NEEDS_ATTENTION' END AS segment
      FROM (
        SELECT a.*,
          ntile(5) OVER (ORDER BY a.last_purchase_at, a.customer_id) AS r,
          ntile(5) OVER (ORDER BY a.frequency, a.customer_id) AS f,
          ntile(5) OVER (ORDER BY a.monetary, a.customer_id) AS m
        FROM agg a
      ) q
    ),
    changed AS MATERIALIZED (
      SELECT s.*, x.customer_id IS NULL AS is_new
      FROM scored s LEFT JOIN customer_rfm x ON x.customer_id = s.customer_id
      WHERE x.customer_id IS NULL
         OR (x.last_purchase_at, x.frequency, x.monetary, x.r_score, x.f_score, x.m_score, x.segment)
            IS DISTINCT FROM (s.last_purchase_at, s.frequency, s.monetary, s.r, s.f, s.m, s.segment)
      ORDER BY s.customer_id
    ),
    ins AS (
      INSERT INTO customer_rfm (customer_id, last_purchase_at, frequency, monetary, r_score, f_score, m_score, segment)
      SELECT customer_id, last_purchase_at, frequency, monetary, r, f, m, segment FROM changed WHERE is_new
      ON CONFLICT (customer_id) DO UPDATE SET last_purchase_at = excluded.last_purchase_at, frequency = excluded.frequency,
        monetary = excluded.monetary, r_score = excluded.r_score, f_score = excluded.f_score, m_score = excluded.m_score,
        segment = excluded.segment
      RETURNING 1
    ),
    upd AS (
      UPDATE customer_rfm x SET last_purchase_at = c.last_purchase_at, frequency = c.frequency, monetary = c.monetary,
        r_score = c.r, f_score = c.f, m_score = c.m, segment = c.segment
      FROM changed c
      WHERE NOT c.is_new AND x.customer_id = c.customer_id
      RETURNING 1
    ),
    cleared AS (
      DELETE FROM customer_rfm x WHERE NOT EXISTS (SELECT 1 FROM agg WHERE agg.customer_id = x.customer_id) RETURNING 1
    ),
    refresh AS (
      INSERT INTO rfm_refresh (id, computed_at) VALUES (true, ${n})
      ON CONFLICT (id) DO UPDATE SET computed_at = excluded.computed_at
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM agg)::int AS scored, ((SELECT count(*) FROM ins) + (SELECT count(*) FROM upd))::int AS changed,
      (SELECT count(*) FROM cleared)::int AS cleared, (SELECT count(*) FROM refresh)::int AS refreshes`);
  return { scored: Number(r?.scored ?? 0), changed: Number(r?.changed ?? 0), cleared: Number(r?.cleared ?? 0) };
}

export interface LifecycleThresholds { newDays: number; activeDays: number; churnDays: number }

/**
 * Derives every (or the given) customer's lifecycle stage at `now` and writes the changed ones, with a
 * history row each, in one statement:
 *   PROSPECT     never bought
 *   CHURNED      last order more than churnDays ago
 *   AT_RISK      last order more than activeDays ago
 *   REACTIVATED  bought within activeDays after a gap of more than churnDays since the order before
 *   NEW          first order within newDays
 *   ACTIVE       otherwise
 */
export async function refreshLifecycle(tx: Executor, now: Date, t: LifecycleThresholds, reason: string, customerIds: readonly string[] | null): Promise<number> {
  const n = ts(now);
  const days = (d: number) => sql`make_interval(days => ${d}::int)`;
  const scope = customerIds ? sql`WHERE c.id = ANY(${uuidArr(customerIds)})` : sql``;
  const [r] = await execRows<{ n: number }>(tx, sql`
    WITH computed AS (
      SELECT c.id, c.lifecycle_stage AS old_stage,
        CASE WHEN m.last_purchase_at IS NULL THEN 'PROSPECT'
             WHEN m.last_purchase_at < ${n} - ${days(t.churnDays)} THEN 'CHURNED'
             WHEN m.last_purchase_at < ${n} - ${days(t.activeDays)} THEN 'AT_RISK'
             WHEN EXISTS (SELECT 1 FROM transactions p WHERE p.customer_id = c.id AND p.type = 'ORDER' AND p.status = 'COMPLETED'
                            AND p.occurred_at < m.last_purchase_at)
              AND NOT EXISTS (SELECT 1 FROM transactions p WHERE p.customer_id = c.id AND p.type = 'ORDER' AND p.status = 'COMPLETED'
                            AND p.occurred_at < m.last_purchase_at AND p.occurred_at >= m.last_purchase_at - ${days(t.churnDays)}) THEN 'REACTIVATED'
             WHEN m.first_purchase_at >= ${n} - ${days(t.newDays)} THEN 'NEW'
             ELSE 'ACTIVE' END AS new_stage
      FROM customers c LEFT JOIN customer_metrics m ON m.customer_id = c.id
      ${scope}
    ),
    upd AS (
      UPDATE customers c SET lifecycle_stage = x.new_stage FROM computed x
      WHERE c.id = x.id AND c.lifecycle_stage <> x.new_stage
      RETURNING c.id, x.old_stage, x.new_stage
    ),
    ev AS (
      INSERT INTO customer_lifecycle_events (customer_id, from_stage, to_stage, reason, occurred_at)
      SELECT id, old_stage, new_stage, ${reason}, ${n} FROM upd
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM ev`);
  return Number(r?.n ?? 0);
}

/**
 * Desired value-tier tags: CHURNED (lifecycle CHURNED, bought before), HIGH_VALUE (top spend quintile),
 * POTENTIAL (recent buyers in segment NEW or POTENTIAL_LOYALIST). Confidence: the RFM scores'
 * share of their maximum (HIGH_VALUE, POTENTIAL), or how far past the churn threshold (CHURNED).
 */
export function valueTierDesired(now: Date, churnDays: number): SQL {
  const n = ts(now);
  return sql`
    SELECT c.id AS customer_id,
      CASE WHEN c.lifecycle_stage = 'CHURNED' THEN 'CHURNED' WHEN r.m_score = 5 THEN 'HIGH_VALUE' ELSE 'POTENTIAL' END AS value,
      CASE WHEN c.lifecycle_stage = 'CHURNED'
             THEN least(1.0, 0.5 + extract(epoch FROM (${n} - m.last_purchase_at)) / 86400 / ${churnDays * 4}::numeric)
           WHEN r.m_score = 5 THEN (r.r_score + r.f_score + r.m_score) / 15.0
           ELSE (r.r_score + r.m_score) / 10.0 END AS confidence
    FROM customers c
    LEFT JOIN customer_metrics m ON m.customer_id = c.id
    LEFT JOIN customer_rfm r ON r.customer_id = c.id
    WHERE (c.lifecycle_stage = 'CHURNED' AND m.last_purchase_at IS NOT NULL)
       OR (c.lifecycle_stage <> 'CHURNED' AND (r.m_score = 5 OR (r.r_score >= 4 AND r.segment IN ('NEW', 'POTENTIAL_LOYALIST'))))`;
}

/**
 * Desired interest tags: per customer and product category, the share of spend (base currency) weighted
 * by recency (half-life `halfLifeDays`; orders older than four half-lives are ignored); categories with a
 * share of at least `minAffinity`, at most `maxTags` per customer. The share is the confidence.
 */
export function interestDesired(now: Date, p: { halfLifeDays: number; minAffinity: number; maxTags: number }): SQL {
  const n = ts(now);
  return sql`
    SELECT customer_id, category AS value, share AS confidence FROM (
      SELECT customer_id, category, w / nullif(sum(w) OVER (PARTITION BY customer_id), 0) AS share,
        row_number() OVER (PARTITION BY customer_id ORDER BY w DESC, category) AS rank
      FROM (
        SELECT i.customer_id, i.category,
          sum(i.quantity * i.unit_price * (t.amount_base / nullif(t.amount, 0))
              * exp(-0.693147 * extract(epoch FROM (${n} - t.occurred_at)) / 86400 / ${p.halfLifeDays}::numeric)) AS w
        FROM transactions t
        JOIN transaction_items i ON i.customer_id = t.customer_id AND i.transaction_id = t.id
        WHERE t.type = 'ORDER' AND t.status = 'COMPLETED' AND i.category IS NOT NULL
          AND t.occurred_at <= ${n} AND t.occurred_at > ${n} - make_interval(days => ${p.halfLifeDays * 4}::int)
        GROUP BY i.customer_id, i.category
      ) w
    ) s
    WHERE share >= ${p.minAffinity}::numeric AND rank <= ${p.maxTags}::int`;
}

// ---------------------------------------------------------------------------------------------
// Rule desired sets

export type RuleMetric = 'TOTAL_SPENT' | 'ORDER_COUNT' | 'AVERAGE_ORDER_VALUE' | 'DAYS_SINCE_LAST_PURCHASE' | 'RFM_TOTAL';
export interface Band { min: string | null; max: string | null; value: string }
export type RuleValue = { kind: 'CONSTANT'; value: string | null } | { kind: 'METRIC'; metric: RuleMetric; bands: Band[] };

function metricExpr(metric: RuleMetric, now: Date): SQL {
  switch (metric) {
    case 'TOTAL_SPENT': return sql`coalesce(m.total_spent, 0)`;
    case 'ORDER_COUNT': return sql`coalesce(m.order_count, 0)::numeric`;
    case 'AVERAGE_ORDER_VALUE': return sql`(CASE WHEN m.order_count > 0 THEN round(m.total_spent / m.order_count, 4) ELSE 0 END)`;
    case 'DAYS_SINCE_LAST_PURCHASE': return sql`floor(extract(epoch FROM (${ts(now)} - m.last_purchase_at)) / 86400)`;
    case 'RFM_TOTAL': return sql`(r.r_score + r.f_score + r.m_score)::numeric`;
  }
}

/** customers matching `where` (a compiled CustomerFilter over `customers`), with the rule's value. */
export function ruleDesired(where: SQL | undefined, value: RuleValue, confidence: string | null, now: Date): SQL {
  const conf = sql`${confidence}::numeric`;
  if (value.kind === 'CONSTANT') {
    return sql`SELECT customers.id AS customer_id, ${value.value}::text AS value, ${conf} AS confidence FROM customers WHERE ${where ?? sql`true`}`;
  }
  const x = metricExpr(value.metric, now);
  const v = value.bands.length
    ? sql`(CASE ${sql.join(value.bands.map((b) => {
      const conds = [
        ...(b.min !== null ? [sql`${x} >= ${b.min}::numeric`] : []),
        ...(b.max !== null ? [sql`${x} < ${b.max}::numeric`] : []),
      ];
      return sql`WHEN ${conds.length ? sql.join(conds, sql` AND `) : sql`${x} IS NOT NULL`} THEN ${b.value}::text`;
    }), sql` `)} END)`
    : sql`trim_scale(${x}::numeric)::text`;
  return sql`
    SELECT customer_id, value, confidence FROM (
      SELECT customers.id AS customer_id, ${v} AS value, ${conf} AS confidence
      FROM customers
      LEFT JOIN customer_metrics m ON m.customer_id = customers.id
      ${value.metric === 'RFM_TOTAL' ? sql`LEFT JOIN customer_rfm r ON r.customer_id = customers.id` : sql``}
      WHERE ${where ?? sql`true`}
    ) v WHERE value IS NOT NULL`;
}

/** Records one rule run. */
export async function insertRuleRun(tx: Executor, run: {
  ruleId: string; ruleVersion: number; trigger: string; startedAt: Date; evaluatedAt: Date; durationMs: number;
  scopedCustomers: number | null; counts: SyncCounts;
}): Promise<string> {
  const [r] = await execRows<{ id: string }>(tx, sql`
    INSERT INTO tag_rule_runs (rule_id, rule_version, trigger, started_at, evaluated_at, duration_ms, scoped_customers, added, changed, removed, kept)
    VALUES (${run.ruleId}::uuid, ${run.ruleVersion}, ${run.trigger}, ${ts(run.startedAt)}, ${ts(run.evaluatedAt)}, ${Math.round(run.durationMs)},
      ${run.scopedCustomers}, ${run.counts.added}, ${run.counts.changed}, ${run.counts.removed}, ${run.counts.kept})
    RETURNING id`);
  return r!.id;
}
