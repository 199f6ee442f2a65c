import { sql } from 'drizzle-orm';
import { execRows, type Db } from '../db/client';
import type { Logger } from '../logger';
import type { Viewer } from './viewer';

/**
 * Audit of personal-data access. Resolvers of @pii fields note (customer, field) in the request's
 * `RequestAudit`; when the response is sent, the request's entries join a process-wide buffer that is
 * written with one multi-row INSERT every second (or every 500 entries), never on the request path.
 * `close()` flushes what is left (graceful shutdown).
 */
export type AuditAction = 'READ' | 'WRITE' | 'ADMIN';

export interface AuditEntry {
  actorKind: string; actorId: string; role: string; action: AuditAction;
  customerId: string | null; fields: string[]; operationName: string | null; requestId: string; occurredAt: Date;
}

/** Per request: customer id -> personal-data fields read. */
export class RequestAudit {
  readonly reads = new Map<string, Set<string>>();
  private readonly actions: { action: AuditAction; customerId: string | null; fields: string[] }[] = [];
  /** A write or admin operation (mutations are noted by the audit plugin; resolvers add the customer when they know it). */
  noteAction(action: AuditAction, customerId: string | null, fields: string[]): void {
    this.actions.push({ action, customerId, fields });
  }
  get hasActions(): boolean { return this.actions.length > 0; }
  noteRead(customerId: string, field: string): void {
    let set = this.reads.get(customerId);
    if (!set) { set = new Set(); this.reads.set(customerId, set); }
    set.add(field);
  }
  entries(viewer: Viewer, requestId: string, operationName: string | null): AuditEntry[] {
    const base = { actorKind: viewer.kind, actorId: viewer.id, role: viewer.role, operationName, requestId, occurredAt: new Date() };
    return [
      ...[...this.reads].map(([customerId, fields]) => ({ ...base, action: 'READ' as const, customerId, fields: [...fields].sort() })),
      ...this.actions.map((a) => ({ ...base, ...a })),
    ];
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class AuditWriter {
  private buffer: AuditEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly db: Db, private readonly logger: Logger, private readonly maxBatch = 500, private readonly intervalMs = 1000) {}

  push(entries: AuditEntry[]): void {
    if (!entries.length) return;
    this.buffer.push(...entries);
    if (this.buffer.length >= this.maxBatch) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Writes everything buffered so far; concurrent calls queue behind each other. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing.then(() => (batch.length ? this.write(batch) : undefined));
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private async write(batch: AuditEntry[]): Promise<void> {
    try {
      // One statement per batch: parallel text arrays unnested into rows (postgres.js serializes text[]
      // and uuid[] parameters, not timestamptz[] or jsonb[]). Fields travel as JSON arrays.
      await execRows(this.db, sql`
        INSERT INTO audit_log (occurred_at, actor_kind, actor_id, role, action, customer_id, fields, operation_name, request_id)
        SELECT o::timestamptz, k, a, r, act, c::uuid, ARRAY(SELECT jsonb_array_elements_text(f::jsonb)), op, req
        FROM unnest(${sql.param(batch.map((e) => e.occurredAt.toISOString()))}::text[], ${sql.param(batch.map((e) => e.actorKind))}::text[],
          ${sql.param(batch.map((e) => e.actorId))}::text[], ${sql.param(batch.map((e) => e.role))}::text[], ${sql.param(batch.map((e) => e.action))}::text[],
          ${sql.param(batch.map((e) => (e.customerId && UUID.test(e.customerId) ? e.customerId : null)))}::text[],
          ${sql.param(batch.map((e) => JSON.stringify(e.fields)))}::text[], ${sql.param(batch.map((e) => e.operationName))}::text[],
          ${sql.param(batch.map((e) => e.requestId))}::text[]) AS t(o, k, a, r, act, c, f, op, req)`);
    } catch (err) {
      // The audit must not take requests down; a lost batch is logged loudly with its size.
      this.logger.error({ err, entries: batch.length }, 'audit batch could not be written');
    }
  }
}
