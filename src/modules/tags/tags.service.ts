import { and, eq, sql, type SQL } from 'drizzle-orm';
import { GraphQLError } from 'graphql';
import type { Config } from '../../config';
import type { Db, Executor } from '../../db/client';
import { customerTagEvents, customerTags, customers, tagDefinitions, tagRules } from '../../db/schema/index';
import { userError, type UserError } from '../../errors';
import { tryGlobalId } from '../../lib/global-id';
import { fromUnits, toUnits } from '../../lib/decimal';
import { cleanText, normalizeDecimal } from '../../lib/normalize';
import type {
  AssignTagInput, BulkAssignTagInput, BulkRemoveTagInput, CreateTagDefinitionInput, CustomerFilter, CustomerSelectionInput,
  DeprecateTagDefinitionInput, MergeTagDefinitionsInput, RemoveTagInput, RenameTagDefinitionInput, UpdateTagDefinitionInput,
} from '../../__generated__/resolvers-types';
import { compileCustomerFilter } from '../profile';
import type { CustomerTagRow, TagDefinitionRow } from './tags.mappers';
import {
  listTagDefinitions as listDefinitions, tagDefinitionsByAnyKeys, tagDefinitionsByIds, tagKeyTaken, tagsByCustomerIds,
} from './tags.repository';
import { bulkAssign, bulkRemove, lockTag, mergeAssignments } from './tag-engine.repository';

/** The taxonomy, optionally one category or status (small table: no loader needed). */
export const listTagDefinitions = (db: Db, category: string | null, status: string | null = null): Promise<TagDefinitionRow[]> =>
  listDefinitions(db, category, status);

export interface AssignTagResult { customerTag: CustomerTagRow | null; customerId: string | null; changed: boolean; userErrors: UserError[] }
export interface RemoveTagResult { customerId: string | null; removed: boolean; userErrors: UserError[] }

export const TAG_KEY = /^[a-z][a-z0-9_]{1,63}$/;
// ISO 8601 durations PostgreSQL's interval input understands (no fractions).
export const ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;

/**
 * A value fits the tag's type: BOOLEAN carries none, NUMBER a decimal (canonical form), ENUM one of
 * the allowed values, TEXT non-blank text. Returns the value to store.
 */
export function validateTagValue(def: TagDefinitionRow, value: string | null | undefined, errors: UserError[], field: string[]): string | null {
  const v = value?.trim() ?? null;
  switch (def.valueType) {
    case 'BOOLEAN':
      if (v !== null && v !== '' && v !== 'true') errors.push(userError(field, `${def.key} is a BOOLEAN tag and takes no value`));
      return null;
    case 'NUMBER': {
      const d = v ? normalizeDecimal(v) : null;
      if (d === null) { errors.push(userError(field, `${def.key} needs a numeric value`)); return v; }
      // Canonical form, so "42.50" and "42.5" are the same value (no spurious CHANGED history).
      return canonicalNumber(d);
    }
    default:
      if (!v) errors.push(userError(field, `${def.key} needs a value`));
      else if (v.length > 500) errors.push(userError(field, 'value must be at most 500 characters'));
      else if (def.valueType === 'ENUM' && def.allowedValues && !def.allowedValues.includes(v)) {
        errors.push(userError(field, `${def.key} takes one of ${def.allowedValues.join(', ')}`));
      }
      return v;
  }
}

export const canonicalNumber = (d: string): string => {
  const s = fromUnits(toUnits(d));
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
};

export function validateConfidence(c: number | null | undefined, errors: UserError[], field: string[]): string | null {
  if (c == null) return null;
  if (!(c >= 0 && c <= 1)) { errors.push(userError(field, 'confidence must be between 0 and 1')); return null; }
  return c.toFixed(4);
}

const valueKeyOf = (def: TagDefinitionRow, value: string | null): string => (def.cardinality === 'MULTIPLE' ? value ?? '' : '');

async function resolveTarget(db: Db, customerGlobalId: string, tagKey: string, errors: UserError[]) {
  const customerId = tryGlobalId(customerGlobalId, 'Customer');
  if (!customerId) errors.push(userError(['input', 'customerId'], 'customerId is not a valid Customer id'));
  const def = (await tagDefinitionsByAnyKeys(db, [tagKey.trim()])).get(tagKey.trim());
  if (!def) errors.push(userError(['input', 'tagKey'], `no tag with key ${tagKey}`, 'NOT_FOUND'));
  if (customerId) {
    const [c] = await db.select({ id: customers.id }).from(customers).where(eq(customers.id, customerId));
    if (!c) errors.push(userError(['input', 'customerId'], 'customer not found', 'NOT_FOUND'));
  }
  return { customerId, def };
}

