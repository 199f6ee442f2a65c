/**
 * `npm run export`: customers, transactions or interactions matching a CustomerFilter (or a segment)
 * as CSV or NDJSON, streamed page by page with a keyset cursor on the primary key: constant memory,
 * one statement per page, stable under concurrent inserts.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { and, sql, type SQL } from 'drizzle-orm';
import { stringify } from 'csv-stringify';
import { execRows, type Db } from '../../db/client';
import { decryptField } from '../../lib/crypto';
import type { CustomerFilter } from '../../__generated__/resolvers-types';
import { compileCustomerFilter } from '../profile';
import { completenessSql, validitySql } from './quality';

export const EXPORT_ENTITIES = ['customers', 'transactions', 'interactions'] as const;
export type ExportEntity = (typeof EXPORT_ENTITIES)[number];

export interface ExportOptions {
  entity: ExportEntity;
  format: 'csv' | 'ndjson';
  filter?: CustomerFilter | null;
  /** Segment id (uuid): customers in `segment_memberships` of this segment. */
  segmentId?: string | null;
  out: Writable;
  pageSize?: number;
  defaultPhoneRegion: string;
  blockedValues: readonly string[];
  onProgress?: (done: number, total: number) => void;
}

export class UnknownSegment extends Error {
  constructor(id: string) { super(`no segment ${id} (or it is archived)`); this.name = 'UnknownSegment'; }
}

const COLUMNS: Record<ExportEntity, string[]> = {
  customers: ['id', 'external_ids', 'first_name', 'last_name', 'display_name', 'email', 'phone', 'birth_date', 'gender', 'address_line1', 'address_line2',
    'city', 'region', 'postal_code', 'country', 'lifecycle_stage', 'completeness', 'validity', 'created_at', 'updated_at'],
  transactions: ['id', 'customer_id', 'source', 'external_id', 'occurred_at', 'type', 'status', 'channel', 'store', 'currency', 'amount', 'amount_base', 'items'],
  interactions: ['id', 'customer_id', 'source', 'external_id', 'channel', 'type', 'direction', 'subject', 'summary', 'sentiment', 'status', 'agent', 'occurred_at'],
};

async function customerCondition(db: Db, o: ExportOptions): Promise<SQL | undefined> {
  const filter = compileCustomerFilter(o.filter, { defaultPhoneRegion: o.defaultPhoneRegion, ingest: { blockedValues: o.blockedValues } });
  if (!o.segmentId) return filter;
  const [t] = await execRows<{ ok: boolean }>(db, sql`SELECT EXISTS (SELECT 1 FROM segments WHERE id = ${o.segmentId}::uuid AND archived_at IS NULL) AS ok`);
  if (!t?.ok) throw new UnknownSegment(o.segmentId);
  return and(filter, sql`customers.id IN (SELECT customer_id FROM segment_memberships WHERE segment_id = ${o.segmentId}::uuid)`);
}

