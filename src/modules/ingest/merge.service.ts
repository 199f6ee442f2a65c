/**
 * Duplicates, merge preview, merge and its undo. A merge moves every row of every customer-keyed table
 * (discovered from the catalog) to the survivor in one transaction, applies field survivorship to the
 * golden record, and keeps a snapshot of everything it touched; `unmergeCustomers` puts that snapshot
 * back exactly.
 */
import { sql } from 'drizzle-orm';
import type { Config } from '../../config';
import type { Db, Executor } from '../../db/client';
import { userError, type UserError } from '../../errors';
import { tryGlobalId } from '../../lib/global-id';
import type { CustomerRow } from '../profile';
import { customersByIds, encryptCustomerFields } from '../profile';
import { CUSTOMER_FIELDS, type CustomerField } from './entities';
import { displayNameOf, mergeFields, type FieldSource } from './identity';
import { fieldSourceRows, upsertFieldSources } from './import.repository';
import * as repo from './merge.repository';

type IngestConfig = Pick<Config, 'ingest'>;

/** Merges are not Nodes (no `node(id)` lookup) but their ids are opaque all the same. */
export const toMergeId = (id: string): string => Buffer.from(`CustomerMerge:${id}`).toString('base64url');
export function parseMergeId(g: string): string | null {
  if (g.length > 100) return null;
  const raw = Buffer.from(g, 'base64url').toString('utf8');
  const m = /^CustomerMerge:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(raw);
  return m && Buffer.from(raw).toString('base64url') === g ? m[1]! : null;
}

export interface MergePlan { survivor: CustomerRow; merged: CustomerRow[]; result: CustomerRow; sources: FieldSource[] }

const fieldsOf = (c: CustomerRow): Partial<Record<CustomerField, string | null>> => {
  const out: Partial<Record<CustomerField, string | null>> = {};
  for (const f of CUSTOMER_FIELDS) out[f] = f === 'email' ? c.emailNormalized : f === 'phone' ? c.phoneE164 : (c[f] as string | null);
  return out;
};

function parseIds(survivorId: string, mergedIds: readonly string[], errors: UserError[]): { survivor: string; losers: string[] } | null {
  const survivor = tryGlobalId(survivorId, 'Customer');
  if (!survivor) errors.push(userError(['input', 'survivorId'], 'survivorId is not a valid Customer id'));
  const losers = mergedIds.map((g, i) => {
    const id = tryGlobalId(g, 'Customer');
    if (!id) errors.push(userError(['input', 'mergedIds', String(i)], 'not a valid Customer id'));
    return id;
  });
  if (!mergedIds.length) errors.push(userError(['input', 'mergedIds'], 'give at least one customer to merge into the survivor'));
  if (mergedIds.length > 20) errors.push(userError(['input', 'mergedIds'], 'at most 20 customers per merge'));
  const all = [survivor, ...losers];
  if (new Set(all).size !== all.length) errors.push(userError(['input', 'mergedIds'], 'the survivor and the merged customers must all be different'));
  if (errors.length || !survivor) return null;
  return { survivor, losers: losers as string[] };
}

