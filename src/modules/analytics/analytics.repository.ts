import { sql, type SQL } from 'drizzle-orm';
import { execRows, type Db } from '../../db/client';
import { mapTransaction, type TxDbRow } from '../commerce';
import { mapInteraction, type IxDbRow } from '../service';
import { mapTagChange, type TagEventDbRow } from '../tags';
import type { TimelineEventRow } from './analytics.mappers';
import { uuidRows } from '../../lib/sql';

export interface TimelineArgs {
  limit: number;
  after: { key: string; id: string } | null;
  from: Date | null;
  to: Date | null;
}

const KEY = (a: string) => sql.raw(`to_char(${a}.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);

/**
 * Transactions, interactions and tag changes of every customer merged newest first: one statement
 * for all parents. Each branch is limited first (index (customer_id, occurred_at, id) on each table),
 * then the union is cut to the page; the row itself travels as JSON so no second lookup is needed.
 */
export type TimelineDbRow = { key_customer_id: string; kind: 'Transaction' | 'Interaction' | 'TagChange'; payload: Record<string, unknown> };

export async function timelinePages(db: Db, customerIds: readonly string[], args: TimelineArgs): Promise<Map<string, TimelineEventRow[]>> {
  if (customerIds.length === 0) return new Map();
  return mapTimelinePages(await execRows<TimelineDbRow>(db, timelinePagesQuery(customerIds, args)));
}

export function timelinePagesQuery(customerIds: readonly string[], args: TimelineArgs): SQL {
  const cond = (a: string): SQL => {
    const al = sql.raw(a);
    return sql.join([
      sql`${al}.customer_id = k.customer_id`,
      ...(args.from ? [sql`${al}.occurred_at >= ${args.from.toISOString()}::timestamptz`] : []),
      ...(args.to ? [sql`${al}.occurred_at < ${args.to.toISOString()}::timestamptz`] : []),
      ...(args.after ? [sql`(${al}.occurred_at, ${al}.id) < (${args.after.key}::timestamptz, ${args.after.id}::uuid)`] : []),
    ], sql` AND `);
  };
  return sql`
    SELECT k.customer_id AS key_customer_id, e.kind, e.payload
    FROM ${uuidRows(customerIds, 'k', 'customer_id')}
    CROSS JOIN LATERAL (
      SELECT kind, payload FROM (
        (SELECT 'Transaction' AS kind, t.occurred_at, t.id, jsonb_build_object(
            'id', t.id, 'customer_id', t.customer_id, 'source', t.source, 'external_id', t.external_id,
            'occurred_at', t.occurred_at, 'occurred_key', ${KEY('t')}, 'type', t.type, 'status', t.status,
            'channel', t.channel, 'store', t.store, 'currency', t.currency, 'amount', t.amount::text,
            'amount_base', t.amount_base::text) AS payload
          FROM transactions t WHERE ${cond('t')} ORDER BY t.occurred_at DESC, t.id DESC LIMIT ${args.limit})
        UNION ALL
        (SELECT 'Interaction', i.occurred_at, i.id, jsonb_build_object(
            'id', i.id, 'customer_id', i.customer_id, 'source', i.source, 'external_id', i.external_id,
            'channel', i.channel, 'type', i.type, 'direction', i.direction, 'subject', i.subject, 'summary', i.summary,
            'sentiment', i.sentiment, 'status', i.status, 'agent', i.agent, 'occurred_at', i.occurred_at,
            'occurred_key', ${KEY('i')})
          FROM interactions i WHERE ${cond('i')} ORDER BY i.occurred_at DESC, i.id DESC LIMIT ${args.limit})
        UNION ALL
        (SELECT 'TagChange', e.occurred_at, e.id, jsonb_build_object(
            'id', e.id, 'customer_id', e.customer_id, 'tag_id', e.tag_id, 'action', e.action, 'value', e.value,
            'previous_value', e.previous_value, 'source', e.source, 'actor', e.actor, 'occurred_at', e.occurred_at,
            'occurred_key', ${KEY('e')})
          FROM customer_tag_events e WHERE ${cond('e')} ORDER BY e.occurred_at DESC, e.id DESC LIMIT ${args.limit})
      ) u
      ORDER BY occurred_at DESC, id DESC
      LIMIT ${args.limit}
    ) e`;
}

export function mapTimelinePages(rows: readonly TimelineDbRow[]): Map<string, TimelineEventRow[]> {
  const out = new Map<string, TimelineEventRow[]>();
  for (const r of rows) {
    const p = r.payload;
    let ev: TimelineEventRow;
    // The JSON keys are the column names of each table's row type, built above.
    if (r.kind === 'Transaction') ev = { ...mapTransaction(p as unknown as TxDbRow), __typename: 'Transaction' };
    else if (r.kind === 'Interaction') ev = Object.assign(mapInteraction(p as unknown as IxDbRow), { __typename: 'Interaction' as const });
    else ev = { ...mapTagChange(p as unknown as TagEventDbRow), __typename: 'TagChange' };
    const list = out.get(r.key_customer_id);
    if (list) list.push(ev);
    else out.set(r.key_customer_id, [ev]);
  }
  return out;
}