function page(entity: ExportEntity, where: SQL | undefined, after: string | null, limit: number, blocked: readonly string[]): SQL {
  const w = where ?? sql`true`;
  const cursor = after ? sql` AND x.id > ${after}::uuid` : sql``;
  switch (entity) {
    case 'customers':
      return sql`SELECT customers.id, (SELECT string_agg(i.source || ':' || i.external_id, ';' ORDER BY i.source, i.external_id) FROM customer_identities i WHERE i.customer_id = customers.id) AS external_ids,
        first_name, last_name, display_name, email, phone_e164 AS phone, birth_date::text AS birth_date, gender, address_line1, address_line2, city, region, postal_code,
        country, lifecycle_stage, ${completenessSql()}::float8 AS completeness, ${validitySql(blocked)}::float8 AS validity,
        to_json(created_at)#>>'{}' AS created_at, to_json(updated_at)#>>'{}' AS updated_at
        FROM customers WHERE ${w}${after ? sql` AND customers.id > ${after}::uuid` : sql``} ORDER BY customers.id LIMIT ${limit}`;
    case 'transactions':
      return sql`SELECT x.id, x.customer_id, x.source, x.external_id, to_json(x.occurred_at)#>>'{}' AS occurred_at, x.type, x.status, x.channel, x.store, x.currency,
        x.amount::text AS amount, x.amount_base::text AS amount_base,
        (SELECT coalesce(json_agg(json_build_object('sku', i.sku, 'productName', i.product_name, 'category', i.category, 'quantity', i.quantity, 'unitPrice', i.unit_price::text) ORDER BY i.position), '[]')::text
           FROM transaction_items i WHERE i.customer_id = x.customer_id AND i.transaction_id = x.id) AS items
        FROM transactions x WHERE x.customer_id IN (SELECT customers.id FROM customers WHERE ${w})${cursor} ORDER BY x.id LIMIT ${limit}`;
    case 'interactions':
      return sql`SELECT x.id, x.customer_id, x.source, x.external_id, x.channel, x.type, x.direction, x.subject, x.summary, x.sentiment, x.status, x.agent,
        to_json(x.occurred_at)#>>'{}' AS occurred_at
        FROM interactions x WHERE x.customer_id IN (SELECT customers.id FROM customers WHERE ${w})${cursor} ORDER BY x.id LIMIT ${limit}`;
  }
}

async function total(db: Db, entity: ExportEntity, where: SQL | undefined): Promise<number> {
  const w = where ?? sql`true`;
  const q = entity === 'customers' ? sql`SELECT count(*) AS n FROM customers WHERE ${w}`
    : sql`SELECT count(*) AS n FROM ${sql.identifier(entity)} x WHERE x.customer_id IN (SELECT customers.id FROM customers WHERE ${w})`;
  const [r] = await execRows<{ n: number | string }>(db, q);
  return Number(r?.n ?? 0);
}

/** The encrypted columns of an exported row, decrypted: an export is for people and other systems, not ciphertext. */
function inClear(entity: ExportEntity, r: Record<string, unknown>): Record<string, unknown> {
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  if (entity === 'customers') return { ...r, birth_date: decryptField('customers.birth_date', text(r.birth_date)) };
  if (entity === 'interactions') {
    return { ...r, subject: decryptField('interactions.subject', text(r.subject)), summary: decryptField('interactions.summary', text(r.summary)) };
  }
  return r;
}

/** Writes every matching row to `out` (which it does not end); returns the number of rows. */
export async function exportRows(db: Db, o: ExportOptions): Promise<number> {
  const where = await customerCondition(db, o);
  const limit = o.pageSize ?? 5000;
  const all = await total(db, o.entity, where);
  o.onProgress?.(0, all);
  const columns = COLUMNS[o.entity];
  const csv = o.format === 'csv' ? stringify({ header: true, columns, cast: { boolean: (b) => String(b) } }) : null;
  const sink: Writable = csv ?? o.out;
  if (csv) csv.pipe(o.out, { end: false });
  const write = async (chunk: string | Record<string, unknown>) => {
    if (!sink.write(chunk)) await once(sink, 'drain');
  };
  let after: string | null = null;
  let done = 0;
  for (;;) {
    const rows: Record<string, unknown>[] = await execRows<Record<string, unknown>>(db, page(o.entity, where, after, limit, o.blockedValues));
    for (const raw of rows) {
      const r = inClear(o.entity, raw);
      if (csv) await write(r);
      else await write(`${JSON.stringify(o.entity === 'transactions' ? { ...r, items: JSON.parse(String(r.items)) } : r)}\n`);
    }
    done += rows.length;
    o.onProgress?.(done, all);
    if (rows.length < limit) break;
    after = String(rows[rows.length - 1]!.id);
  }
  if (csv) {
    const finished = new Promise<void>((resolve) => csv.on('end', resolve));
    csv.end();
    await finished;
  }
  return done;
}
