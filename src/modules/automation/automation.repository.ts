import { sql } from 'drizzle-orm';
import { execRows, toDate, toDateOrNull, type Db, type Executor } from '../../db/client';
import type { CustomerEventRow, CustomerEventType, WebhookDeliveryRow, WebhookRow } from './automation.mappers';

/** SQL of the outbox, webhooks and deliveries. Arrays in, rows out. */

interface RawEvent { id: string; seq: string | number; xid: string; type: CustomerEventType; customer_id: string; payload: unknown; occurred_at: unknown }
const eventColumns = (e: string) => sql.raw(`${e}.id, ${e}.seq::text AS seq, ${e}.xid::text AS xid, ${e}.type, ${e}.customer_id, ${e}.payload, ${e}.occurred_at`);
export const mapEvent = (r: RawEvent): CustomerEventRow => ({
  id: r.id, seq: String(r.seq), xid: r.xid, type: r.type, customerId: r.customer_id,
  payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
  occurredAt: toDate(r.occurred_at),
});

/**
 * Where "from now on" starts: the oldest transaction still running (cluster-wide). Everything below
 * it is final; rows at or above it may still commit.
 */
export async function snapshotXmin(db: Db): Promise<string> {
  const [r] = await execRows<{ xmin: string }>(db, sql`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`);
  return r!.xmin;
}

/**
 * Outbox rows for a tailing reader, oldest transaction first, with the current snapshot xmin.
 * A row is taken when its transaction is older than every running one (`xid < xmin`: all its rows
 * are visible now, so a low-water mark on xid never skips a late commit, which a sequence would:
 * sequence values are drawn at insert, not at commit), or when it is older than `lagMs` (so one
 * long-running transaction elsewhere in the cluster delays events by at most `lagMs`; those rows are
 * re-read for `horizonMs` and the reader skips the ones it has sent).
 */
export async function tailEvents(db: Db, low: string, lagMs: number, horizonMs: number, limit: number): Promise<{ xmin: string; rows: CustomerEventRow[] }> {
  const rows = await execRows<RawEvent & { xmin: string }>(db, sql`
    WITH snap AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
    SELECT ${eventColumns('e')}, snap.xmin::text AS xmin FROM snap
    LEFT JOIN automation_events e ON e.xid >= ${low}::xid8 AND (e.xid < snap.xmin OR (
      e.occurred_at < now() - make_interval(secs => ${lagMs / 1000}::float8)
      AND e.occurred_at > now() - make_interval(secs => ${(lagMs + horizonMs) / 1000}::float8)))
    ORDER BY e.xid, e.seq LIMIT ${limit}`);
  const xmin = rows[0]?.xmin;
  if (!xmin) throw new Error('no snapshot');
  return { xmin, rows: rows.filter((r) => r.id !== null).map(mapEvent) };
}

