import { and, eq, sql } from 'drizzle-orm';
import type { Config } from '../../config';
import type { Db, Executor } from '../../db/client';
import { tagRules } from '../../db/schema/index';
import { userError, type UserError } from '../../errors';
import { tryGlobalId } from '../../lib/global-id';
import { cleanText, normalizeDecimal } from '../../lib/normalize';
import type {
  CustomerFilter, TagRuleInput, TagValueFromInput, UpdateTagRuleInput,
} from '../../__generated__/resolvers-types';
import type { TagDefinitionRow, TagRuleRow, TagRuleRunRow } from './tags.mappers';
import { tagDefinitionsByAnyKeys, tagDefinitionsByIds, tagRulesByIds } from './tags.repository';
import {
  applySync, insertRuleRun, lockTag, previewSync, removeRuleAssignments, ruleDesired, setLocalStatementTimeout,
  type Band, type PreviewCounts, type RuleMetric, type RuleValue, type SyncCounts, type SyncPlan,
} from './tag-engine.repository';
import { canonicalNumber, compileFilterInto, TAG_KEY, validateConfidence, validateTagValue } from './tags.service';

export type RuleTrigger = 'ENABLE' | 'UPDATE' | 'MANUAL' | 'SCHEDULE' | 'INCREMENTAL' | 'DISABLE';
type EngineConfig = Pick<Config, 'defaultPhoneRegion' | 'tagEngine'>;

// ---------------------------------------------------------------------------------------------
// Stored filters

/** Stored filters are JSON: DateTime bounds (`from`, `to`) come back as strings and are revived as Dates. */
export function reviveFilter(json: unknown): CustomerFilter {
  const walk = (v: unknown, key: string | null): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, null));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    if ((key === 'from' || key === 'to') && typeof v === 'string') return new Date(v);
    return v;
  };
  return walk(json, null) as CustomerFilter;
}

/** Tag keys a filter has conditions on (for `usedBy`). */
export function filterTagKeys(f: CustomerFilter | null | undefined, out = new Set<string>()): Set<string> {
  if (!f) return out;
  if (f.tag?.key) out.add(f.tag.key.trim());
  for (const sub of [...(f.and ?? []), ...(f.or ?? []), ...(f.not ? [f.not] : [])]) filterTagKeys(sub, out);
  return out;
}

const plainJson = (f: CustomerFilter): unknown => JSON.parse(JSON.stringify(f));

export function ruleValueOf(rule: Pick<TagRuleRow, 'value' | 'valueFrom'>): RuleValue {
  const vf = rule.valueFrom as { metric: RuleMetric; bands: Band[] } | null;
  return vf ? { kind: 'METRIC', metric: vf.metric, bands: vf.bands } : { kind: 'CONSTANT', value: rule.value };
}

// ---------------------------------------------------------------------------------------------
// Validation

interface RuleDraft {
  key: string; name: string; description: string; tag: TagDefinitionRow; filter: CustomerFilter; value: string | null;
  valueFrom: { metric: RuleMetric; bands: Band[] } | null; confidence: string | null; referencedTagIds: string[];
}

function validateValueFrom(tag: TagDefinitionRow, vf: TagValueFromInput, errors: UserError[]): { metric: RuleMetric; bands: Band[] } | null {
  const field = ['input', 'valueFrom'];
  if (tag.valueType === 'BOOLEAN') { errors.push(userError(field, `${tag.key} is a BOOLEAN tag: it takes no value`)); return null; }
  const bands: Band[] = [];
  if (!vf.bands || vf.bands.length === 0) {
    if (tag.valueType !== 'NUMBER') errors.push(userError([...field, 'bands'], 'without bands the value is the metric itself: only for NUMBER tags'));
  } else {
    if (vf.bands.length > 50) errors.push(userError([...field, 'bands'], 'at most 50 bands'));
    vf.bands.forEach((b, i) => {
      const p = [...field, 'bands', String(i)];
      const min = b.min == null ? null : normalizeDecimal(b.min);
      const max = b.max == null ? null : normalizeDecimal(b.max);
      if (b.min != null && min === null) errors.push(userError([...p, 'min'], 'min is not a number'));
      if (b.max != null && max === null) errors.push(userError([...p, 'max'], 'max is not a number'));
      if (min !== null && max !== null && Number(min) >= Number(max)) errors.push(userError(p, 'min must be below max'));
      const value = validateTagValue(tag, b.value, errors, [...p, 'value']);
      bands.push({ min: min === null ? null : canonicalNumber(min), max: max === null ? null : canonicalNumber(max), value: value ?? '' });
    });
  }
  return { metric: vf.metric, bands };
}

