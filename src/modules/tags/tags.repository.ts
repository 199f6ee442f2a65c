import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { execRows, toDate, toDateOrNull, type Db, type Executor } from '../../db/client';
import { tagDefinitions, tagRules } from '../../db/schema/index';
import { uuidIn, uuidRows } from '../../lib/sql';
import type {
  CustomerTagRow, LifecycleChangeRow, RfmRow, TagChangeRow, TagDefinitionRow, TagRuleRow, TagRuleRunRow,
} from './tags.mappers';

/** SQL of the tags domain (reads and single-row writes). Set-based engine statements: tag-engine.repository.ts. */

export async function listTagDefinitions(db: Db, category: string | null, status: string | null = null): Promise<TagDefinitionRow[]> {
  return db.select().from(tagDefinitions)
    .where(and(category ? eq(tagDefinitions.category, category) : undefined, status ? eq(tagDefinitions.status, status) : undefined))
    .orderBy(asc(tagDefinitions.category), asc(tagDefinitions.key));
}

export async function tagDefinitionsByIds(db: Pick<Db, 'select'>, ids: readonly string[]): Promise<TagDefinitionRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(tagDefinitions).where(inArray(tagDefinitions.id, [...ids]));
}

export async function tagDefinitionsByKeys(db: Pick<Db, 'select'>, keys: readonly string[]): Promise<TagDefinitionRow[]> {
  if (keys.length === 0) return [];
  return db.select().from(tagDefinitions).where(inArray(tagDefinitions.key, [...keys]));
}

/**
 * Definitions answering to these keys: their current key first, else a former key (rename, merge).
 * Keys map to at most one definition: current keys win over former ones.
 */
export async function tagDefinitionsByAnyKeys(db: Pick<Db, 'select'>, keys: readonly string[]): Promise<Map<string, TagDefinitionRow>> {
  const out = new Map<string, TagDefinitionRow>();
  if (keys.length === 0) return out;
  const rows = await db.select().from(tagDefinitions)
    .where(sql`${tagDefinitions.key} = ANY(${sql.param([...keys])}::text[]) OR ${tagDefinitions.formerKeys} && ${sql.param([...keys])}::text[]`);
  for (const k of keys) {
    const exact = rows.find((r) => r.key === k);
    const former = rows.filter((r) => r.formerKeys.includes(k)).sort((a, b) => (a.status === 'ACTIVE' ? -1 : 0) - (b.status === 'ACTIVE' ? -1 : 0))[0];
    // A merged tag's key leads to the tag it was merged into.
    const hit = exact && !exact.mergedInto ? exact : former ?? exact;
    if (hit) out.set(k, hit);
  }
  return out;
}

/** True when a key is taken, as a current or a former key of any definition. */
export async function tagKeyTaken(db: Pick<Db, 'select'>, key: string): Promise<boolean> {
  const rows = await db.select({ id: tagDefinitions.id }).from(tagDefinitions)
    .where(sql`${tagDefinitions.key} = ${key} OR ${tagDefinitions.formerKeys} @> ARRAY[${key}]::text[]`).limit(1);
  return rows.length > 0;
}

export interface CustomerTagDbRow {
  customer_id: string; value: string | null; source: string; actor: string | null; confidence: string | null;
  assigned_at: unknown; expires_at: unknown; rule_id: string | null; rule_version: number | null;
  tag: TagDefinitionJson;
}
interface TagDefinitionJson {
  id: string; key: string; name: string; description: string; category: string; value_type: string; created_at: string;
  cardinality: string; allowed_values: string[] | null; default_ttl: string | null; owner: string | null; status: string;
  former_keys: string[]; merged_into: string | null; updated_at: string;
}
const defFromJson = (d: TagDefinitionJson): TagDefinitionRow => ({
  id: d.id, key: d.key, name: d.name, description: d.description, category: d.category, valueType: d.value_type,
  createdAt: toDate(d.created_at), cardinality: d.cardinality, allowedValues: d.allowed_values, defaultTtl: d.default_ttl,
  owner: d.owner, status: d.status, formerKeys: d.former_keys, mergedInto: d.merged_into, updatedAt: toDate(d.updated_at),
});

