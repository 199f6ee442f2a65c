import type { Config } from '../../config';
import type { Db } from '../../db/client';
import type { Logger } from '../../logger';
import { refreshDueSegments } from '../segments';
import { WebhookDispatcher } from './webhook.dispatcher';

export interface BackgroundJobs { stop(): Promise<void> }

/**
 * The in-process jobs of a gateway instance: the segment refresh schedule and the webhook
 * dispatcher. Safe to run on every instance: segments are refreshed under a SKIP LOCKED row lock
 * (and only when due), deliveries are claimed with SKIP LOCKED.
 */
export function startBackgroundJobs(db: Db, config: Config, logger: Logger): BackgroundJobs {
  const dispatcher = new WebhookDispatcher(db, config, logger);
  if (config.webhooks.dispatchIntervalMs > 0) dispatcher.start();

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const interval = config.segmentRefreshIntervalMs;
  const tick = () => {
    running = refreshDueSegments(db, config, logger, interval)
      .then((r) => { if (r.refreshed) logger.info(r, 'segments refreshed'); })
      .catch((e: unknown) => { logger.error({ err: e }, 'segment refresh job failed'); })
      .finally(() => {
        running = undefined;
        // Check often enough that a segment is at most ~1.1 intervals old, without busy polling.
        if (!stopped) { timer = setTimeout(tick, Math.max(1000, Math.min(60_000, interval / 10))); timer.unref(); }
      });
  };
  if (interval > 0) { timer = setTimeout(tick, 1000); timer.unref(); }

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.all([dispatcher.stop(), running]);
    },
  };
}
