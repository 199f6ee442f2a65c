import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { execRows, type Db } from '../db/client';
import { serviceUnavailable } from '../errors';
import type { Logger } from '../logger';
import type { Viewer } from './viewer';

/**
 * Audit of personal-data access. Resolvers of @pii fields note (customer, field) in the request's
 * `RequestAudit`; when the response is sent, the request's entries join a process-wide buffer that is
 * written with one multi-row INSERT every second (or every 500 entries), never on the request path.
 *
 * At least once: a batch that cannot be written (database down, audit table unwritable) is kept and
 * retried with backoff (1 s doubling up to AUDIT_RETRY_MAX_MS); past MEMORY_MAX entries in memory the
 * oldest go to the spill file (AUDIT_SPILL_FILE, fsynced NDJSON), and at shutdown whatever is still
 * unwritten goes there too. The file is replayed when the database takes writes again, in this
 * process or the next one. When AUDIT_BUFFER_MAX entries are unwritten, reads of personal data are
 * refused (SERVICE_UNAVAILABLE) instead of served unaudited. A crash between an INSERT and the
 * removal of the spill file writes those entries twice (at least once, not exactly once).
 */
export type AuditAction = 'READ' | 'WRITE' | 'ADMIN';

export interface AuditEntry {
  actorKind: string; actorId: string; role: string; action: AuditAction;
  customerId: string | null; fields: string[]; operationName: string | null; requestId: string; occurredAt: Date;
}

