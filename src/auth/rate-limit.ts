import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config';

/**
 * Request budget per caller (rate-limiter-flexible). With REDIS_URL the counters live in Redis (shared by
 * every gateway instance, atomic); without it, in this process's memory (one instance only).
 *
 * A caller has a rate (requests per minute) and a burst (requests it may make at once). The budget is
 * `burst` requests per window of `burst / rate` minutes, the window starting at the caller's first
 * request: a partner key with `--rate 120` and a burst of 60 makes 60 quick requests, then waits for the
 * rest of its 30-second window (Retry-After), and averages 120 per minute. A window shorter than one
 * second is rounded up to one second's worth of the rate.
 */
export interface RateLimiter {
  /**
   * One request. `limits` override the configured rate and burst (API keys carry their own; a key with a
   * rate but no burst gets min(rate, RATE_LIMIT_BURST)).
   */
  take(key: string, limits?: { perMinute?: number | null; burst?: number | null }): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
  close(): Promise<void>;
}

/** The window of a (rate, burst) pair: `points` requests per `duration` whole seconds. */
export function windowOf(perMinute: number, burst: number): { points: number; duration: number } {
  const duration = Math.max(1, Math.round((burst * 60) / perMinute));
  return { points: Math.max(burst, Math.round((perMinute * duration) / 60)), duration };
}

/** The (rate, burst) a caller gets: its own, else the configured ones; a key's rate caps its default burst. */
export function limitsFor(config: Pick<Config, 'rateLimit'>, limits?: { perMinute?: number | null; burst?: number | null }): { perMinute: number; burst: number } {
  const perMinute = limits?.perMinute ?? config.rateLimit.perMinute;
  const burst = limits?.burst ?? (limits?.perMinute ? Math.max(1, Math.min(limits.perMinute, config.rateLimit.burst)) : config.rateLimit.burst);
  return { perMinute, burst };
}

/** How long a call waits for the first connection to Redis right after start-up. */
const STARTUP_WAIT_MS = 2_000;
/** Distinct (rate, burst) windows kept; keys with their own rates each add one. */
const MAX_LIMITERS = 1_000;

/**
 * `onRedisUnavailable` hears about calls that Redis could not answer (they were limited by the in-memory
 * insurance limiter instead); the server logs it.
 */
export function createRateLimiter(config: Pick<Config, 'rateLimit' | 'redisUrl'>, onRedisUnavailable?: (err: unknown) => void): RateLimiter {
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false }) : null;
  redis?.on('error', () => { /* reported per call through the insurance limiter; keep the process alive */ });
  const started = Date.now();
  let everReady = false;
  redis?.once('ready', () => { everReady = true; });
  const firstConnection = () => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, STARTUP_WAIT_MS - (Date.now() - started)));
    redis?.once('ready', () => { clearTimeout(timer); resolve(); });
  });

  // One limiter per window shape: rate-limiter-flexible fixes points and duration per instance.
  const limiters = new Map<string, RateLimiterAbstract>();
  const limiterFor = (w: { points: number; duration: number }): RateLimiterAbstract => {
    const id = `${w.points}:${w.duration}`;
    let l = limiters.get(id);
    if (l) return l;
    // Counters of different shapes never share a key: a key whose rate changes starts a new window.
    const keyPrefix = `c360:rl:${id}`;
    l = redis
      ? new RateLimiterRedis({ ...w, keyPrefix, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: new ReportingMemoryLimiter({ ...w, keyPrefix }, onRedisUnavailable) })
      : new RateLimiterMemory({ ...w, keyPrefix });
    if (limiters.size >= MAX_LIMITERS) limiters.delete(limiters.keys().next().value as string);
    limiters.set(id, l);
    return l;
  };

  return {
    async take(key, limits) {
      if (redis && !everReady && Date.now() - started < STARTUP_WAIT_MS) await firstConnection();
      const { perMinute, burst } = limitsFor(config, limits);
      try {
        await limiterFor(windowOf(perMinute, burst)).consume(key);
        return { allowed: true, retryAfterSeconds: 0 };
      } catch (res) {
        if (res instanceof RateLimiterRes) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
        throw res;
      }
    },
    async close() {
      redis?.disconnect();
    },
  };
}

/** The in-memory insurance limiter of the Redis one, telling the server each time Redis could not answer. */
class ReportingMemoryLimiter extends RateLimiterMemory {
  constructor(opts: ConstructorParameters<typeof RateLimiterMemory>[0], private readonly onUse?: (err: unknown) => void) {
    super(opts);
  }
  override consume(key: string | number, points?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    this.onUse?.(new Error('Redis did not answer the rate limiter'));
    return super.consume(key, points, options);
  }
}
