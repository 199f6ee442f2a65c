import type { Db } from '../../db/client';
import type { Logger } from '../../logger';
import type { CustomerEventRow, CustomerEventType } from './automation.mappers';
import * as repo from './automation.repository';

/**
 * Feeds GraphQL subscriptions from the outbox. Gateway processes are stateless and any of them may
 * hold a subscriber while another wrote the event, so the source of truth is the table, not process
 * memory. We poll rather than LISTEN/NOTIFY: it works the same on embedded PGlite and PostgreSQL,
 * needs no dedicated connection per instance (postgres.js LISTEN reserves one, PgBouncer in
 * transaction mode breaks it), loses nothing across reconnects, and one indexed query per interval
 * per instance is cheap. NOTIFY would only cut latency below the interval; it could be added as a
 * wake-up signal for this same query. Ordering by (xid, seq) below the oldest running transaction
 * makes the tail gap-free (see tailEvents); a transaction left open elsewhere delays events by at most
 * `lagMs`.
 *
 * One poller per process, running only while someone is subscribed; each subscriber gets its own
 * bounded queue and is dropped when it falls too far behind.
 */
export class OutboxFeed {
  private readonly subscribers = new Set<Subscriber>();
  /** Low-water mark: every row with xid below it has been sent. Null while nobody is subscribed. */
  private position: string | null = null;
  /** Ids sent at or above the low-water mark (they are read again until the mark passes them). */
  private readonly sent = new Map<string, bigint>();
  private timer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | null = null;
  private closed = false;
  /** Bumped when polling stops, so a poll still in flight from before does not start a second loop. */
  private generation = 0;

  constructor(
    private readonly db: Db, private readonly intervalMs: number, private readonly lagMs: number, private readonly logger: Logger,
    private readonly maxQueue = 1000,
  ) {}

  /** Events from now on, optionally only some types, as an async iterator (what graphql-js subscribe wants). */
  async subscribe(types: readonly CustomerEventType[] | null | undefined): Promise<AsyncIterableIterator<CustomerEventRow>> {
    if (this.closed) throw new Error('feed closed');
    if (!this.position) {
      this.starting ??= repo.snapshotXmin(this.db).then((p) => { this.position = p; this.poll(); });
      await this.starting;
    }
    const sub = new Subscriber(types?.length ? new Set(types) : null, this.maxQueue, () => { this.subscribers.delete(sub); this.idle(); });
    this.subscribers.add(sub);
    return sub;
  }

  get size(): number { return this.subscribers.size; }

  private poll(): void {
    this.timer = setTimeout(() => { void this.tick(); }, this.intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (!this.position || this.closed) return;
    const gen = this.generation;
    try {
      for (;;) {
        const { xmin, rows } = await repo.tailEvents(this.db, this.position, this.lagMs, 60_000, 1000);
        if (gen !== this.generation || !this.position) return;
        for (const row of rows) {
          if (this.sent.has(row.id)) continue;
          this.sent.set(row.id, BigInt(row.xid));
          for (const s of this.subscribers) s.push(row);
        }
        // A full page may stop inside one transaction: keep the mark at the last row's xid (its sent rows are skipped).
        const full = rows.length === 1000;
        const mark = full ? rows.at(-1)!.xid : xmin;
        if (BigInt(mark) > BigInt(this.position)) this.position = mark;
        const low = BigInt(this.position);
        for (const [id, xid] of this.sent) if (xid < low) this.sent.delete(id);
        // Bounded memory while a stuck transaction holds the mark: beyond this, repeats are possible.
        if (this.sent.size > 200_000) this.sent.clear();
        if (!full) break;
      }
    } catch (e) {
      this.logger.warn({ err: e }, 'subscription feed poll failed; retrying');
    }
    if (!this.closed && this.position && gen === this.generation) this.poll();
  }

  /** No subscribers: stop polling; the next subscriber starts again from "now". */
  private idle(): void {
    if (this.subscribers.size) return;
    if (this.timer) clearTimeout(this.timer);
    this.generation++;
    this.position = null;
    this.sent.clear();
    this.starting = null;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const s of [...this.subscribers]) void s.return();
  }
}

class Subscriber implements AsyncIterableIterator<CustomerEventRow> {
  private readonly queue: CustomerEventRow[] = [];
  private waiting: ((r: IteratorResult<CustomerEventRow>) => void) | null = null;
  private done = false;

  constructor(private readonly types: Set<string> | null, private readonly maxQueue: number, private readonly onDone: () => void) {}

  push(row: CustomerEventRow): void {
    if (this.done || (this.types && !this.types.has(row.type))) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w({ value: row, done: false });
      return;
    }
    // A client this far behind is not reading; end its subscription rather than grow without bound.
    if (this.queue.length >= this.maxQueue) { void this.return(); return; }
    this.queue.push(row);
  }

  next(): Promise<IteratorResult<CustomerEventRow>> {
    const row = this.queue.shift();
    if (row) return Promise.resolve({ value: row, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => { this.waiting = resolve; });
  }

  return(): Promise<IteratorResult<CustomerEventRow>> {
    if (!this.done) {
      this.done = true;
      this.queue.length = 0;
      this.waiting?.({ value: undefined, done: true });
      this.waiting = null;
      this.onDone();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<CustomerEventRow> { return this; }
}