/**
 * Manual assignment. Idempotent: the same value again changes nothing and writes no history.
 * The assignment and its history event are written in one transaction. Without `expiresAt`, the
 * tag's default TTL applies.
 */
export async function assignTag(db: Db, actor: string, input: AssignTagInput, now = new Date()): Promise<AssignTagResult> {
  const errors: UserError[] = [];
  const { customerId, def } = await resolveTarget(db, input.customerId, input.tagKey, errors);
  const value = def ? validateTagValue(def, input.value, errors, ['input', 'value']) : null;
  if (def && def.status !== 'ACTIVE') errors.push(userError(['input', 'tagKey'], `${def.key} is deprecated and takes no new assignments`, 'CONFLICT'));
  if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) errors.push(userError(['input', 'expiresAt'], 'expiresAt must be in the future'));
  const confidence = validateConfidence(input.confidence, errors, ['input', 'confidence']);
  if (errors.length || !customerId || !def) return { customerTag: null, customerId: null, changed: false, userErrors: errors };
  const valueKey = valueKeyOf(def, value);

  const changed = await db.transaction(async (tx) => {
    const [current] = await tx.select().from(customerTags)
      .where(and(eq(customerTags.customerId, customerId), eq(customerTags.tagId, def.id), eq(customerTags.valueKey, valueKey))).for('update');
    const live = current && (current.expiresAt === null || current.expiresAt.getTime() > now.getTime()) ? current : undefined;
    const expiresAt = input.expiresAt ?? (def.defaultTtl ? sql<Date>`${now.toISOString()}::timestamptz + ${def.defaultTtl}::interval` : null);
    if (live && live.value === value && (input.expiresAt === undefined || input.expiresAt === null ? !def.defaultTtl && live.expiresAt === null : live.expiresAt?.getTime() === input.expiresAt.getTime())
      && (live.confidence === null ? null : Number(live.confidence)) === (confidence === null ? null : Number(confidence))) {
      return false;
    }
    const set = { value, source: 'MANUAL', actor, confidence, assignedAt: now, expiresAt, ruleId: null, ruleVersion: null };
    await tx.insert(customerTags).values({ customerId, tagId: def.id, valueKey, ...set })
      .onConflictDoUpdate({ target: [customerTags.customerId, customerTags.tagId, customerTags.valueKey], set });
    if (!live || live.value !== value) {
      await tx.insert(customerTagEvents).values({
        customerId, tagId: def.id, action: live ? 'CHANGED' : 'ADDED', value, previousValue: live?.value ?? null, source: 'MANUAL', actor,
        occurredAt: now, confidence, reason: 'MANUAL',
      });
    }
    return true;
  });
  const tags = await tagsByCustomerIds(db, [customerId]);
  return { customerTag: tags.find((t) => t.tag.id === def.id && (def.cardinality !== 'MULTIPLE' || t.value === value)) ?? null, customerId, changed, userErrors: [] };
}

/** Idempotent: removing a tag the customer does not have (or that has expired) changes nothing. */
export async function removeTag(db: Db, actor: string, input: RemoveTagInput, now = new Date()): Promise<RemoveTagResult> {
  const errors: UserError[] = [];
  const { customerId, def } = await resolveTarget(db, input.customerId, input.tagKey, errors);
  if (errors.length || !customerId || !def) return { customerId: null, removed: false, userErrors: errors };
  const value = input.value?.trim();
  const removed = await db.transaction(async (tx) => {
    const gone = await tx.delete(customerTags)
      .where(and(eq(customerTags.customerId, customerId), eq(customerTags.tagId, def.id),
        def.cardinality === 'MULTIPLE' && value ? eq(customerTags.valueKey, value) : undefined)).returning();
    const live = gone.filter((g) => g.expiresAt === null || g.expiresAt.getTime() > now.getTime());
    if (!live.length) return false;
    await tx.insert(customerTagEvents).values(live.map((g) => ({
      customerId, tagId: def.id, action: 'REMOVED', value: null, previousValue: g.value, source: 'MANUAL', actor, occurredAt: now, reason: 'MANUAL',
    })));
    return true;
  });
  return { customerId, removed, userErrors: [] };
}

