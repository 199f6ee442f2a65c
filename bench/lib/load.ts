import autocannon from 'autocannon';

/** One endpoint under load: every request POSTs the next body of `bodies` (round robin over all connections). */
export interface LoadTarget {
  /** Origin, e.g. http://127.0.0.1:4100 */
  origin: string;
  path: string;
  headers: Record<string, string>;
  bodies: readonly string[];
}

export interface LoadOptions {
  connections: number;
  durationSeconds: number;
  title: string;
}

export interface LatencyStats {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadStats {
  /** Completed responses in the measured window. */
  requests: number;
  durationSeconds: number;
  reqPerSec: number;
  /** Milliseconds, exact (from every response time, not autocannon's 1 ms-bucket histogram). */
  latencyMs: LatencyStats;
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  non2xx: number;
  /** 2xx responses that carry GraphQL `errors` (a fast error is not a fast answer). */
  errorResponses: number;
  /** From the `x-sql-statements` header of every response; null when the server sent none. */
  statementsPerRequest: { mean: number; min: number; max: number } | null;
  bytesPerResponse: number;
}

/** The raw outcome of one autocannon run; several (rounds) are merged by `summarizeLoad`. */
export interface LoadSample {
  /** Every response time, ms. */
  latencies: number[];
  durationSeconds: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  errorResponses: number;
  stmtSum: number;
  stmtCount: number;
  stmtMin: number;
  stmtMax: number;
  bytes: number;
}

/** Runs autocannon in this process (the servers are separate processes). */
export function runLoad(target: LoadTarget, opts: LoadOptions): Promise<LoadSample> {
  if (target.bodies.length === 0) throw new Error(`${opts.title}: no request bodies`);
  let next = 0;
  const sample: LoadSample = {
    latencies: [], durationSeconds: 0, errors: 0, timeouts: 0, non2xx: 0, errorResponses: 0,
    stmtSum: 0, stmtCount: 0, stmtMin: Number.POSITIVE_INFINITY, stmtMax: 0, bytes: 0,
  };

  const request: autocannon.Request = {
    method: 'POST',
    path: target.path,
    headers: { 'content-type': 'application/json', ...target.headers },
    setupRequest: (req) => {
      req.body = target.bodies[next++ % target.bodies.length];
      return req;
    },
    onResponse: (status, body, _ctx, headers) => {
      if (status >= 200 && status < 300 && body.includes('"errors":')) sample.errorResponses++;
      const raw = header(headers, 'x-sql-statements');
      if (raw !== undefined) {
        const n = Number(raw);
        sample.stmtSum += n;
        sample.stmtCount++;
        if (n < sample.stmtMin) sample.stmtMin = n;
        if (n > sample.stmtMax) sample.stmtMax = n;
      }
    },
  };

  return new Promise<LoadSample>((resolve, reject) => {
    const instance = autocannon({
      url: `${target.origin}${target.path}`,
      title: opts.title,
      connections: opts.connections,
      duration: opts.durationSeconds,
      timeout: 30,
      requests: [request],
    }, (err, result) => {
      if (err) return reject(err);
      sample.durationSeconds = result.duration;
      sample.errors = result.errors;
      sample.timeouts = result.timeouts;
      sample.non2xx = result.non2xx;
      resolve(sample);
    });
    instance.on('response', (_client: unknown, _status: number, resBytes: number, responseTime: number) => {
      sample.latencies.push(responseTime);
      sample.bytes += resBytes;
    });
  });
}

/** Statistics over one or more runs against the same target (throughput over their summed duration). */
export function summarizeLoad(samples: readonly LoadSample[]): LoadStats {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const sum = (f: (s: LoadSample) => number) => samples.reduce((acc, s) => acc + f(s), 0);
  const requests = latencies.length;
  const durationSeconds = sum((s) => s.durationSeconds);
  const stmtCount = sum((s) => s.stmtCount);
  return {
    requests,
    durationSeconds,
    reqPerSec: durationSeconds ? requests / durationSeconds : 0,
    latencyMs: {
      mean: requests ? latencies.reduce((acc, v) => acc + v, 0) / requests : 0,
      p50: percentile(latencies, 0.5),
      p90: percentile(latencies, 0.9),
      p99: percentile(latencies, 0.99),
      max: latencies.at(-1) ?? 0,
    },
    errors: sum((s) => s.errors),
    timeouts: sum((s) => s.timeouts),
    non2xx: sum((s) => s.non2xx),
    errorResponses: sum((s) => s.errorResponses),
    statementsPerRequest: stmtCount
      ? { mean: sum((s) => s.stmtSum) / stmtCount, min: Math.min(...samples.map((s) => s.stmtMin)), max: Math.max(...samples.map((s) => s.stmtMax)) }
      : null,
    bytesPerResponse: requests ? sum((s) => s.bytes) / requests : 0,
  };
}

/** Latencies of one-at-a-time requests (ms), summarized. */
export interface LatencyDistribution { n: number; p50: number; p95: number; p99: number; p995: number; max: number }

export function latencyDistribution(samples: readonly number[]): LatencyDistribution {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 0.5), p95: percentile(s, 0.95), p99: percentile(s, 0.99), p995: percentile(s, 0.995), max: s.at(-1) ?? 0 };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function header(headers: Record<string, string | string[]>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}
