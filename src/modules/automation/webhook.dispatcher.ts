import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Config } from '../../config';
import type { Db } from '../../db/client';
import type { Logger } from '../../logger';
import * as repo from './automation.repository';
import { eventView } from './event-view';
import { signatureHeader } from './signature';
import { checkedLookup, refusedUrl, WebhookAddressRefused, type WebhookAddressPolicy } from './webhook-address';

export type DispatcherConfig = Pick<Config, 'webhooks'>;

/**
 * Exponential backoff with jitter: base * 2^(attempt-1), capped at max; the wait is drawn from the
 * upper half of that so a fleet of retries does not arrive in lockstep.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Delivers outbox events to webhooks. Stateless apart from its timer: every instance may run one;
 * rows are claimed with FOR UPDATE SKIP LOCKED and a lease, so each attempt is made by one dispatcher
 * and a crashed one's rows are retried elsewhere. Delivery is at least once; the Idempotency-Key
 * (the delivery id, the same for every retry and replay) lets receivers drop repeats.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly db: Db, private readonly config: DispatcherConfig, private readonly logger: Logger) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.drain().then(() => undefined, (e: unknown) => { this.logger.error({ err: e }, 'webhook dispatch failed'); })
        .finally(() => { this.running = undefined; this.schedule(this.config.webhooks.dispatchIntervalMs); });
    }, ms);
    this.timer.unref();
  }

  /** Runs batches until nothing is due. Returns the number of attempts made. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runOnce();
      total += n;
      if (n < this.config.webhooks.batchSize || this.stopped) return total;
    }
  }

  /** Claims one batch of due deliveries and attempts each (concurrently). */
  async runOnce(): Promise<number> {
    const w = this.config.webhooks;
    // The lease outlives the request timeout, so a slow receiver is never sent the same row twice at once.
    const claimed = await repo.claimDueDeliveries(this.db, w.batchSize, w.timeoutMs + 30_000);
    await Promise.all(claimed.map((d) => this.attempt(d)));
    return claimed.length;
  }

  private async attempt(d: repo.ClaimedDelivery): Promise<void> {
    const w = this.config.webhooks;
    const body = JSON.stringify(eventView(d.event));
    const timestamp = Math.floor(Date.now() / 1000);
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      statusCode = await post(d.url, {
        'content-type': 'application/json',
        'user-agent': 'customer360-gateway-webhooks',
        'idempotency-key': d.id,
        'x-c360-event-id': d.event.id,
        'x-c360-event-type': d.event.type,
        'x-c360-delivery-attempt': String(d.attempts),
        'x-c360-signature': signatureHeader(d.secret, timestamp, body),
      }, body, w.timeoutMs, w);
      if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
    } catch (e) {
      error = e instanceof Error ? (e.name === 'TimeoutError' ? `timed out after ${w.timeoutMs} ms` : `${e.message}${causeOf(e)}`) : String(e);
    }
    const durationMs = performance.now() - started;
    const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
    const outcome = { statusCode, error: error?.slice(0, 500) ?? null, durationMs };
    if (ok) {
      await repo.recordAttempt(this.db, d.id, outcome, { ok: true });
      return;
    }
    const giveUp = d.attempts >= w.maxAttempts;
    await repo.recordAttempt(this.db, d.id, outcome, { ok: false, giveUp, retryInMs: backoffMs(d.attempts, w.retryBaseMs, w.retryMaxMs) });
    this.logger[giveUp ? 'warn' : 'debug']({ deliveryId: d.id, attempts: d.attempts, statusCode, error }, giveUp ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry');
  }

  /** Stops the timer and waits for the batch in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

/**
 * One POST, redirects not followed, the whole exchange bounded by `timeoutMs`. The URL and every address
 * its host resolves to are checked by the address policy, and the socket connects to the checked address
 * (checkedLookup): a name rebound to an internal address after the webhook was created is refused here.
 */
function post(rawUrl: string, headers: Record<string, string>, body: string, timeoutMs: number, policy: WebhookAddressPolicy): Promise<number> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try { url = new URL(rawUrl); } catch { reject(new Error('the webhook url is not a valid URL')); return; }
    const refused = refusedUrl(url, policy);
    if (refused) { reject(new WebhookAddressRefused(refused)); return; }
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, {
      method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: checkedLookup(policy) as LookupFunction,
    }, (res) => {
      // The body is not used; reading it frees the socket for keep-alive.
      res.resume();
      res.once('end', () => { clearTimeout(timer); resolve(res.statusCode ?? 0); });
      res.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { name: 'TimeoutError' })), timeoutMs);
    req.once('error', (e) => { clearTimeout(timer); reject(e); });
    req.end(body);
  });
}

const causeOf = (e: Error): string => {
  const c = (e as { cause?: unknown }).cause;
  return c instanceof Error ? ` (${c.message})` : '';
};