// ---------------------------------------------------------------------------------------------
// Bulk

const MAX_BULK_IDS = 10_000;

export interface BulkResult { matched: number; added: number; changed: number; removed: number; unchanged: number; userErrors: UserError[] }
const emptyBulk = (userErrors: UserError[]): BulkResult => ({ matched: 0, added: 0, changed: 0, removed: 0, unchanged: 0, userErrors });

/** The selection as a WHERE over `customers`: an id list or a compiled filter (within the row scope). */
function selectionWhere(sel: CustomerSelectionInput, config: Pick<Config, 'defaultPhoneRegion'>, errors: UserError[], now: Date, rowScope?: SQL): SQL | null {
  const field = ['input', 'customers'];
  if ((sel.ids == null) === (sel.filter == null)) { errors.push(userError(field, 'give exactly one of ids or filter')); return null; }
  let where: SQL | undefined;
  if (sel.ids) {
    if (sel.ids.length > MAX_BULK_IDS) { errors.push(userError([...field, 'ids'], `at most ${MAX_BULK_IDS} ids`)); return null; }
    const ids = sel.ids.map((g) => tryGlobalId(g, 'Customer'));
    const bad = ids.findIndex((i) => i === null);
    if (bad >= 0) { errors.push(userError([...field, 'ids', String(bad)], 'not a valid Customer id')); return null; }
    where = sql`${customers.id} = ANY(${sql.param([...new Set(ids as string[])])}::uuid[])`;
  } else {
    where = compileFilterInto(sel.filter!, config, errors, [...field, 'filter'], now, true);
    if (errors.length) return null;
  }
  return and(where, rowScope) ?? sql`true`;
}

/** Compiles a filter; its validation errors become userErrors under `field`. */
export function compileFilterInto(filter: CustomerFilter, config: Pick<Config, 'defaultPhoneRegion'>, errors: UserError[], field: string[], now?: Date, setBased = false): SQL | undefined {
  try {
    return compileCustomerFilter(filter, { defaultPhoneRegion: config.defaultPhoneRegion, setBased, ...(now ? { now } : {}) }) ?? sql`true`;
  } catch (e) {
    if (e instanceof GraphQLError && e.extensions?.code === 'BAD_USER_INPUT') {
      const path = typeof e.extensions.field === 'string' ? e.extensions.field.split('.').slice(1) : [];
      errors.push(userError([...field, ...path], e.message));
      return undefined;
    }
    throw e;
  }
}

async function activeTag(db: Executor, tagKey: string, errors: UserError[]): Promise<TagDefinitionRow | null> {
  const def = (await tagDefinitionsByAnyKeys(db, [tagKey.trim()])).get(tagKey.trim());
  if (!def) { errors.push(userError(['input', 'tagKey'], `no tag with key ${tagKey}`, 'NOT_FOUND')); return null; }
  return def;
}

const BULK_SOURCES = new Set(['MANUAL', 'IMPORT', 'MODEL']);

/** One statement for every selected customer (plus its history rows), in one transaction. */
export async function bulkAssignTag(db: Db, config: Pick<Config, 'defaultPhoneRegion'>, actor: string, input: BulkAssignTagInput, rowScope?: SQL, now = new Date()): Promise<BulkResult> {
  const errors: UserError[] = [];
  const def = await activeTag(db, input.tagKey, errors);
  const value = def ? validateTagValue(def, input.value, errors, ['input', 'value']) : null;
  if (def && def.status !== 'ACTIVE') errors.push(userError(['input', 'tagKey'], `${def.key} is deprecated and takes no new assignments`, 'CONFLICT'));
  const source = input.source ?? 'MANUAL';
  if (!BULK_SOURCES.has(source)) errors.push(userError(['input', 'source'], 'source must be MANUAL, IMPORT or MODEL (RULE assignments come from rules)'));
  if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) errors.push(userError(['input', 'expiresAt'], 'expiresAt must be in the future'));
  const confidence = validateConfidence(input.confidence, errors, ['input', 'confidence']);
  const where = selectionWhere(input.customers, config, errors, now, rowScope);
  if (errors.length || !def || !where) return emptyBulk(errors);
  const r = await db.transaction(async (tx) => {
    await lockTag(tx, def.id);
    return bulkAssign(tx, {
      tagId: def.id, valueKey: valueKeyOf(def, value), value, source, actor, confidence, expiresAt: input.expiresAt ?? null,
      defaultTtl: def.defaultTtl, now, where,
    });
  });
  return { matched: r.matched, added: r.added, changed: r.changed, removed: 0, unchanged: r.matched - r.added - r.changed, userErrors: [] };
}

