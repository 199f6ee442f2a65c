import { desc, eq, sql } from 'drizzle-orm';
import { execRows, toDate, toDateOrNull, type Db } from '../../db/client';
import { apiKeys } from '../../db/schema/index';
import type { ApiKeyRow } from './admin.mappers';

/** SQL of API keys. */

export async function insertApiKey(db: Db, row: typeof apiKeys.$inferInsert): Promise<ApiKeyRow> {
  const [created] = await db.insert(apiKeys).values(row).returning();
  return created!;
}

export const listApiKeys = (db: Db): Promise<ApiKeyRow[]> => db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));

export async function revokeApiKey(db: Db, id: string): Promise<ApiKeyRow | null> {
  const [row] = await db.update(apiKeys).set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` }).where(eq(apiKeys.id, id)).returning();
  return row ?? null;
}

export async function revokeApiKeyByPrefix(db: Db, prefix: string): Promise<ApiKeyRow | null> {
  const [row] = await db.update(apiKeys).set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` }).where(eq(apiKeys.prefix, prefix)).returning();
  return row ?? null;
}

/** The key by its public prefix (one indexed read per API-key request, prepared). */
export async function apiKeyByPrefix(db: Db, prefix: string): Promise<ApiKeyRow | null> {
  const [r] = await execRows<Record<string, unknown>>(db, sql`
    SELECT id, name, prefix, secret_hash, role, scopes, field_allow_list, purpose, countries, segment_ids::text[] AS segment_ids, rate_limit_per_minute,
      rate_limit_burst, max_cost, persisted_only, expires_at, revoked_at, last_used_at, created_by, created_at
    FROM api_keys WHERE prefix = ${prefix}`);
  if (!r) return null;
  return {
    id: String(r.id), name: String(r.name), prefix: String(r.prefix), secretHash: String(r.secret_hash), role: String(r.role),
    scopes: (r.scopes as string[]) ?? [], fieldAllowList: (r.field_allow_list as string[]) ?? [],
    purpose: (r.purpose as string | null) ?? null, countries: (r.countries as string[] | null) ?? null,
    segmentIds: (r.segment_ids as string[] | null) ?? null,
    rateLimitPerMinute: r.rate_limit_per_minute == null ? null : Number(r.rate_limit_per_minute),
    rateLimitBurst: r.rate_limit_burst == null ? null : Number(r.rate_limit_burst),
    maxCost: r.max_cost == null ? null : Number(r.max_cost), persistedOnly: Boolean(r.persisted_only),
    expiresAt: toDateOrNull(r.expires_at), revokedAt: toDateOrNull(r.revoked_at), lastUsedAt: toDateOrNull(r.last_used_at),
    createdBy: String(r.created_by), createdAt: toDate(r.created_at),
  };
}

/** Throttled: at most one write a minute per key, whatever the request rate. */
export async function touchApiKey(db: Db, id: string): Promise<void> {
  await execRows(db, sql`UPDATE api_keys SET last_used_at = now()
    WHERE id = ${id}::uuid AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`);
}
