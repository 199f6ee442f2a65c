import { sql } from 'drizzle-orm';
import { execRows, toDate, type Db, type Executor } from '../../db/client';
import { pseudonym } from '../../auth/privacy';
import { decryptField } from '../../lib/crypto';

/**
 * GDPR / CCPA: the right to know (export) and the right to erasure. Erasure keeps the customer row as
 * an anonymous tombstone so anonymized transactions still count in aggregates.
 */

/** Everything held about one customer, as one JSON document, in one statement. */
export async function exportCustomerData(db: Db, customerId: string): Promise<unknown | null> {
  const [row] = await execRows<{ data: unknown }>(db, sql`
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM customers WHERE id = ${customerId}::uuid) THEN NULL ELSE jsonb_build_object(
      'profile', (SELECT to_jsonb(c) FROM customers c WHERE c.id = ${customerId}::uuid),
      'identities', (SELECT coalesce(jsonb_agg(to_jsonb(i) ORDER BY i.source, i.external_id), '[]') FROM customer_identities i WHERE i.customer_id = ${customerId}::uuid),
      'consentHistory', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.recorded_at, x.created_at), '[]') FROM consents x WHERE x.customer_id = ${customerId}::uuid),
      'metrics', (SELECT to_jsonb(m) FROM customer_metrics m WHERE m.customer_id = ${customerId}::uuid),
      'tags', (SELECT coalesce(jsonb_agg(to_jsonb(ct) || jsonb_build_object('tagKey', d.key, 'tagName', d.name) ORDER BY d.key), '[]')
               FROM customer_tags ct JOIN tag_definitions d ON d.id = ct.tag_id WHERE ct.customer_id = ${customerId}::uuid),
      'tagHistory', (SELECT coalesce(jsonb_agg(to_jsonb(e) || jsonb_build_object('tagKey', d.key) ORDER BY e.occurred_at), '[]')
               FROM customer_tag_events e JOIN tag_definitions d ON d.id = e.tag_id WHERE e.customer_id = ${customerId}::uuid),
      'transactions', (SELECT coalesce(jsonb_agg(to_jsonb(t) || jsonb_build_object('items',
               (SELECT coalesce(jsonb_agg(to_jsonb(i) ORDER BY i.position), '[]') FROM transaction_items i
                WHERE i.customer_id = t.customer_id AND i.transaction_id = t.id)) ORDER BY t.occurred_at), '[]')
               FROM transactions t WHERE t.customer_id = ${customerId}::uuid),
      'interactions', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.occurred_at), '[]') FROM interactions x WHERE x.customer_id = ${customerId}::uuid),
      'erasures', (SELECT coalesce(jsonb_agg(jsonb_build_object('erasedAt', e.erased_at, 'erasedBy', e.erased_by, 'reason', e.reason)), '[]')
               FROM erasures e WHERE e.customer_id = ${customerId}::uuid),
      'accessLog', (SELECT coalesce(jsonb_agg(jsonb_build_object('at', a.occurred_at, 'who', a.actor_kind || ':' || a.actor_id, 'role', a.role,
               'action', a.action, 'fields', a.fields) ORDER BY a.occurred_at), '[]') FROM audit_log a WHERE a.customer_id = ${customerId}::uuid)
    ) END AS data`);
  return row?.data ? decryptExport(row.data as ExportDocument) : null;
}

interface ExportDocument {
  profile: { birth_date: string | null; national_id: string | null } | null;
  interactions: { subject: string | null; summary: string | null }[];
  [part: string]: unknown;
}

/** The person gets their data, not ciphertext: the encrypted columns are decrypted in the export. */
function decryptExport(doc: ExportDocument): ExportDocument {
  const profile = doc.profile && {
    ...doc.profile,
    birth_date: decryptField('customers.birth_date', doc.profile.birth_date),
    national_id: decryptField('customers.national_id', doc.profile.national_id),
  };
  const interactions = doc.interactions.map((i) => ({
    ...i, subject: decryptField('interactions.subject', i.subject), summary: decryptField('interactions.summary', i.summary),
  }));
  return { ...doc, profile, interactions };
}

/** Keyed hashes of the identities that must not come back silently after an erasure. */
export const identityHashes = (key: string, ids: { sources?: { source: string; externalId: string }[]; email?: string | null; phone?: string | null }): string[] => [
  ...(ids.sources ?? []).map((s) => pseudonym(key, 'IDENTIFIER', `${s.source}:${s.externalId}`)),
  ...(ids.email ? [pseudonym(key, 'EMAIL', ids.email)] : []),
  ...(ids.phone ? [pseudonym(key, 'PHONE', ids.phone)] : []),
];