export async function bulkRemoveTag(db: Db, config: Pick<Config, 'defaultPhoneRegion'>, actor: string, input: BulkRemoveTagInput, rowScope?: SQL, now = new Date()): Promise<BulkResult> {
  const errors: UserError[] = [];
  const def = await activeTag(db, input.tagKey, errors);
  const where = selectionWhere(input.customers, config, errors, now, rowScope);
  if (errors.length || !def || !where) return emptyBulk(errors);
  const value = input.value?.trim() || null;
  const r = await db.transaction(async (tx) => {
    await lockTag(tx, def.id);
    return bulkRemove(tx, { tagId: def.id, valueKey: def.cardinality === 'MULTIPLE' ? value : null, actor, now, where });
  });
  return { matched: r.matched, added: 0, changed: 0, removed: r.removed, unchanged: r.matched - r.removed, userErrors: [] };
}

// ---------------------------------------------------------------------------------------------
// Taxonomy

export interface TagDefinitionResult { tagDefinition: TagDefinitionRow | null; userErrors: UserError[] }

function validateAllowedValues(valueType: string, values: readonly string[] | null | undefined, errors: UserError[]): string[] | null {
  const field = ['input', 'allowedValues'];
  if (valueType !== 'ENUM') {
    if (values != null) errors.push(userError(field, 'allowedValues are only for ENUM tags'));
    return null;
  }
  if (!values || values.length === 0) { errors.push(userError(field, 'an ENUM tag needs at least one allowed value')); return null; }
  const clean = values.map((v) => v.trim());
  if (clean.some((v) => !v || v.length > 100)) errors.push(userError(field, 'allowed values are 1-100 characters'));
  if (new Set(clean).size !== clean.length) errors.push(userError(field, 'allowed values must be distinct'));
  if (clean.length > 200) errors.push(userError(field, 'at most 200 allowed values'));
  return clean;
}

function validateTtl(ttl: string | null | undefined, errors: UserError[]): string | null {
  if (ttl == null) return null;
  const t = ttl.trim();
  if (!ISO_DURATION.test(t)) errors.push(userError(['input', 'defaultTtl'], 'defaultTtl must be an ISO 8601 duration such as P30D'));
  return t;
}

function validateText(field: string, v: string | null | undefined, max: number, errors: UserError[], required = false): string | null {
  const t = cleanText(v ?? null);
  if (required && !t) errors.push(userError(['input', field], `${field} must not be blank`));
  if (t && t.length > max) errors.push(userError(['input', field], `${field} must be at most ${max} characters`));
  return t;
}

export async function createTagDefinition(db: Db, input: CreateTagDefinitionInput): Promise<TagDefinitionResult> {
  const errors: UserError[] = [];
  const key = input.key.trim();
  if (!TAG_KEY.test(key)) errors.push(userError(['input', 'key'], 'key must be 2-64 lowercase letters, digits or _, starting with a letter'));
  else if (await tagKeyTaken(db, key)) errors.push(userError(['input', 'key'], `key ${key} is already used (or was used) by a tag`, 'CONFLICT'));
  const name = validateText('name', input.name, 200, errors, true);
  const description = validateText('description', input.description, 2000, errors) ?? '';
  const valueType = input.valueType ?? 'BOOLEAN';
  const allowedValues = validateAllowedValues(valueType, input.allowedValues, errors);
  const cardinality = input.cardinality ?? 'SINGLE';
  if (cardinality === 'MULTIPLE' && valueType === 'BOOLEAN') errors.push(userError(['input', 'cardinality'], 'a BOOLEAN tag has one value at most'));
  const defaultTtl = validateTtl(input.defaultTtl, errors);
  const owner = validateText('owner', input.owner, 200, errors);
  if (errors.length) return { tagDefinition: null, userErrors: errors };
  const [row] = await db.insert(tagDefinitions).values({
    key, name: name!, description, category: input.category, valueType, allowedValues, cardinality, defaultTtl, owner,
  }).onConflictDoNothing().returning();
  if (!row) return { tagDefinition: null, userErrors: [userError(['input', 'key'], `key ${key} is already used by a tag`, 'CONFLICT')] };
  return { tagDefinition: row, userErrors: [] };
}