export async function countEvents(db: Pick<Executor, 'execute'>, customerId?: string): Promise<number> {
  const [r] = await execRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM automation_events ${customerId ? sql`WHERE customer_id = ${customerId}::uuid` : sql``}`);
  return Number(r?.n ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Webhooks

interface RawWebhook { id: string; url: string; description: string; secret: string; event_types: string[] | string; active: boolean; created_by: string; created_at: unknown; updated_at: unknown }
const webhookColumns = sql.raw('w.id, w.url, w.description, w.secret, w.event_types, w.active, w.created_by, w.created_at, w.updated_at');
const parseTextArray = (v: string[] | string): string[] => (Array.isArray(v) ? v : v.replace(/^\{|\}$/g, '').split(',').filter(Boolean));
const mapWebhook = (r: RawWebhook): WebhookRow => ({
  id: r.id, url: r.url, description: r.description, secret: r.secret, eventTypes: parseTextArray(r.event_types), active: Boolean(r.active),
  createdBy: r.created_by, createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at),
});

export async function listWebhooks(db: Db): Promise<WebhookRow[]> {
  return (await execRows<RawWebhook>(db, sql`SELECT ${webhookColumns} FROM webhooks w ORDER BY w.created_at, w.id`)).map(mapWebhook);
}

export async function webhookById(db: Pick<Executor, 'execute'>, id: string): Promise<WebhookRow | null> {
  const [r] = await execRows<RawWebhook>(db, sql`SELECT ${webhookColumns} FROM webhooks w WHERE w.id = ${id}::uuid`);
  return r ? mapWebhook(r) : null;
}

export async function insertWebhook(db: Db, v: { url: string; description: string; secret: string; eventTypes: string[]; active: boolean; createdBy: string }): Promise<WebhookRow> {
  const [r] = await execRows<RawWebhook>(db, sql`
    INSERT INTO webhooks AS w (url, description, secret, event_types, active, created_by)
    VALUES (${v.url}, ${v.description}, ${v.secret}, ${sql.param(v.eventTypes)}::text[], ${v.active}, ${v.createdBy}) RETURNING ${webhookColumns}`);
  return mapWebhook(r!);
}

export async function updateWebhook(db: Db, id: string, v: { url?: string; description?: string; secret?: string; eventTypes?: string[]; active?: boolean }): Promise<WebhookRow | null> {
  const [r] = await execRows<RawWebhook>(db, sql`
    UPDATE webhooks AS w SET updated_at = now()
      ${v.url !== undefined ? sql`, url = ${v.url}` : sql``}
      ${v.description !== undefined ? sql`, description = ${v.description}` : sql``}
      ${v.secret !== undefined ? sql`, secret = ${v.secret}` : sql``}
      ${v.eventTypes !== undefined ? sql`, event_types = ${sql.param(v.eventTypes)}::text[]` : sql``}
      ${v.active !== undefined ? sql`, active = ${v.active}` : sql``}
    WHERE w.id = ${id}::uuid RETURNING ${webhookColumns}`);
  return r ? mapWebhook(r) : null;
}

export async function deleteWebhook(db: Db, id: string): Promise<boolean> {
  const rows = await execRows<{ id: string }>(db, sql`DELETE FROM webhooks WHERE id = ${id}::uuid RETURNING id`);
  return rows.length > 0;
}

// ---------------------------------------------------------------------------------------------
// Deliveries

interface RawDelivery extends RawEvent {
  d_id: string; webhook_id: string; status: WebhookDeliveryRow['status']; attempts: number; next_attempt_at: unknown; last_attempt_at: unknown;
  last_status_code: number | null; last_error: string | null; delivered_at: unknown; created_at: unknown; created_key: string;
}
const deliveryColumns = sql.raw(`d.id AS d_id, d.webhook_id, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_status_code,
  d.last_error, d.delivered_at, d.created_at, to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key`);
const mapDelivery = (r: RawDelivery): WebhookDeliveryRow => ({
  id: r.d_id, webhookId: r.webhook_id, event: mapEvent(r), status: r.status, attempts: Number(r.attempts),
  nextAttemptAt: toDate(r.next_attempt_at), lastAttemptAt: toDateOrNull(r.last_attempt_at), lastStatusCode: r.last_status_code === null ? null : Number(r.last_status_code),
  lastError: r.last_error, deliveredAt: toDateOrNull(r.delivered_at), createdAt: toDate(r.created_at), createdKey: r.created_key,
});

export async function listDeliveries(db: Db, webhookId: string, status: string | null, after: { key: string; id: string } | null, limit: number): Promise<WebhookDeliveryRow[]> {
  const rows = await execRows<RawDelivery>(db, sql`
    SELECT ${deliveryColumns}, ${eventColumns('e')} FROM webhook_deliveries d JOIN automation_events e ON e.id = d.event_id
    WHERE d.webhook_id = ${webhookId}::uuid ${status ? sql`AND d.status = ${status}` : sql``}
      ${after ? sql`AND (d.created_at, d.id) < (${after.key}::timestamptz, ${after.id}::uuid)` : sql``}
    ORDER BY d.created_at DESC, d.id DESC LIMIT ${limit}`);
  return rows.map(mapDelivery);
}

export async function deliveryById(db: Pick<Executor, 'execute'>, id: string): Promise<WebhookDeliveryRow | null> {
  const [r] = await execRows<RawDelivery>(db, sql`
    SELECT ${deliveryColumns}, ${eventColumns('e')} FROM webhook_deliveries d JOIN automation_events e ON e.id = d.event_id WHERE d.id = ${id}::uuid`);
  return r ? mapDelivery(r) : null;
}

/** Queues a delivery again now, with a fresh attempt budget (same row: same Idempotency-Key). */
export async function requeueDelivery(db: Db, id: string): Promise<boolean> {
  const rows = await execRows<{ id: string }>(db, sql`
    UPDATE webhook_deliveries SET status = 'PENDING', attempts = 0, next_attempt_at = now() WHERE id = ${id}::uuid RETURNING id`);
  return rows.length > 0;
}

/** Every event since `since` that the webhook wants: new deliveries for unseen ones, old ones queued again. */
export async function requeueEventsSince(db: Db, webhook: WebhookRow, since: Date): Promise<number> {
  const [r] = await execRows<{ n: number }>(db, sql`
    WITH queued AS (INSERT INTO webhook_deliveries (webhook_id, event_id)
      SELECT ${webhook.id}::uuid, e.id FROM automation_events e
      WHERE e.occurred_at >= ${since.toISOString()}::timestamptz
        AND (cardinality(${sql.param(webhook.eventTypes)}::text[]) = 0 OR e.type = ANY(${sql.param(webhook.eventTypes)}::text[]))
      ON CONFLICT (webhook_id, event_id) DO UPDATE SET status = 'PENDING', attempts = 0, next_attempt_at = now()
      RETURNING 1)
    SELECT count(*)::int AS n FROM queued`);
  return Number(r?.n ?? 0);
}

export interface ClaimedDelivery { id: string; attempts: number; url: string; secret: string; event: CustomerEventRow }

/**
 * Claims due deliveries for one dispatcher: SKIP LOCKED so concurrent dispatchers (several gateway
 * instances) take disjoint rows, and a lease (next_attempt_at moved forward) so a dispatcher that
 * dies mid-send hands its rows to another after the lease. Counts the attempt.
 */
export async function claimDueDeliveries(db: Db, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const rows = await execRows<RawEvent & { d_id: string; attempts: number; url: string; secret: string }>(db, sql`
    WITH due AS (
      SELECT id FROM webhook_deliveries WHERE status = 'PENDING' AND next_attempt_at <= now()
      ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    UPDATE webhook_deliveries d SET attempts = d.attempts + 1, last_attempt_at = now(),
      next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000}::float8)
    FROM due, webhooks w, automation_events e
    WHERE d.id = due.id AND w.id = d.webhook_id AND e.id = d.event_id
    RETURNING d.id AS d_id, d.attempts, w.url, w.secret, ${eventColumns('e')}`);
  return rows.map((r) => ({ id: r.d_id, attempts: Number(r.attempts), url: r.url, secret: r.secret, event: mapEvent(r) }));
}

export interface AttemptOutcome { statusCode: number | null; error: string | null; durationMs: number }

/** Records an attempt: DELIVERED on 2xx; otherwise the next try after `retryInMs`, or FAILED when `giveUp`. */
export async function recordAttempt(db: Db, deliveryId: string, o: AttemptOutcome, result: { ok: true } | { ok: false; giveUp: boolean; retryInMs: number }): Promise<void> {
  const update = result.ok
    ? sql`UPDATE webhook_deliveries SET status = 'DELIVERED', delivered_at = now(), last_status_code = ${o.statusCode}, last_error = NULL WHERE id = ${deliveryId}::uuid`
    : sql`UPDATE webhook_deliveries SET status = ${result.giveUp ? 'FAILED' : 'PENDING'}, last_status_code = ${o.statusCode}, last_error = ${o.error},
        next_attempt_at = now() + make_interval(secs => ${result.retryInMs / 1000}::float8) WHERE id = ${deliveryId}::uuid`;
  await execRows(db, sql`
    WITH attempt AS (INSERT INTO webhook_delivery_attempts (delivery_id, status_code, error, duration_ms)
      VALUES (${deliveryId}::uuid, ${o.statusCode}, ${o.error}, ${Math.round(o.durationMs)}) RETURNING 1)
    ${update}`);
}