async function draftFrom(db: Executor, config: EngineConfig, input: {
  key: string; name: string; description?: string | null; tag: TagDefinitionRow | null; filter: CustomerFilter;
  value?: string | null; valueFrom?: TagValueFromInput | null; confidence?: number | null;
}, errors: UserError[]): Promise<RuleDraft | null> {
  const key = input.key.trim();
  if (!TAG_KEY.test(key)) errors.push(userError(['input', 'key'], 'key must be 2-64 lowercase letters, digits or _, starting with a letter'));
  const name = cleanText(input.name);
  if (!name || name.length > 200) errors.push(userError(['input', 'name'], 'name must be 1-200 characters'));
  const description = cleanText(input.description ?? null) ?? '';
  if (description.length > 2000) errors.push(userError(['input', 'description'], 'description must be at most 2000 characters'));
  const confidence = validateConfidence(input.confidence, errors, ['input', 'confidence']);
  compileFilterInto(input.filter, config, errors, ['input', 'filter']);
  const tag = input.tag;
  if (!tag) return null;
  if (tag.status !== 'ACTIVE') errors.push(userError(['input', 'tagKey'], `${tag.key} is deprecated`, 'CONFLICT'));
  let value: string | null = null;
  let valueFrom: RuleDraft['valueFrom'] = null;
  if (input.valueFrom) {
    if (input.value != null) errors.push(userError(['input', 'value'], 'give value or valueFrom, not both'));
    valueFrom = validateValueFrom(tag, input.valueFrom, errors);
  } else {
    value = validateTagValue(tag, input.value, errors, ['input', 'value']);
  }
  const keys = [...filterTagKeys(input.filter)];
  const refs = await tagDefinitionsByAnyKeys(db, keys);
  const missing = keys.filter((k) => !refs.has(k));
  if (missing.length) errors.push(userError(['input', 'filter'], `the filter names unknown tags: ${missing.join(', ')}`, 'NOT_FOUND'));
  if (errors.length) return null;
  return {
    key, name: name!, description, tag, filter: input.filter, value, valueFrom, confidence,
    referencedTagIds: [...new Set([...refs.values()].map((d) => d.id))],
  };
}

async function tagByKey(db: Executor, key: string, errors: UserError[]): Promise<TagDefinitionRow | null> {
  const def = (await tagDefinitionsByAnyKeys(db, [key.trim()])).get(key.trim());
  if (!def) errors.push(userError(['input', 'tagKey'], `no tag with key ${key}`, 'NOT_FOUND'));
  return def ?? null;
}

// ---------------------------------------------------------------------------------------------
// Engine

const ruleActor = (r: Pick<TagRuleRow, 'key' | 'version'>) => `rule:${r.key}@v${r.version}`;

function planFor(rule: TagRuleRow, tag: TagDefinitionRow, config: EngineConfig, now: Date, customerIds: readonly string[] | null): SyncPlan {
  // The whole base: grouped semi-joins; a few customers (incremental): per-customer subqueries.
  const where = compileFilterInto(reviveFilter(rule.filter), config, [], ['filter'], now, customerIds === null);
  return {
    tag: { id: tag.id, cardinality: tag.cardinality, defaultTtl: tag.defaultTtl },
    owner: { kind: 'RULE', ruleId: rule.id, version: rule.version, actor: ruleActor(rule) },
    desired: ruleDesired(where, ruleValueOf(rule), rule.confidence, now),
    now,
    customerIds,
  };
}

export interface RunOptions { now?: Date; customerIds?: readonly string[] | null }

/**
 * Evaluates one rule (all customers, or the given ones) in its own transaction: the tag is locked,
 * the diff applied in one statement, and the run recorded. Incremental runs that changed nothing are
 * not recorded (every write would otherwise add a row per enabled rule).
 */
export async function runRule(db: Db, config: EngineConfig, rule: TagRuleRow, trigger: RuleTrigger, opts: RunOptions = {}): Promise<TagRuleRunRow | null> {
  const now = opts.now ?? new Date();
  const startedAt = new Date();
  const started = performance.now();
  const [tag] = await tagDefinitionsByIds(db, [rule.tagId]);
  if (!tag) return null;
  return db.transaction(async (tx) => {
    if (trigger !== 'INCREMENTAL') await setLocalStatementTimeout(tx, config.tagEngine.jobStatementTimeoutMs);
    await lockTag(tx, tag.id);
    const counts: SyncCounts = await applySync(tx, planFor(rule, tag, config, now, opts.customerIds ?? null));
    if (trigger === 'INCREMENTAL' && counts.added + counts.changed + counts.removed === 0) return null;
    const durationMs = performance.now() - started;
    const run = {
      ruleId: rule.id, ruleVersion: rule.version, trigger, startedAt, evaluatedAt: now, durationMs,
      scopedCustomers: opts.customerIds ? opts.customerIds.length : null, counts,
    };
    const id = await insertRuleRun(tx, run);
    return { id, ...run, durationMs: Math.round(durationMs), ...counts };
  });
}