/** Whether any of these identities belongs to an erased customer. */
export async function isErased(db: Executor, hashes: string[]): Promise<boolean> {
  if (!hashes.length) return false;
  const [row] = await execRows<{ hit: boolean }>(db, sql`SELECT EXISTS (SELECT 1 FROM erasures WHERE blocked_hashes && ${sql.param(hashes)}::text[]) AS hit`);
  return Boolean(row?.hit);
}

export type EraseResult = 'erased' | 'already-erased' | 'not-found';

/** Removes personal data from every table in one transaction. Idempotent. */
export async function eraseCustomer(db: Db, key: string, customerId: string, erasedBy: string, reason: string): Promise<EraseResult> {
  return db.transaction(async (tx) => {
    const [c] = await execRows<{ email_normalized: string | null; phone_e164: string | null; erased: boolean }>(tx, sql`
      SELECT email_normalized, phone_e164, EXISTS (SELECT 1 FROM erasures e WHERE e.customer_id = c.id) AS erased
      FROM customers c WHERE c.id = ${customerId}::uuid FOR UPDATE`);
    if (!c) return 'not-found';
    if (c.erased) return 'already-erased';
    const sources = await execRows<{ source: string; external_id: string }>(tx, sql`SELECT source, external_id FROM customer_identities WHERE customer_id = ${customerId}::uuid`);
    const hashes = identityHashes(key, { sources: sources.map((s) => ({ source: s.source, externalId: s.external_id })), email: c.email_normalized, phone: c.phone_e164 });
    await tx.execute(sql`INSERT INTO erasures (customer_id, blocked_hashes, reason, erased_by) VALUES (${customerId}::uuid, ${sql.param(hashes)}::text[], ${reason}, ${erasedBy})`);
    await tx.execute(sql`DELETE FROM customer_identities WHERE customer_id = ${customerId}::uuid`);
    await tx.execute(sql`DELETE FROM consents WHERE customer_id = ${customerId}::uuid`);
    await tx.execute(sql`DELETE FROM customer_tag_events WHERE customer_id = ${customerId}::uuid`);
    await tx.execute(sql`DELETE FROM customer_tags WHERE customer_id = ${customerId}::uuid`);
    // Service history keeps its shape for statistics; the words and the people in it go.
    await tx.execute(sql`UPDATE interactions SET subject = NULL, summary = NULL, agent = NULL, external_id = 'erased:' || id, updated_at = now()
      WHERE customer_id = ${customerId}::uuid`);
    // Source order numbers lead back to the person in the source system.
    await tx.execute(sql`UPDATE transactions SET external_id = 'erased:' || id, store = NULL, updated_at = now() WHERE customer_id = ${customerId}::uuid`);
    await tx.execute(sql`UPDATE customers SET first_name = NULL, last_name = NULL, display_name = 'Erased customer', email = NULL,
      email_normalized = NULL, phone = NULL, phone_e164 = NULL, birth_date = NULL, birth_month = NULL, birth_date_bidx = NULL, national_id = NULL, gender = NULL, address_line1 = NULL, address_line2 = NULL,
      city = NULL, region = NULL, postal_code = NULL, updated_at = now()
      WHERE id = ${customerId}::uuid`);
    return 'erased';
  });
}

export interface AuditRow {
  occurredAt: Date; actorKind: string; actorId: string; role: string; action: string; fields: string[]; operationName: string | null; requestId: string;
}

/** Who read or changed a customer's data, newest first. */
export async function auditLogFor(db: Db, customerId: string, from: Date | null, to: Date | null, limit: number): Promise<AuditRow[]> {
  const rows = await execRows<{ occurred_at: unknown; actor_kind: string; actor_id: string; role: string; action: string; fields: string[]; operation_name: string | null; request_id: string }>(db, sql`
    SELECT occurred_at, actor_kind, actor_id, role, action, fields, operation_name, request_id FROM audit_log
    WHERE customer_id = ${customerId}::uuid
      ${from ? sql`AND occurred_at >= ${from.toISOString()}::timestamptz` : sql``}
      ${to ? sql`AND occurred_at < ${to.toISOString()}::timestamptz` : sql``}
    ORDER BY occurred_at DESC LIMIT ${limit}`);
  return rows.map((r) => ({
    occurredAt: toDate(r.occurred_at), actorKind: r.actor_kind, actorId: r.actor_id, role: r.role, action: r.action,
    fields: r.fields, operationName: r.operation_name, requestId: r.request_id,
  }));
}