/** Current tags with their definitions; expired assignments are invisible from the moment they expire. */
export async function tagsByCustomerIds(db: Executor, customerIds: readonly string[]): Promise<CustomerTagRow[]> {
  if (customerIds.length === 0) return [];
  return mapCustomerTags(await execRows<CustomerTagDbRow>(db, tagsByCustomerIdsQuery(customerIds)));
}

export function tagsByCustomerIdsQuery(customerIds: readonly string[]): SQL {
  return sql`
    SELECT ct.customer_id, ct.value, ct.source, ct.actor, ct.confidence::text AS confidence, ct.assigned_at, ct.expires_at,
      ct.rule_id, ct.rule_version, to_jsonb(d) AS tag
    FROM customer_tags ct JOIN tag_definitions d ON d.id = ct.tag_id
    WHERE ${uuidIn('ct.customer_id', customerIds)} AND (ct.expires_at IS NULL OR ct.expires_at > now())
    ORDER BY ct.customer_id, d.category, d.key, ct.value_key`;
}

export function mapCustomerTags(rows: readonly CustomerTagDbRow[]): CustomerTagRow[] {
  return rows.map((r) => ({
    customerId: r.customer_id,
    value: r.value,
    source: r.source,
    actor: r.actor,
    confidence: r.confidence,
    assignedAt: toDate(r.assigned_at),
    expiresAt: toDateOrNull(r.expires_at),
    ruleId: r.rule_id,
    ruleVersion: r.rule_version,
    tag: defFromJson(r.tag),
  }));
}

export interface TagEventDbRow {
  id: string; customer_id: string; tag_id: string; action: string; value: string | null; previous_value: string | null;
  source: string; actor: string | null; occurred_at: unknown; occurred_key: string;
  reason?: string | null; rule_id?: string | null; rule_version?: number | null; confidence?: string | null;
}

export function mapTagChange(r: TagEventDbRow): TagChangeRow {
  return {
    id: r.id, customerId: r.customer_id, tagId: r.tag_id, action: r.action, value: r.value, previousValue: r.previous_value,
    source: r.source, actor: r.actor, occurredAt: toDate(r.occurred_at), occurredKey: r.occurred_key,
    reason: r.reason ?? null, ruleId: r.rule_id ?? null, ruleVersion: r.rule_version ?? null, confidence: r.confidence ?? null,
  };
}

const EVENT_COLUMNS = sql.raw(`e.id, e.customer_id, e.tag_id, e.action, e.value, e.previous_value, e.source, e.actor, e.occurred_at,
  to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_key, e.reason, e.rule_id, e.rule_version,
  e.confidence::text AS confidence`);

export async function tagChangesByIds(db: Db, ids: readonly string[]): Promise<TagChangeRow[]> {
  if (ids.length === 0) return [];
  const rows = await execRows<TagEventDbRow>(db, sql`
    SELECT ${EVENT_COLUMNS} FROM customer_tag_events e WHERE ${uuidIn('e.id', ids)}`);
  return rows.map(mapTagChange);
}

export interface TagHistoryArgs { limit: number; tagKey: string | null }

