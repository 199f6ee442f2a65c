import { asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { execRows, toDate, toDateOrNull, type Db } from '../../db/client';
import { tagDefinitions } from '../../db/schema/index';
import type { CustomerTagRow, TagChangeRow, TagDefinitionRow } from './tags.mappers';

/** SQL of the tags domain. Arrays in, rows out. */

export async function listTagDefinitions(db: Db, category: string | null): Promise<TagDefinitionRow[]> {
  const q = db.select().from(tagDefinitions);
  return (category ? q.where(eq(tagDefinitions.category, category)) : q).orderBy(asc(tagDefinitions.category), asc(tagDefinitions.key));
}

export async function tagDefinitionsByIds(db: Db, ids: readonly string[]): Promise<TagDefinitionRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(tagDefinitions).where(inArray(tagDefinitions.id, [...ids]));
}

export async function tagDefinitionsByKeys(db: Pick<Db, 'select'>, keys: readonly string[]): Promise<TagDefinitionRow[]> {
  if (keys.length === 0) return [];
  return db.select().from(tagDefinitions).where(inArray(tagDefinitions.key, [...keys]));
}

export interface CustomerTagDbRow {
  customer_id: string; value: string | null; source: string; actor: string | null; confidence: string | null;
  assigned_at: unknown; expires_at: unknown;
  tag_id: string; tag_key: string; tag_name: string; tag_description: string; tag_category: string; tag_value_type: string; tag_created_at: unknown;
}

/** Current tags with their definitions; expired assignments are invisible from the moment they expire. */
export async function tagsByCustomerIds(db: Db, customerIds: readonly string[]): Promise<CustomerTagRow[]> {
  if (customerIds.length === 0) return [];
  return mapCustomerTags(await execRows<CustomerTagDbRow>(db, tagsByCustomerIdsQuery(customerIds)));
}

export function tagsByCustomerIdsQuery(customerIds: readonly string[]): SQL {
  return sql`
    SELECT ct.customer_id, ct.value, ct.source, ct.actor, ct.confidence::text AS confidence, ct.assigned_at, ct.expires_at,
      d.id AS tag_id, d.key AS tag_key, d.name AS tag_name, d.description AS tag_description, d.category AS tag_category,
      d.value_type AS tag_value_type, d.created_at AS tag_created_at
    FROM customer_tags ct JOIN tag_definitions d ON d.id = ct.tag_id
    WHERE ct.customer_id = ANY(${sql.param([...customerIds])}::uuid[]) AND (ct.expires_at IS NULL OR ct.expires_at > now())
    ORDER BY ct.customer_id, d.category, d.key`;
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
    tag: {
      id: r.tag_id, key: r.tag_key, name: r.tag_name, description: r.tag_description, category: r.tag_category,
      valueType: r.tag_value_type, createdAt: toDate(r.tag_created_at),
    },
  }));
}

export interface TagEventDbRow {
  id: string; customer_id: string; tag_id: string; action: string; value: string | null; previous_value: string | null;
  source: string; actor: string | null; occurred_at: unknown; occurred_key: string;
}

export function mapTagChange(r: TagEventDbRow): TagChangeRow {
  return {
    id: r.id, customerId: r.customer_id, tagId: r.tag_id, action: r.action, value: r.value, previousValue: r.previous_value,
    source: r.source, actor: r.actor, occurredAt: toDate(r.occurred_at), occurredKey: r.occurred_key,
  };
}

export async function tagChangesByIds(db: Db, ids: readonly string[]): Promise<TagChangeRow[]> {
  if (ids.length === 0) return [];
  const rows = await execRows<TagEventDbRow>(db, sql`
    SELECT id, customer_id, tag_id, action, value, previous_value, source, actor, occurred_at,
      to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_key
    FROM customer_tag_events WHERE id = ANY(${sql.param([...ids])}::uuid[])`);
  return rows.map(mapTagChange);
}
