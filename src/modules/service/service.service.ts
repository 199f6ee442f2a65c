import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { interactions } from '../../db/schema/index';
import { userError, type UserError } from '../../errors';
import { cleanText } from '../../lib/normalize';
import type { RecordInteractionInput } from '../../__generated__/resolvers-types';
import { lockSourceKey, resolveCustomerRef, validateSourceKey } from '../profile';
import type { InteractionRow } from './service.mappers';
import { decryptInteractionTexts, encryptInteractionTexts, interactionsByIds } from './service.repository';

export interface RecordInteractionResult { interaction: InteractionRow | null; created: boolean; userErrors: UserError[] }

const MAX_FUTURE_MS = 24 * 3600_000;

/** Idempotent on (source, externalId); a repeat with changes (status, sentiment, summary) updates it. */
export async function recordInteraction(db: Db, input: RecordInteractionInput): Promise<RecordInteractionResult> {
  const errors: UserError[] = [];
  validateSourceKey(input.source, input.externalId, errors);
  if (input.occurredAt.getTime() > Date.now() + MAX_FUTURE_MS) errors.push(userError(['input', 'occurredAt'], 'occurredAt is in the future'));
  const subject = cleanText(input.subject);
  if (subject && subject.length > 500) errors.push(userError(['input', 'subject'], 'subject must be at most 500 characters'));
  const summary = input.summary?.trim() || null;
  if (summary && summary.length > 20_000) errors.push(userError(['input', 'summary'], 'summary must be at most 20000 characters'));
  if (errors.length) return { interaction: null, created: false, userErrors: errors };
  const externalId = input.externalId.trim();

  return db.transaction(async (tx) => {
    const customerId = await resolveCustomerRef(tx, input.customer, errors, ['input', 'customer']);
    if (!customerId) return { interaction: null, created: false, userErrors: errors };
    await lockSourceKey(tx, 'interaction', input.source, externalId);
    const values = {
      customerId,
      source: input.source,
      externalId,
      channel: input.channel,
      type: input.type,
      direction: input.direction ?? 'INBOUND',
      subject,
      summary,
      sentiment: input.sentiment ?? null,
      status: input.status ?? 'OPEN',
      agent: cleanText(input.agent),
      occurredAt: input.occurredAt,
    };
    const [stored] = await tx.select().from(interactions)
      .where(and(eq(interactions.source, input.source), eq(interactions.externalId, externalId)));
    const existing = stored && decryptInteractionTexts(stored);
    let id: string;
    let created = false;
    if (!existing) {
      const [row] = await tx.insert(interactions).values(encryptInteractionTexts(values)).returning({ id: interactions.id });
      id = row!.id;
      created = true;
    } else {
      if (existing.customerId !== customerId) {
        return { interaction: null, created: false, userErrors: [userError(['input', 'externalId'], 'this source id is already recorded for another customer', 'CONFLICT')] };
      }
      id = existing.id;
      const same = (Object.keys(values) as (keyof typeof values)[]).every((k) =>
        k === 'occurredAt' ? existing.occurredAt.getTime() === values.occurredAt.getTime() : existing[k] === values[k]);
      if (!same) {
        await tx.update(interactions).set({ ...encryptInteractionTexts(values), updatedAt: new Date() })
          .where(and(eq(interactions.customerId, customerId), eq(interactions.id, id)));
      }
    }
    const [row] = await interactionsByIds(tx as unknown as Db, [id]);
    return { interaction: row ?? null, created, userErrors: [] };
  });
}
