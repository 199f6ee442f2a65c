import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { customerTagEvents, customerTags, customers } from '../../db/schema/index';
import { userError, type UserError } from '../../errors';
import { tryGlobalId } from '../../lib/global-id';
import { fromUnits, toUnits } from '../../lib/decimal';
import { normalizeDecimal } from '../../lib/normalize';
import type { AssignTagInput, RemoveTagInput } from '../../__generated__/resolvers-types';
import type { CustomerTagRow, TagDefinitionRow } from './tags.mappers';
import { listTagDefinitions as listDefinitions, tagDefinitionsByKeys, tagsByCustomerIds } from './tags.repository';

/** The taxonomy, optionally one category (small table: no loader needed). */
export const listTagDefinitions = (db: Db, category: string | null): Promise<TagDefinitionRow[]> => listDefinitions(db, category);

export interface AssignTagResult { customerTag: CustomerTagRow | null; customerId: string | null; changed: boolean; userErrors: UserError[] }
export interface RemoveTagResult { customerId: string | null; removed: boolean; userErrors: UserError[] }

/** A value fits the tag's type: BOOLEAN carries none, NUMBER a decimal, TEXT/ENUM non-blank text. */
function validateValue(def: TagDefinitionRow, value: string | null | undefined, errors: UserError[]): string | null {
  const field = ['input', 'value'];
  const v = value?.trim() ?? null;
  switch (def.valueType) {
    case 'BOOLEAN':
      if (v !== null && v !== '' && v !== 'true') errors.push(userError(field, `${def.key} is a BOOLEAN tag and takes no value`));
      return null;
    case 'NUMBER': {
      const d = v ? normalizeDecimal(v) : null;
      if (d === null) { errors.push(userError(field, `${def.key} needs a numeric value`)); return v; }
      // Canonical form, so "42.50" and "42.5" are the same value (no spurious CHANGED history).
      return fromUnits(toUnits(d)).replace(/\.?0+$/, '');
    }
    default:
      if (!v) errors.push(userError(field, `${def.key} needs a value`));
      else if (v.length > 500) errors.push(userError(field, 'value must be at most 500 characters'));
      return v;
  }
}

async function resolveTarget(db: Db, customerGlobalId: string, tagKey: string, errors: UserError[]) {
  const customerId = tryGlobalId(customerGlobalId, 'Customer');
  if (!customerId) errors.push(userError(['input', 'customerId'], 'customerId is not a valid Customer id'));
  const [def] = await tagDefinitionsByKeys(db, [tagKey.trim()]);
  if (!def) errors.push(userError(['input', 'tagKey'], `no tag with key ${tagKey}`, 'NOT_FOUND'));
  if (customerId) {
    const [c] = await db.select({ id: customers.id }).from(customers).where(eq(customers.id, customerId));
    if (!c) errors.push(userError(['input', 'customerId'], 'customer not found', 'NOT_FOUND'));
  }
  return { customerId, def };
}

/**
 * Manual assignment. Idempotent: the same value again changes nothing and writes no history.
 * The assignment and its history event are written in one transaction.
 */
export async function assignTag(db: Db, actor: string, input: AssignTagInput): Promise<AssignTagResult> {
  const errors: UserError[] = [];
  const { customerId, def } = await resolveTarget(db, input.customerId, input.tagKey, errors);
  const value = def ? validateValue(def, input.value, errors) : null;
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) errors.push(userError(['input', 'expiresAt'], 'expiresAt must be in the future'));
  if (input.confidence != null && !(input.confidence >= 0 && input.confidence <= 1)) {
    errors.push(userError(['input', 'confidence'], 'confidence must be between 0 and 1'));
  }
  if (errors.length || !customerId || !def) return { customerTag: null, customerId: null, changed: false, userErrors: errors };

  const changed = await db.transaction(async (tx) => {
    const [current] = await tx.select().from(customerTags)
      .where(and(eq(customerTags.customerId, customerId), eq(customerTags.tagId, def.id))).for('update');
    const live = current && (current.expiresAt === null || current.expiresAt.getTime() > Date.now()) ? current : undefined;
    const confidence = input.confidence == null ? null : input.confidence.toFixed(4);
    if (live && live.value === value && (live.expiresAt?.getTime() ?? null) === (input.expiresAt?.getTime() ?? null)
      && (live.confidence === null ? null : Number(live.confidence)) === (confidence === null ? null : Number(confidence))) {
      return false;
    }
    const row = {
      customerId, tagId: def.id, value, source: 'MANUAL', actor, confidence,
      assignedAt: sql`now()`, expiresAt: input.expiresAt ?? null,
    };
    await tx.insert(customerTags).values(row).onConflictDoUpdate({
      target: [customerTags.customerId, customerTags.tagId],
      set: { value, source: 'MANUAL', actor, confidence, assignedAt: sql`now()`, expiresAt: input.expiresAt ?? null },
    });
    if (!live || live.value !== value) {
      await tx.insert(customerTagEvents).values({
        customerId, tagId: def.id, action: live ? 'CHANGED' : 'ADDED', value, previousValue: live?.value ?? null, source: 'MANUAL', actor,
      });
    }
    return true;
  });
  const tags = await tagsByCustomerIds(db, [customerId]);
  return { customerTag: tags.find((t) => t.tag.id === def.id) ?? null, customerId, changed, userErrors: [] };
}

/** Idempotent: removing a tag the customer does not have (or that has expired) changes nothing. */
export async function removeTag(db: Db, actor: string, input: RemoveTagInput): Promise<RemoveTagResult> {
  const errors: UserError[] = [];
  const { customerId, def } = await resolveTarget(db, input.customerId, input.tagKey, errors);
  if (errors.length || !customerId || !def) return { customerId: null, removed: false, userErrors: errors };
  const removed = await db.transaction(async (tx) => {
    const [gone] = await tx.delete(customerTags)
      .where(and(eq(customerTags.customerId, customerId), eq(customerTags.tagId, def.id))).returning();
    const live = gone && (gone.expiresAt === null || gone.expiresAt.getTime() > Date.now());
    if (!gone || !live) return false;
    await tx.insert(customerTagEvents).values({
      customerId, tagId: def.id, action: 'REMOVED', value: null, previousValue: gone.value, source: 'MANUAL', actor,
    });
    return true;
  });
  return { customerId, removed, userErrors: [] };
}
