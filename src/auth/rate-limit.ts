import { Redis } from 'ioredis';
import type { Config } from '../config';

/**
 * Token bucket per caller. With REDIS_URL the bucket lives in Redis (shared by every gateway
 * instance, atomic Lua, Redis clock); without it, in this process's memory (one instance only).
 */
export interface RateLimiter {
  /** One request's token; `perMinute` overrides the configured rate (API keys carry their own). */
  take(key: string, perMinute?: number | null): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
  close(): Promise<void>;
}

/**
 * `onRedisUnavailable` hears about calls that Redis could not answer (they were limited in memory
 * instead); the server logs it.
 */
export function createRateLimiter(config: Pick<Config, 'rateLimit' | 'redisUrl'>, onRedisUnavailable?: (err: unknown) => void): RateLimiter {
  const rate = config.rateLimit.perMinute / 60;
  const burst = config.rateLimit.burst;
  return config.redisUrl ? redisLimiter(config.redisUrl, rate, burst, onRedisUnavailable) : memoryLimiter(rate, burst);
}

/** A per-key rate keeps the bucket size proportional: one second's worth, at least 1. */
function rateFor(perMinute: number | null | undefined, rate: number, burst: number): { rate: number; burst: number } {
  return perMinute ? { rate: perMinute / 60, burst: Math.max(1, Math.min(burst, Math.ceil(perMinute / 60))) } : { rate, burst };
}

function memoryLimiter(defaultRate: number, defaultBurst: number): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    async take(key, perMinute) {
      const { rate, burst } = rateFor(perMinute, defaultRate, defaultBurst);
      const now = Date.now() / 1000;
      const b = buckets.get(key) ?? { tokens: burst, at: now };
      b.tokens = Math.min(burst, b.tokens + (now - b.at) * rate);
      b.at = now;
      // Map iteration order is insertion order: re-inserting keeps the most recent at the end.
      buckets.delete(key);
      buckets.set(key, b);
      if (buckets.size > 100_000) buckets.delete(buckets.keys().next().value as string);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { allowed: true, retryAfterSeconds: 0 };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / rate)) };
    },
    async close() {},
  };
}

const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, retry}`;

/** How long a call waits for the first connection to Redis right after start-up. */
const STARTUP_WAIT_MS = 2_000;

/**
 * Redis-backed buckets. When Redis cannot answer (not connected yet, down, timing out) the call is
 * limited by this instance's in-memory buckets instead: callers keep a limit (per instance), and a
 * Redis outage is not an outage of the gateway (it was a 500 for every request). Right after start-up
 * a call waits up to STARTUP_WAIT_MS for the first connection, so the first requests do not all
 * land in memory.
 */
function redisLimiter(url: string, defaultRate: number, defaultBurst: number, onUnavailable?: (err: unknown) => void): RateLimiter {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  redis.on('error', () => { /* reported per call below; keep the process alive */ });
  const fallback = memoryLimiter(defaultRate, defaultBurst);
  const started = Date.now();
  let everReady = false;
  redis.once('ready', () => { everReady = true; });
  const firstConnection = () => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, STARTUP_WAIT_MS - (Date.now() - started)));
    redis.once('ready', () => { clearTimeout(timer); resolve(); });
  });
  return {
    async take(key, perMinute) {
      if (!everReady && Date.now() - started < STARTUP_WAIT_MS) await firstConnection();
      const { rate, burst } = rateFor(perMinute, defaultRate, defaultBurst);
      try {
        if (redis.status !== 'ready') throw new Error(`Redis is ${redis.status}`);
        const [allowed, retry] = (await redis.eval(TAKE, 1, `c360:rl:${key}`, String(rate), String(burst))) as [number, number];
        return { allowed: allowed === 1, retryAfterSeconds: Math.max(allowed === 1 ? 0 : 1, Number(retry)) };
      } catch (err) {
        onUnavailable?.(err);
        return fallback.take(key, perMinute);
      }
    },
    async close() {
      redis.disconnect();
    },
  };
}