/** The newest `limit` tag changes of every customer (optionally of one tag): one statement for all parents. */
export async function tagHistories(db: Db, customerIds: readonly string[], args: TagHistoryArgs): Promise<Map<string, TagChangeRow[]>> {
  const out = new Map<string, TagChangeRow[]>();
  if (customerIds.length === 0) return out;
  const tagCond = args.tagKey
    ? sql`AND e.tag_id IN (SELECT d.id FROM tag_definitions d WHERE d.key = ${args.tagKey} OR d.former_keys @> ARRAY[${args.tagKey}]::text[])`
    : sql``;
  const rows = await execRows<TagEventDbRow>(db, sql`
    SELECT x.* FROM ${uuidRows(customerIds, 'k', 'customer_id')}
    CROSS JOIN LATERAL (
      SELECT ${EVENT_COLUMNS} FROM customer_tag_events e
      WHERE e.customer_id = k.customer_id ${tagCond}
      ORDER BY e.occurred_at DESC, e.id DESC LIMIT ${args.limit}
    ) x`);
  for (const r of rows) {
    const list = out.get(r.customer_id);
    const ev = mapTagChange(r);
    if (list) list.push(ev);
    else out.set(r.customer_id, [ev]);
  }
  return out;
}

export async function lifecycleHistories(db: Db, customerIds: readonly string[], limit: number): Promise<Map<string, LifecycleChangeRow[]>> {
  const out = new Map<string, LifecycleChangeRow[]>();
  if (customerIds.length === 0) return out;
  const rows = await execRows<{ id: string; customer_id: string; from_stage: string | null; to_stage: string; reason: string; occurred_at: unknown }>(db, sql`
    SELECT x.* FROM ${uuidRows(customerIds, 'k', 'customer_id')}
    CROSS JOIN LATERAL (
      SELECT e.id, e.customer_id, e.from_stage, e.to_stage, e.reason, e.occurred_at FROM customer_lifecycle_events e
      WHERE e.customer_id = k.customer_id ORDER BY e.occurred_at DESC, e.id DESC LIMIT ${limit}
    ) x`);
  for (const r of rows) {
    const ev: LifecycleChangeRow = { id: r.id, customerId: r.customer_id, fromStage: r.from_stage, toStage: r.to_stage, reason: r.reason, occurredAt: toDate(r.occurred_at) };
    const list = out.get(r.customer_id);
    if (list) list.push(ev);
    else out.set(r.customer_id, [ev]);
  }
  return out;
}

/** Customers holding each tag now (unexpired). */
export async function tagCustomerCounts(db: Db, tagIds: readonly string[]): Promise<{ tagId: string; n: number }[]> {
  if (tagIds.length === 0) return [];
  const rows = await execRows<{ tag_id: string; n: number }>(db, sql`
    SELECT tag_id, count(DISTINCT customer_id)::int AS n FROM customer_tags
    WHERE tag_id = ANY(${sql.param([...tagIds])}::uuid[]) AND (expires_at IS NULL OR expires_at > now())
    GROUP BY tag_id`);
  return rows.map((r) => ({ tagId: r.tag_id, n: Number(r.n) }));
}

/** Customers holding a tag through each rule now. */
export async function ruleCustomerCounts(db: Db, ruleIds: readonly string[]): Promise<{ ruleId: string; n: number }[]> {
  if (ruleIds.length === 0) return [];
  const rows = await execRows<{ rule_id: string; n: number }>(db, sql`
    SELECT rule_id, count(DISTINCT customer_id)::int AS n FROM customer_tags
    WHERE rule_id = ANY(${sql.param([...ruleIds])}::uuid[]) AND (expires_at IS NULL OR expires_at > now())
    GROUP BY rule_id`);
  return rows.map((r) => ({ ruleId: r.rule_id, n: Number(r.n) }));
}

export interface TagUsageRow { tagId: string; relation: 'ASSIGNS' | 'FILTERS_ON'; rule: TagRuleRow }

/**
 * What depends on each tag. Rules today; another consumer (segments) adds a branch here and a member
 * to the GraphQL union `TagConsumer`.
 */