async function definitionById(db: Executor, globalId: string, field: string[], errors: UserError[]): Promise<TagDefinitionRow | null> {
  const id = tryGlobalId(globalId, 'TagDefinition');
  if (!id) { errors.push(userError(field, 'not a valid TagDefinition id')); return null; }
  const [def] = await tagDefinitionsByIds(db, [id]);
  if (!def) { errors.push(userError(field, 'tag definition not found', 'NOT_FOUND')); return null; }
  return def;
}

export async function updateTagDefinition(db: Db, input: UpdateTagDefinitionInput): Promise<TagDefinitionResult> {
  const errors: UserError[] = [];
  const def = await definitionById(db, input.id, ['input', 'id'], errors);
  if (!def) return { tagDefinition: null, userErrors: errors };
  const set: Partial<typeof tagDefinitions.$inferInsert> = {};
  if (input.name !== undefined) set.name = validateText('name', input.name, 200, errors, true)!;
  if (input.description !== undefined) set.description = validateText('description', input.description, 2000, errors) ?? '';
  if (input.category != null) set.category = input.category;
  if (input.defaultTtl !== undefined) set.defaultTtl = validateTtl(input.defaultTtl, errors);
  if (input.owner !== undefined) set.owner = validateText('owner', input.owner, 200, errors);
  if (input.allowedValues !== undefined) {
    const values = validateAllowedValues(def.valueType, input.allowedValues, errors);
    if (values && def.allowedValues) {
      const dropped = def.allowedValues.filter((v) => !values.includes(v));
      if (dropped.length) {
        const inUse = await db.select({ value: customerTags.value }).from(customerTags)
          .where(and(eq(customerTags.tagId, def.id), sql`${customerTags.value} = ANY(${sql.param(dropped)}::text[])`)).limit(1);
        if (inUse.length) errors.push(userError(['input', 'allowedValues'], `value ${inUse[0]!.value} is still assigned; remove it from customers first`, 'CONFLICT'));
      }
    }
    set.allowedValues = values;
  }
  if (errors.length) return { tagDefinition: null, userErrors: errors };
  const [row] = await db.update(tagDefinitions).set({ ...set, updatedAt: new Date() }).where(eq(tagDefinitions.id, def.id)).returning();
  return { tagDefinition: row ?? null, userErrors: [] };
}

/** A new key; the old one joins `formerKeys`, so filters (rules, segments) that use it keep matching. */
export async function renameTagDefinition(db: Db, input: RenameTagDefinitionInput): Promise<TagDefinitionResult> {
  const errors: UserError[] = [];
  const def = await definitionById(db, input.id, ['input', 'id'], errors);
  const key = input.key.trim();
  if (!TAG_KEY.test(key)) errors.push(userError(['input', 'key'], 'key must be 2-64 lowercase letters, digits or _, starting with a letter'));
  const name = input.name === undefined || input.name === null ? undefined : validateText('name', input.name, 200, errors, true);
  if (!def || errors.length) return { tagDefinition: null, userErrors: errors };
  if (key === def.key) return { tagDefinition: def, userErrors: [] };
  // Taking back one of its own former keys is fine; anybody else's is not.
  if (!def.formerKeys.includes(key) && await tagKeyTaken(db, key)) {
    return { tagDefinition: null, userErrors: [userError(['input', 'key'], `key ${key} is already used (or was used) by a tag`, 'CONFLICT')] };
  }
  const formerKeys = [...new Set([...def.formerKeys.filter((k) => k !== key), def.key])];
  const [row] = await db.update(tagDefinitions).set({ key, formerKeys, ...(name ? { name } : {}), updatedAt: new Date() })
    .where(eq(tagDefinitions.id, def.id)).returning();
  return { tagDefinition: row ?? null, userErrors: [] };
}