/** Per request: customer id -> personal-data fields read. */
export class RequestAudit {
  readonly reads = new Map<string, Set<string>>();
  /** `accepting`: false while the audit buffer is full (reads of personal data are refused then). */
  constructor(private readonly accepting: () => boolean = () => true) {}
  private readonly actions: { action: AuditAction; customerId: string | null; fields: string[] }[] = [];
  /** A write or admin operation (mutations are noted by the audit plugin; resolvers add the customer when they know it). */
  noteAction(action: AuditAction, customerId: string | null, fields: string[]): void {
    this.actions.push({ action, customerId, fields });
  }
  get hasActions(): boolean { return this.actions.length > 0; }
  /** False while reads of personal data are refused (the audit buffer is full). */
  get acceptsReads(): boolean { return this.accepting(); }
  /** Notes a read of personal data; throws SERVICE_UNAVAILABLE when it could not be audited (buffer full). */
  noteRead(customerId: string, field: string): void {
    if (!this.accepting()) throw serviceUnavailable('Personal data cannot be read right now: the audit log cannot be written and its buffer is full; retry shortly');
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
/** Failed entries kept in memory; past this the oldest go to the spill file (when there is one). */
const MEMORY_MAX = 10_000;

export interface AuditWriterOptions {
  maxBatch?: number;
  intervalMs?: number;
  /** Unwritten entries (memory + spill file) from which reads of personal data are refused. */
  bufferMax?: number;
  /** NDJSON file for entries that cannot be written now (null: memory only, lost at exit). */
  spillFile?: string | null;
  /** Cap of the retry backoff. */
  retryMaxMs?: number;
}

type SpilledEntry = Omit<AuditEntry, 'occurredAt'> & { occurredAt: string };

export class AuditWriter {
  private buffer: AuditEntry[] = [];
  /** Entries whose write failed, oldest first. */
  private failed: AuditEntry[] = [];
  /** Entries in the spill file. */
  private spilled = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly maxBatch: number;
  private readonly intervalMs: number;
  private readonly bufferMax: number;
  private readonly spillFile: string | null;
  private readonly retryMaxMs: number;

  constructor(private readonly db: Db, private readonly logger: Logger, opts: AuditWriterOptions = {}) {
    this.maxBatch = opts.maxBatch ?? 500;
    this.intervalMs = opts.intervalMs ?? 1000;
    this.bufferMax = opts.bufferMax ?? 100_000;
    this.spillFile = opts.spillFile ?? null;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
    if (this.spillFile && existsSync(this.spillFile)) {
      this.spilled = readSpill(this.spillFile).length;
      if (this.spilled) {
        this.logger.warn({ entries: this.spilled, file: this.spillFile }, 'audit: entries left unwritten by an earlier run; writing them now');
        this.schedule(0);
      }
    }
  }

  /** Entries not written to audit_log yet (buffered, failed, spilled). */
  get unwritten(): number { return this.buffer.length + this.failed.length + this.spilled; }

  /** False when AUDIT_BUFFER_MAX entries are unwritten: reads of personal data must be refused. */
  get accepting(): boolean { return this.unwritten < this.bufferMax; }

  push(entries: AuditEntry[]): void {
    if (!entries.length) return;
    this.buffer.push(...entries);
    if (this.buffer.length >= this.maxBatch && this.failures === 0) void this.flush();
    else this.schedule(this.failures ? this.backoff() : this.intervalMs);
  }

  /** Writes everything buffered so far (and retries what failed); concurrent calls queue behind each other. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(() => this.writeAll());
    return this.flushing;
  }

  /** Graceful shutdown: one more try, then whatever is still unwritten goes to the spill file. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    clearTimeout(this.timer);
    if (!this.failed.length && !this.buffer.length) return;
    const left = [...this.failed, ...this.buffer];
    this.failed = [];
    this.buffer = [];
    if (this.spill(left)) this.logger.warn({ entries: left.length, file: this.spillFile }, 'audit: entries not written at shutdown kept in the spill file; the next start writes them');
    else this.logger.error({ entries: left.length }, 'audit: entries could not be written at shutdown and there is no spill file (AUDIT_SPILL_FILE): lost');
  }

  private schedule(ms: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => { this.timer = undefined; void this.flush(); }, ms);
    this.timer.unref();
  }

  private backoff(): number { return Math.min(this.intervalMs * 2 ** Math.max(0, this.failures - 1), this.retryMaxMs); }

  private async writeAll(): Promise<void> {
    const batch = [...this.failed, ...this.buffer];
    this.failed = [];
    this.buffer = [];
    for (let i = 0; i < batch.length; i += this.maxBatch) {
      const chunk = batch.slice(i, i + this.maxBatch);
      if (!(await this.tryWrite(chunk))) {
        this.keep(batch.slice(i));
        return;
      }
    }
    if (this.spilled && this.spillFile) await this.replay(this.spillFile);
  }

  /** Writes one chunk; on failure counts it for the backoff and schedules the retry. */
  private async tryWrite(chunk: AuditEntry[]): Promise<boolean> {
    try {
      await this.write(chunk);
      if (this.failures) this.logger.info({ unwritten: this.unwritten }, 'audit: writing again');
      this.failures = 0;
      return true;
    } catch (err) {
      this.failures++;
      // Loud once, then quieter: every retry of a long outage would repeat the same line.
      if (this.failures === 1) this.logger.error({ err, entries: chunk.length }, 'audit: batch could not be written; kept for retry');
      else this.logger.warn({ err: (err as Error).message, unwritten: this.unwritten, retryMs: this.backoff() }, 'audit: retry failed');
      this.schedule(this.backoff());
      return false;
    }
  }

  /** Keeps failed entries: in memory up to MEMORY_MAX, the oldest beyond that in the spill file. */
  private keep(entries: AuditEntry[]): void {
    this.failed.push(...entries);
    const over = this.failed.length - MEMORY_MAX;
    if (over > 0 && this.spill(this.failed.slice(0, over))) this.failed.splice(0, over);
  }

  /** Appends entries to the spill file (fsynced). False when there is none or it cannot be written. */
  private spill(entries: AuditEntry[]): boolean {
    if (!this.spillFile || !entries.length) return false;
    try {
      mkdirSync(path.dirname(this.spillFile), { recursive: true });
      const fd = openSync(this.spillFile, 'a', 0o600);
      try {
        writeSync(fd, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.spilled += entries.length;
      return true;
    } catch (err) {
      this.logger.error({ err, file: this.spillFile }, 'audit: spill file could not be written');
      return false;
    }
  }

  /** Writes the spill file's entries; removes the file when all are in, else keeps the rest in it. */
  private async replay(file: string): Promise<void> {
    const entries = readSpill(file);
    for (let i = 0; i < entries.length; i += this.maxBatch) {
      if (!(await this.tryWrite(entries.slice(i, i + this.maxBatch)))) {
        const tmp = `${file}.tmp`;
        const fd = openSync(tmp, 'w', 0o600);
        try {
          writeSync(fd, entries.slice(i).map((e) => `${JSON.stringify(e)}\n`).join(''));
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, file);
        this.spilled = entries.length - i;
        return;
      }
    }
    unlinkSync(file);
    this.logger.info({ entries: entries.length, file }, 'audit: spilled entries written');
    this.spilled = 0;
  }

  private async write(batch: AuditEntry[]): Promise<void> {
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
  }
}

/** The spill file's entries (a torn last line, from a crash mid-append, is skipped). */
function readSpill(file: string): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as SpilledEntry;
      out.push({ ...e, occurredAt: new Date(e.occurredAt) });
    } catch {
      // torn line
    }
  }
  return out;
}