export async function tagUsages(db: Db, tagIds: readonly string[]): Promise<TagUsageRow[]> {
  if (tagIds.length === 0) return [];
  const ids = [...tagIds];
  const rows = await db.select().from(tagRules)
    .where(sql`${tagRules.tagId} = ANY(${sql.param(ids)}::uuid[]) OR ${tagRules.referencedTagIds} && ${sql.param(ids)}::uuid[]`)
    .orderBy(asc(tagRules.key));
  const out: TagUsageRow[] = [];
  for (const id of ids) {
    for (const r of rows) {
      if (r.tagId === id) out.push({ tagId: id, relation: 'ASSIGNS', rule: r });
      if (r.referencedTagIds.includes(id)) out.push({ tagId: id, relation: 'FILTERS_ON', rule: r });
    }
  }
  return out;
}

export async function listTagRules(db: Db, enabled: boolean | null): Promise<TagRuleRow[]> {
  return db.select().from(tagRules).where(enabled === null ? undefined : eq(tagRules.enabled, enabled)).orderBy(asc(tagRules.key));
}

export async function tagRulesByIds(db: Pick<Db, 'select'>, ids: readonly string[]): Promise<TagRuleRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(tagRules).where(inArray(tagRules.id, [...ids]));
}

/** The newest runs of each rule: one statement for all rules. */
export async function ruleRuns(db: Db, ruleIds: readonly string[], limit: number): Promise<Map<string, TagRuleRunRow[]>> {
  const out = new Map<string, TagRuleRunRow[]>();
  if (ruleIds.length === 0) return out;
  const rows = await execRows<{
    id: string; rule_id: string; rule_version: number; trigger: string; started_at: unknown; evaluated_at: unknown; duration_ms: number;
    scoped_customers: number | null; added: number; changed: number; removed: number; kept: number;
  }>(db, sql`
    SELECT x.* FROM unnest(${sql.param([...ruleIds])}::uuid[]) AS k(rule_id)
    CROSS JOIN LATERAL (
      SELECT r.* FROM tag_rule_runs r WHERE r.rule_id = k.rule_id ORDER BY r.started_at DESC, r.id DESC LIMIT ${limit}
    ) x`);
  for (const r of rows) {
    const run: TagRuleRunRow = {
      id: r.id, ruleId: r.rule_id, ruleVersion: r.rule_version, trigger: r.trigger, startedAt: toDate(r.started_at),
      evaluatedAt: toDate(r.evaluated_at), durationMs: r.duration_ms, scopedCustomers: r.scoped_customers,
      added: r.added, changed: r.changed, removed: r.removed, kept: r.kept,
    };
    const list = out.get(r.rule_id);
    if (list) list.push(run);
    else out.set(r.rule_id, [run]);
  }
  return out;
}

export async function rfmByCustomerIds(db: Db, customerIds: readonly string[]): Promise<RfmRow[]> {
  if (customerIds.length === 0) return [];
  const rows = await execRows<{
    customer_id: string; last_purchase_at: unknown; recency_days: number; frequency: number; monetary: string;
    r_score: number; f_score: number; m_score: number; segment: string; computed_at: unknown;
  }>(db, sql`
    SELECT r.customer_id, r.last_purchase_at, floor(extract(epoch FROM (x.computed_at - r.last_purchase_at)) / 86400)::int AS recency_days,
      r.frequency, r.monetary::text AS monetary, r.r_score, r.f_score, r.m_score, r.segment, x.computed_at
    FROM customer_rfm r JOIN rfm_refresh x ON x.id
    WHERE ${uuidIn('r.customer_id', customerIds)}`);
  return rows.map((r) => ({
    customerId: r.customer_id, lastPurchaseAt: toDate(r.last_purchase_at), recencyDays: r.recency_days, frequency: r.frequency,
    monetary: r.monetary, rScore: r.r_score, fScore: r.f_score, mScore: r.m_score, segment: r.segment, computedAt: toDate(r.computed_at),
  }));
}

/** Customer ids that exist, of the given ones. */
export async function existingCustomerIds(db: Executor, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await execRows<{ id: string }>(db, sql`SELECT id FROM customers WHERE id = ANY(${sql.param([...ids])}::uuid[])`);
  return rows.map((r) => r.id);
}

export type { SQL };