export async function deprecateTagDefinition(db: Db, input: DeprecateTagDefinitionInput): Promise<TagDefinitionResult> {
  const errors: UserError[] = [];
  const def = await definitionById(db, input.id, ['input', 'id'], errors);
  if (!def) return { tagDefinition: null, userErrors: errors };
  const enabled = await db.select({ key: tagRules.key }).from(tagRules).where(and(eq(tagRules.tagId, def.id), eq(tagRules.enabled, true)));
  if (enabled.length) {
    return { tagDefinition: null, userErrors: [userError(['input', 'id'], `enabled rules assign this tag (${enabled.map((r) => r.key).join(', ')}); disable them first`, 'CONFLICT')] };
  }
  const [row] = await db.update(tagDefinitions).set({ status: 'DEPRECATED', updatedAt: new Date() }).where(eq(tagDefinitions.id, def.id)).returning();
  return { tagDefinition: row ?? null, userErrors: [] };
}

export interface MergeResult { target: TagDefinitionRow | null; source: TagDefinitionRow | null; moved: number; dropped: number; rulesRepointed: number; userErrors: UserError[] }

/**
 * Source disappears into target, in one transaction: its unexpired assignments move (provenance kept;
 * REMOVED on the source and ADDED on the target in the history, which is otherwise kept as it was),
 * rules assigning the source now assign the target, the source's keys become former keys of the target,
 * and the source is DEPRECATED with `mergedInto`.
 */
export async function mergeTagDefinitions(db: Db, actor: string, input: MergeTagDefinitionsInput, now = new Date()): Promise<MergeResult> {
  const errors: UserError[] = [];
  const source = await definitionById(db, input.sourceId, ['input', 'sourceId'], errors);
  const target = await definitionById(db, input.targetId, ['input', 'targetId'], errors);
  const fail = (e: UserError[]): MergeResult => ({ target: null, source: null, moved: 0, dropped: 0, rulesRepointed: 0, userErrors: e });
  if (!source || !target) return fail(errors);
  if (source.id === target.id) return fail([userError(['input', 'targetId'], 'a tag cannot be merged into itself')]);
  if (source.mergedInto) return fail([userError(['input', 'sourceId'], `${source.key} was already merged`, 'CONFLICT')]);
  if (target.status !== 'ACTIVE') return fail([userError(['input', 'targetId'], `${target.key} is deprecated`, 'CONFLICT')]);
  if (source.valueType !== target.valueType) {
    return fail([userError(['input', 'targetId'], `value types differ (${source.valueType} vs ${target.valueType})`)]);
  }
  if (target.valueType === 'ENUM' && target.allowedValues) {
    const extra = (source.allowedValues ?? []).filter((v) => !target.allowedValues!.includes(v));
    if (extra.length || !source.allowedValues) return fail([userError(['input', 'targetId'], `the target does not allow all values of the source${extra.length ? ` (${extra.join(', ')})` : ''}`)]);
  }
  return db.transaction(async (tx) => {
    await lockTag(tx, source.id);
    await lockTag(tx, target.id);
    const { moved, dropped } = await mergeAssignments(tx, { sourceId: source.id, targetId: target.id, targetMultiple: target.cardinality === 'MULTIPLE', actor, now });
    const repointed = await tx.update(tagRules).set({ tagId: target.id, version: sql`${tagRules.version} + 1`, updatedAt: now })
      .where(eq(tagRules.tagId, source.id)).returning({ id: tagRules.id });
    // Filters naming the source's keys now find the target.
    await tx.update(tagRules).set({ referencedTagIds: sql`array_append(array_remove(${tagRules.referencedTagIds}, ${source.id}::uuid), ${target.id}::uuid)` })
      .where(sql`${tagRules.referencedTagIds} @> ARRAY[${source.id}::uuid]`);
    const [t] = await tx.update(tagDefinitions).set({
      formerKeys: [...new Set([...target.formerKeys, source.key, ...source.formerKeys])], updatedAt: now,
    }).where(eq(tagDefinitions.id, target.id)).returning();
    const [s] = await tx.update(tagDefinitions).set({ status: 'DEPRECATED', mergedInto: target.id, formerKeys: [], updatedAt: now })
      .where(eq(tagDefinitions.id, source.id)).returning();
    return { target: t ?? null, source: s ?? null, moved, dropped, rulesRepointed: repointed.length, userErrors: [] };
  });
}
