import { sql, type SQL } from 'drizzle-orm';
import { execRows, toDate, type Db } from '../../db/client';
import { decryptField, decryptOnRead, encryptField } from '../../lib/crypto';
import type { InteractionRow } from './service.mappers';
import { uuidIn, uuidRows } from '../../lib/sql';

/** SQL of the service domain. Arrays in, rows out. */

export interface InteractionPageArgs {
  limit: number;
  after: { key: string; id: string } | null;
  channel: string | null;
  from: Date | null;
  to: Date | null;
}

const IX_COLUMNS = sql`i.id, i.customer_id, i.source, i.external_id, i.channel, i.type, i.direction, i.subject, i.summary,
  i.sentiment, i.status, i.agent, i.occurred_at,
  to_char(i.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_key`;

export interface IxDbRow {
  id: string; customer_id: string; source: string; external_id: string; channel: string; type: string; direction: string;
  subject: string | null; summary: string | null; sentiment: string | null; status: string; agent: string | null;
  occurred_at: unknown; occurred_key: string;
}

export function mapInteraction(r: IxDbRow): InteractionRow {
  const row: InteractionRow = {
    id: r.id, customerId: r.customer_id, source: r.source, externalId: r.external_id, channel: r.channel, type: r.type,
    direction: r.direction, subject: r.subject, summary: r.summary,
    sentiment: r.sentiment, status: r.status,
    agent: r.agent, occurredAt: toDate(r.occurred_at), occurredKey: r.occurred_key,
  };
  decryptOnRead(row, 'subject', 'interactions.subject');
  return decryptOnRead(row, 'summary', 'interactions.summary');
}

/**
 * Subject and summary are free text typed by customers and agents (complaints, health, family matters
 * turn up there), so both are stored encrypted; every read above decrypts them (on first access: decryptOnRead) in mapInteraction.
 */
export function encryptInteractionTexts<T extends { subject?: string | null; summary?: string | null }>(values: T): T {
  return { ...values, subject: encryptField('interactions.subject', values.subject), summary: encryptField('interactions.summary', values.summary) };
}

export function decryptInteractionTexts<T extends { subject: string | null; summary: string | null }>(row: T): T {
  return { ...row, subject: decryptField('interactions.subject', row.subject), summary: decryptField('interactions.summary', row.summary) };
}

function filterCond(alias: SQL, a: Omit<InteractionPageArgs, 'limit' | 'after'>): SQL {
  return sql.join([
    sql`true`,
    ...(a.channel ? [sql`${alias}.channel = ${a.channel}`] : []),
    ...(a.from ? [sql`${alias}.occurred_at >= ${a.from.toISOString()}::timestamptz`] : []),
    ...(a.to ? [sql`${alias}.occurred_at < ${a.to.toISOString()}::timestamptz`] : []),
  ], sql` AND `);
}

export interface InteractionPageRows { customerId: string; totalCount: number; rows: InteractionRow[] }

/** The newest `limit` interactions of every customer plus each total: one statement for all parents. */
export type InteractionPageDbRow = IxDbRow & { key_customer_id: string; total_count: number };

export async function interactionPages(db: Db, customerIds: readonly string[], args: InteractionPageArgs): Promise<InteractionPageRows[]> {
  if (customerIds.length === 0) return [];
  return mapInteractionPages(await execRows<InteractionPageDbRow>(db, interactionPagesQuery(customerIds, args)));
}

export function interactionPagesQuery(customerIds: readonly string[], args: InteractionPageArgs): SQL {
  const i = sql.raw('i');
  const x = sql.raw('x');
  return sql`
    SELECT k.customer_id AS key_customer_id, ic.total_count, p.*
    FROM ${uuidRows(customerIds, 'k', 'customer_id')}
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS total_count FROM interactions x WHERE x.customer_id = k.customer_id AND ${filterCond(x, args)}
    ) ic
    LEFT JOIN LATERAL (
      SELECT ${IX_COLUMNS} FROM interactions i
      WHERE i.customer_id = k.customer_id AND ${filterCond(i, args)}
        AND ${args.after ? sql`(i.occurred_at, i.id) < (${args.after.key}::timestamptz, ${args.after.id}::uuid)` : sql`true`}
      ORDER BY i.occurred_at DESC, i.id DESC
      LIMIT ${args.limit}
    ) p ON true`;
}

export function mapInteractionPages(rows: readonly InteractionPageDbRow[]): InteractionPageRows[] {
  const byCustomer = new Map<string, InteractionPageRows>();
  for (const r of rows) {
    let page = byCustomer.get(r.key_customer_id);
    if (!page) {
      page = { customerId: r.key_customer_id, totalCount: Number(r.total_count), rows: [] };
      byCustomer.set(r.key_customer_id, page);
    }
    if (r.id) page.rows.push(mapInteraction(r));
  }
  return [...byCustomer.values()];
}

export async function interactionsByIds(db: Db, ids: readonly string[], rowScope?: SQL): Promise<InteractionRow[]> {
  if (ids.length === 0) return [];
  const rows = await execRows<IxDbRow>(db, sql`SELECT ${IX_COLUMNS} FROM interactions i WHERE ${uuidIn('i.id', ids)}
    ${rowScope ? sql`AND EXISTS (SELECT 1 FROM customers WHERE customers.id = i.customer_id AND ${rowScope})` : sql``}`);
  return rows.map(mapInteraction);
}