/** Every enabled rule, one after the other (the schedule; `npm run jobs -- rules`). */
export async function runEnabledRules(db: Db, config: EngineConfig, trigger: RuleTrigger, opts: RunOptions = {}): Promise<TagRuleRunRow[]> {
  const rules = await db.select().from(tagRules).where(eq(tagRules.enabled, true)).orderBy(tagRules.key);
  const runs: TagRuleRunRow[] = [];
  for (const r of rules) {
    const run = await runRule(db, config, r, trigger, opts);
    if (run) runs.push(run);
  }
  return runs;
}

export interface PreviewResult extends PreviewCounts { userErrors: UserError[] }
const emptyPreview = (userErrors: UserError[]): PreviewResult =>
  ({ matching: 0, gain: 0, change: 0, lose: 0, keep: 0, gainSample: [], loseSample: [], changeSample: [], userErrors });

/** Dry run of a saved rule (`id`) or an unsaved one (`input`): counts and samples, nothing written. */
export async function previewTagRule(db: Db, config: EngineConfig, args: { id?: string | null; input?: TagRuleInput | null; sampleSize?: number | null }, now = new Date()): Promise<PreviewResult> {
  const errors: UserError[] = [];
  const sample = Math.min(Math.max(args.sampleSize ?? 5, 0), 50);
  if ((args.id == null) === (args.input == null)) return emptyPreview([userError(['id'], 'give exactly one of id or input')]);
  let rule: TagRuleRow;
  let tag: TagDefinitionRow;
  if (args.id) {
    const found = await ruleById(db, args.id, ['id'], errors);
    const [t] = found ? await tagDefinitionsByIds(db, [found.tagId]) : [];
    if (!found || !t) return emptyPreview(errors);
    rule = found;
    tag = t;
  } else {
    const input = args.input!;
    const draft = await draftFrom(db, config, { ...input, tag: await tagByKey(db, input.tagKey, errors) }, errors);
    if (!draft) return emptyPreview(errors);
    // An unsaved rule owns nothing yet: nobody can lose the tag through it.
    const [existing] = await db.select().from(tagRules).where(eq(tagRules.key, draft.key));
    rule = {
      id: existing?.id ?? '00000000-0000-0000-0000-000000000000', key: draft.key, name: draft.name, description: draft.description,
      tagId: draft.tag.id, filter: plainJson(draft.filter), value: draft.value, valueFrom: draft.valueFrom, confidence: draft.confidence,
      referencedTagIds: draft.referencedTagIds, enabled: false, version: (existing?.version ?? 0) + 1, createdBy: null,
      createdAt: now, updatedAt: now,
    };
    tag = draft.tag;
  }
  const plan = planFor(rule, tag, config, now, null);
  const counts = await db.transaction(async (tx) => {
    await setLocalStatementTimeout(tx, config.tagEngine.jobStatementTimeoutMs);
    return previewSync(tx, plan, sample);
  });
  return { ...counts, userErrors: [] };
}

async function ruleById(db: Executor, globalId: string, field: string[], errors: UserError[]): Promise<TagRuleRow | null> {
  const id = tryGlobalId(globalId, 'TagRule');
  if (!id) { errors.push(userError(field, 'not a valid TagRule id')); return null; }
  const [rule] = await tagRulesByIds(db, [id]);
  if (!rule) { errors.push(userError(field, 'rule not found', 'NOT_FOUND')); return null; }
  return rule;
}

// ---------------------------------------------------------------------------------------------
// Mutations

export interface RuleResult { rule: TagRuleRow | null; run: TagRuleRunRow | null; userErrors: UserError[] }

export async function createTagRule(db: Db, config: EngineConfig, actor: string, input: TagRuleInput, now = new Date()): Promise<RuleResult> {
  const errors: UserError[] = [];
  const draft = await draftFrom(db, config, { ...input, tag: await tagByKey(db, input.tagKey, errors) }, errors);
  if (!draft) return { rule: null, run: null, userErrors: errors };
  const [row] = await db.insert(tagRules).values({
    key: draft.key, name: draft.name, description: draft.description, tagId: draft.tag.id, filter: plainJson(draft.filter),
    value: draft.value, valueFrom: draft.valueFrom, confidence: draft.confidence, referencedTagIds: draft.referencedTagIds,
    enabled: Boolean(input.enabled), createdBy: actor,
  }).onConflictDoNothing().returning();
  if (!row) return { rule: null, run: null, userErrors: [userError(['input', 'key'], `a rule with key ${draft.key} exists`, 'CONFLICT')] };
  const run = row.enabled ? await runRule(db, config, row, 'ENABLE', { now }) : null;
  return { rule: row, run, userErrors: [] };
}