/** What the golden record would be after merging `losers` into `survivor` (nothing is written). */
export async function planMerge(db: Executor, config: IngestConfig, survivor: string, losers: string[], errors: UserError[]): Promise<MergePlan | null> {
  const rows = await customersByIds(db as Db, [survivor, ...losers]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  [survivor, ...losers].forEach((id, i) => {
    if (!byId.has(id)) errors.push(userError(i === 0 ? ['input', 'survivorId'] : ['input', 'mergedIds', String(i - 1)], 'customer not found', 'NOT_FOUND'));
  });
  if (errors.length) return null;
  const sources = await repo.fieldSourcesByCustomerIds(db, [survivor, ...losers]);
  const records = [survivor, ...losers].map((id) => {
    const c = byId.get(id)!;
    return {
      fields: fieldsOf(c), updatedAt: c.updatedAt.toISOString(),
      sources: sources.filter((s) => s.customerId === id).map((s) => ({ field: s.field, source: s.source, updatedAt: s.updatedAt.toISOString(), rule: s.rule as FieldSource['rule'] })),
    };
  });
  const merged = mergeFields(config.ingest.sourcePriority, records);
  const s = byId.get(survivor)!;
  const f = merged.fields;
  const result: CustomerRow = {
    ...s,
    firstName: f.firstName ?? null, lastName: f.lastName ?? null, email: f.email ?? null, emailNormalized: f.email ?? null, phone: f.phone ?? null, phoneE164: f.phone ?? null,
    birthDate: f.birthDate ?? null, gender: f.gender ?? null, addressLine1: f.addressLine1 ?? null, addressLine2: f.addressLine2 ?? null, city: f.city ?? null,
    region: f.region ?? null, postalCode: f.postalCode ?? null, country: f.country ?? null, lifecycleStage: f.lifecycleStage ?? s.lifecycleStage,
    displayName: displayNameOf(f),
  };
  return { survivor: s, merged: losers.map((id) => byId.get(id)!), result, sources: merged.sources.map((x) => ({ ...x, rule: 'MERGE' })) };
}

export async function previewMerge(db: Db, config: IngestConfig, survivorId: string, mergedIds: readonly string[]): Promise<{ plan: MergePlan | null; userErrors: UserError[] }> {
  const errors: UserError[] = [];
  const ids = parseIds(survivorId, mergedIds, errors);
  if (!ids) return { plan: null, userErrors: errors };
  const plan = await planMerge(db, config, ids.survivor, ids.losers, errors);
  return { plan, userErrors: errors };
}

export interface MergeResult { mergeId: string | null; survivorId: string | null; userErrors: UserError[] }

export async function mergeCustomers(db: Db, config: IngestConfig, survivorId: string, mergedIds: readonly string[], by: string): Promise<MergeResult> {
  const errors: UserError[] = [];
  const ids = parseIds(survivorId, mergedIds, errors);
  if (!ids) return { mergeId: null, survivorId: null, userErrors: errors };
  return db.transaction(async (tx) => {
    const all = [ids.survivor, ...ids.losers];
    const locked = await repo.lockCustomers(tx, all);
    if (locked.some((c) => c.erased)) return { mergeId: null, survivorId: null, userErrors: [userError(['input'], 'an erased customer cannot be merged', 'CONFLICT')] };
    const plan = await planMerge(tx, config, ids.survivor, ids.losers, errors);
    if (!plan) return { mergeId: null, survivorId: null, userErrors: errors };
    const tables = await repo.customerTables(tx);
    const snap = await repo.snapshot(tx, tables, all);
    await repo.repoint(tx, tables, ids.survivor, ids.losers);
    const r = plan.result;
    await repo.deleteCustomers(tx, ids.losers);
    // The golden record after survivorship; written through the snapshot-restore path's column list so no column is missed.
    await tx.execute(updateSurvivor(r));
    await upsertFieldSources(tx, fieldSourceRows(ids.survivor, plan.sources));
    const mergeId = await repo.insertMerge(tx, ids.survivor, ids.losers, snap, by);
    return { mergeId, survivorId: ids.survivor, userErrors: [] };
  });
}

/**
 * The golden record's fields as plaintext (planMerge works on decrypted rows); the birth date is
 * encrypted here with its month and blind index, as every write path stores it.
 */
function updateSurvivor(r: CustomerRow) {
  const birth = encryptCustomerFields<{ birthDate: string | null; birthMonth?: string | null; birthDateBidx?: string | null }>({ birthDate: r.birthDate });
  return sql`UPDATE customers SET first_name = ${r.firstName}, last_name = ${r.lastName}, display_name = ${r.displayName}, email = ${r.email},
    email_normalized = ${r.emailNormalized}, phone = ${r.phone}, phone_e164 = ${r.phoneE164}, birth_date = ${birth.birthDate ?? null},
    birth_month = ${birth.birthMonth ?? null}::date, birth_date_bidx = ${birth.birthDateBidx ?? null}, gender = ${r.gender},
    address_line1 = ${r.addressLine1}, address_line2 = ${r.addressLine2}, city = ${r.city}, region = ${r.region}, postal_code = ${r.postalCode},
    country = ${r.country}, lifecycle_stage = ${r.lifecycleStage}, updated_at = now() WHERE id = ${r.id}::uuid`;
}

export interface UnmergeResult { customerIds: string[]; userErrors: UserError[] }

export async function unmergeCustomers(db: Db, mergeGlobalId: string, by: string): Promise<UnmergeResult> {
  const mergeId = parseMergeId(mergeGlobalId);
  if (!mergeId) return { customerIds: [], userErrors: [userError(['mergeId'], 'mergeId is not a valid CustomerMerge id')] };
  return db.transaction(async (tx) => {
    const m = await repo.mergeForUpdate(tx, mergeId);
    if (!m) return { customerIds: [], userErrors: [userError(['mergeId'], 'merge not found (or its customers were erased since)', 'NOT_FOUND')] };
    if (m.unmerged_at) return { customerIds: [], userErrors: [userError(['mergeId'], 'this merge was already undone', 'CONFLICT')] };
    const all = [m.survivor_id, ...m.merged_ids];
    const later = await repo.laterMerges(tx, mergeId, all);
    if (later.length) return { customerIds: [], userErrors: [userError(['mergeId'], 'a later merge involves these customers; undo it first', 'CONFLICT')] };
    const snap = (typeof m.snapshot === 'string' ? JSON.parse(m.snapshot) : m.snapshot) as Record<string, unknown[]>;
    const customers = (snap.customers ?? []) as { id: string }[];
    const survivorRow = customers.find((c) => c.id === m.survivor_id);
    if (!survivorRow) throw new Error(`merge ${mergeId} has no snapshot of its survivor`);
    await repo.lockCustomers(tx, [m.survivor_id]);
    await repo.restoreCustomers(tx, await repo.customerColumns(tx), survivorRow, customers.filter((c) => c.id !== m.survivor_id));
    // Tables that exist now and were in the snapshot, parents first (metrics last: triggers recompute it on the way).
    const tables = (await repo.customerTables(tx)).filter((t) => t.name in snap);
    for (const t of tables) await repo.restoreTable(tx, t, all, snap[t.name] ?? []);
    await repo.markUnmerged(tx, mergeId, by);
    return { customerIds: all, userErrors: [] };
  });
}

export interface DuplicateCandidate { customerIds: string[]; score: number; reasons: string[] }

export async function duplicateCandidates(db: Db, config: IngestConfig, args: { customerId?: string | null; minScore?: number | null; first?: number | null }): Promise<DuplicateCandidate[]> {
  const customerId = args.customerId ? tryGlobalId(args.customerId, 'Customer') : null;
  const limit = Math.min(Math.max(args.first ?? 20, 1), 100);
  const pairs = await repo.duplicatePairs(db, { blocked: config.ingest.blockedValues.map((v) => v.toLowerCase()), customerId: args.customerId ? customerId ?? '00000000-0000-0000-0000-000000000000' : null, minScore: args.minScore ?? 0.5, limit });
  return pairs.map((p) => ({ customerIds: [p.a, p.b], score: p.score, reasons: p.reasons }));
}
