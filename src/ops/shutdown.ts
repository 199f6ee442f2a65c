import type { Logger } from '../logger';

/**
 * Shutdown hooks, run in phase order after the HTTP server has drained: `flush` (audit writer,
 * outbox/webhook dispatchers: write what is buffered while the pool is still open), then `close`
 * (the database pool, Redis). Hooks of one phase run concurrently; a failing hook is logged and
 * does not stop the others.
 */
export type ShutdownPhase = 'flush' | 'close';

export interface ShutdownHook { name: string; phase: ShutdownPhase; run: () => Promise<void> | void }

export class ShutdownRegistry {
  private readonly hooks: ShutdownHook[] = [];
  private ran: Promise<void> | undefined;

  /** Joins the shutdown sequence. Returns a function that leaves it again. */
  add(name: string, run: () => Promise<void> | void, phase: ShutdownPhase = 'flush'): () => void {
    const hook = { name, phase, run };
    this.hooks.push(hook);
    return () => {
      const i = this.hooks.indexOf(hook);
      if (i >= 0) this.hooks.splice(i, 1);
    };
  }

  get names(): string[] { return this.hooks.map((h) => `${h.phase}:${h.name}`); }

  /** Runs every hook once (later calls wait for the first run). */
  run(logger: Logger): Promise<void> {
    this.ran ??= (async () => {
      for (const phase of ['flush', 'close'] as const) {
        await Promise.all(this.hooks.filter((h) => h.phase === phase).map(async (h) => {
          try {
            await h.run();
          } catch (err) {
            logger.error({ err, hook: h.name }, 'shutdown hook failed');
          }
        }));
      }
    })();
    return this.ran;
  }
}
