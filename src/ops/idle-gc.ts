import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

/**
 * Young-generation collections while the gateway has nothing to do (IDLE_GC).
 *
 * V8 scavenges its young generation when it fills: every ~95 requests of a one-customer lookup
 * here, a 2-3 ms stop (scavenge.parallel, mostly copying the ~1 MB that survives: node:http and
 * postgres.js alone promote as much). The request that happens to be running pays for it, so about
 * one request in a hundred is slow for no reason of its own: that is the p99. When the last running
 * request has finished and the young generation is at least `fill` full, this collects it at once,
 * before the next request arrives. Under continuous load the gateway is never idle and V8 collects
 * as it always does; at low and moderate load the scavenges move into the gaps between requests.
 * Measured with the lookups suite (bench/README.md): p99 of one-at-a-time lookups at a million
 * customers 3.3-4.5 ms without, 2.7-3.6 ms with it, lower in 16 of 16 pairs; the core suite (16 in
 * flight) and the soak suite at concurrency 2 the same either way.
 *
 * The heap is the process's: where one process serves several servers (tests, the variants suite),
 * a collector collects only when none of them has a request running.
 */
export interface IdleCollector {
  /** Call when the number of requests in flight has dropped to zero. */
  idle(): void;
  /** The server has stopped: its requests no longer count, and it no longer collects. */
  close(): void;
}

/** `busy` of every open collector of this process. */
const open = new Set<() => boolean>();

export interface IdleCollectorOptions {
  /** Collect when the young generation is at least this full (0-1). */
  fill: number;
  /** True while a request is running: checked again just before collecting. */
  busy: () => boolean;
  /** After each collection this collector runs (the server counts them in /metrics). */
  onCollect?: () => void;
}

/**
 * IDLE_GC_FILL's default: three quarters full, just before V8 itself would collect (it schedules a
 * scavenge task at 80%, --minor-gc-task-trigger, which then runs between two steps of whatever
 * request is in flight), so the collector adds few collections of its own. At 0.5 the lookups' p99
 * was higher than at 0.75 in 10 of 12 pairs (lookups suite, one loop).
 */
export const DEFAULT_IDLE_FILL = 0.75;

/**
 * The `gc` function: the one `node --expose-gc` installs, else one exposed now in a fresh context
 * (the flag only adds `gc` to contexts created after it is set; Jest's --logHeapUsage does the same).
 * Null when V8 refuses.
 */
function exposeGc(): Gc | null {
  const existing = (globalThis as { gc?: Gc }).gc;
  if (typeof existing === 'function') return existing;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as Gc) : null;
  } catch {
    return null;
  }
}

/** Share of the young generation in use (one V8 call, about a microsecond). */
export function youngGenerationFill(): number {
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  if (!young) return 0;
  const capacity = young.space_used_size + young.space_available_size;
  return capacity > 0 ? young.space_used_size / capacity : 0;
}

export function createIdleCollector(opts: IdleCollectorOptions): IdleCollector | null {
  if (!(opts.fill > 0 && opts.fill <= 1)) throw new RangeError(`fill must be in (0, 1], got ${opts.fill}`);
  const gc = exposeGc();
  if (!gc) return null;
  let scheduled = false;
  let closed = false;
  const busy = opts.busy;
  open.add(busy);
  return {
    close() {
      closed = true;
      open.delete(busy);
    },
    idle() {
      if (scheduled || closed) return;
      scheduled = true;
      // After the response's own callbacks: its bytes are queued on the socket, its objects unreachable.
      setImmediate(() => {
        scheduled = false;
        if (closed || youngGenerationFill() < opts.fill) return;
        for (const b of open) if (b()) return;
        gc({ type: 'minor' });
        opts.onCollect?.();
      });
    },
  };
}