export async function updateTagRule(db: Db, config: EngineConfig, input: UpdateTagRuleInput, now = new Date()): Promise<RuleResult> {
  const errors: UserError[] = [];
  const rule = await ruleById(db, input.id, ['input', 'id'], errors);
  if (!rule) return { rule: null, run: null, userErrors: errors };
  const [tag] = await tagDefinitionsByIds(db, [rule.tagId]);
  const current = ruleValueOf(rule);
  const valueFrom = input.valueFrom !== undefined ? input.valueFrom
    : input.value !== undefined ? null
      : current.kind === 'METRIC' ? { metric: current.metric, bands: current.bands } : null;
  const draft = await draftFrom(db, config, {
    key: rule.key,
    name: input.name ?? rule.name,
    description: input.description !== undefined ? input.description : rule.description,
    tag: tag ?? null,
    filter: input.filter ?? reviveFilter(rule.filter),
    value: valueFrom ? undefined : input.value !== undefined ? input.value : rule.value,
    valueFrom,
    confidence: input.confidence !== undefined ? input.confidence : rule.confidence === null ? null : Number(rule.confidence),
  }, errors);
  if (!draft) return { rule: null, run: null, userErrors: errors };
  const [row] = await db.update(tagRules).set({
    name: draft.name, description: draft.description, filter: plainJson(draft.filter), value: draft.value, valueFrom: draft.valueFrom,
    confidence: draft.confidence, referencedTagIds: draft.referencedTagIds, version: sql`${tagRules.version} + 1`, updatedAt: now,
  }).where(eq(tagRules.id, rule.id)).returning();
  const run = row?.enabled ? await runRule(db, config, row, 'UPDATE', { now }) : null;
  return { rule: row ?? null, run, userErrors: [] };
}

export async function enableTagRule(db: Db, config: EngineConfig, globalId: string, now = new Date()): Promise<RuleResult> {
  const errors: UserError[] = [];
  const rule = await ruleById(db, globalId, ['id'], errors);
  if (!rule) return { rule: null, run: null, userErrors: errors };
  const [tag] = await tagDefinitionsByIds(db, [rule.tagId]);
  if (tag?.status !== 'ACTIVE') return { rule: null, run: null, userErrors: [userError(['id'], `the rule's tag ${tag?.key ?? ''} is deprecated`, 'CONFLICT')] };
  const [row] = await db.update(tagRules).set({ enabled: true, updatedAt: now }).where(eq(tagRules.id, rule.id)).returning();
  const run = await runRule(db, config, row!, 'ENABLE', { now });
  return { rule: row ?? null, run, userErrors: [] };
}

export async function disableTagRule(db: Db, globalId: string, removeAssignments: boolean, now = new Date()): Promise<RuleResult> {
  const errors: UserError[] = [];
  const rule = await ruleById(db, globalId, ['id'], errors);
  if (!rule) return { rule: null, run: null, userErrors: errors };
  return db.transaction(async (tx) => {
    const started = performance.now();
    const [row] = await tx.update(tagRules).set({ enabled: false, updatedAt: now }).where(and(eq(tagRules.id, rule.id))).returning();
    if (!removeAssignments) return { rule: row ?? null, run: null, userErrors: [] };
    await lockTag(tx, rule.tagId);
    const removed = await removeRuleAssignments(tx, { id: rule.id, version: rule.version, actor: ruleActor(rule) }, now);
    const counts = { added: 0, changed: 0, removed, kept: 0 };
    const run = { ruleId: rule.id, ruleVersion: rule.version, trigger: 'DISABLE', startedAt: now, evaluatedAt: now, durationMs: performance.now() - started, scopedCustomers: null, counts };
    const id = await insertRuleRun(tx, run);
    return { rule: row ?? null, run: { id, ...run, durationMs: Math.round(run.durationMs), ...counts }, userErrors: [] };
  });
}

export async function runTagRule(db: Db, config: EngineConfig, globalId: string, now = new Date()): Promise<RuleResult> {
  const errors: UserError[] = [];
  const rule = await ruleById(db, globalId, ['id'], errors);
  if (!rule) return { rule: null, run: null, userErrors: errors };
  if (!rule.enabled) return { rule: null, run: null, userErrors: [userError(['id'], 'the rule is disabled; enable it (which applies it)', 'CONFLICT')] };
  const run = await runRule(db, config, rule, 'MANUAL', { now });
  return { rule, run, userErrors: [] };
}
