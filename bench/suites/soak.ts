/**
 * Soak: mixed read/write load on the real gateway for a long time (default 600 s; `--duration`),
 * in windows of 30 s. Reports throughput, p99 and errors per window and overall, and the gateway's
 * memory (RSS and V8 heap, read from its own /metrics) at the start and the end of the measured
 * load: growth above 10% between them is flagged as a suspected leak.
 *
 *   npm run bench -- --suite soak --customers 5000 --duration 120
 */
import { resolveAuthSettings, signToken } from '../../src/auth/token';
import { loadConfig } from '../../src/config';
import { toGlobalId } from '../../src/lib/global-id';
import { sampleCustomers } from '../lib/database';
import { gatewayEnv, MEMORY_PREFIX } from '../lib/env';
import { runLoad, summarizeLoad, type LoadSample, type LoadStats } from '../lib/load';
import { startServer, type ServerProcess } from '../lib/servers';
import { BenchFailure, type Suite } from './types';

const WINDOW_SECONDS = 30;
const DEFAULT_SOAK_SECONDS = 600;
const READ_ONE = 'query Soak1($id: ID!) { customer(id: $id) { id displayName email tags { value tag { id } } metrics { orderCount totalSpent { amount currency } } transactions(first: 5) { edges { node { id } } } } }';
const READ_PAGE = 'query SoakPage { customers(first: 20) { edges { node { id displayName lifecycleStage } } totalCount } }';
const WRITE = 'mutation SoakWrite($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { created customer { id updatedAt } userErrors { message } } }';

interface Memory { rssBytes: number; heapUsedBytes: number }
interface WindowResult { window: number; reqPerSec: number; p99Ms: number; errors: number; memory: Memory }

/** The gateway's own view of its memory, from the Prometheus default metrics it serves. */
/**
 * Memory of the gateway after two full garbage collections (its live set; between windows, with no
 * load running): a leak shows as a live set that keeps growing, whatever the GC sawtooth does.
 */
async function memoryAfterGc(gateway: ServerProcess): Promise<Memory> {
  const line = gateway.nextLine(MEMORY_PREFIX, 30_000);
  gateway.signal('SIGHUP');
  const m = JSON.parse(await line) as Memory;
  if (typeof m.rssBytes !== 'number' || typeof m.heapUsedBytes !== 'number') throw new BenchFailure(`bad memory line from the gateway: ${JSON.stringify(m)}`);
  return m;
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const pct = (a: number, b: number) => ((b - a) / a) * 100;

export const soakSuite: Suite = {
  name: 'soak',
  description: 'mixed read/write load (4 reads : 1 upsert) for --duration (default 600 s): throughput, p99, errors, memory growth',
  resultFile: 'soak.json',
  scenarios: ['mixed'],
  async run({ options, databaseUrl, pg, log }) {
    // --duration defaults to 15 s for every suite; a soak that short means nothing, so without an
    // explicit --duration it runs 600 s.
    const explicit = process.argv.some((a) => a === '--duration' || a === '-d' || a.startsWith('--duration='));
    const seconds = explicit ? options.duration : DEFAULT_SOAK_SECONDS;
    const windows = Math.max(1, Math.round(seconds / WINDOW_SECONDS));
    const windowSeconds = Math.max(1, Math.round(seconds / windows));

    const sample = await sampleCustomers(pg, 500);
    if (!sample.length) throw new BenchFailure('the bench database has no customers with transactions: seed it first');
    const env = gatewayEnv({ databaseUrl, poolMax: options.pool, port: 0 });
    const token = await signToken(resolveAuthSettings(loadConfig(env)), { sub: 'soak', role: 'ADMIN' }, '12h');
    const gateway = await startServer({
      name: 'gateway', script: 'gateway-server.ts', env, log, nodeArgs: ['--expose-gc'], args: ['--pool', String(options.pool), '--memory-probe'],
    });
    try {
      const bodies: string[] = [];
      for (let i = 0; i < 400; i++) {
        const c = sample[i % sample.length]!;
        bodies.push(JSON.stringify({ query: READ_ONE, variables: { id: toGlobalId('Customer', c.id) } }));
        bodies.push(JSON.stringify({ query: i % 2 ? READ_PAGE : READ_ONE, variables: i % 2 ? {} : { id: toGlobalId('Customer', sample[(i * 7) % sample.length]!.id) } }));
        bodies.push(JSON.stringify({ query: READ_ONE, variables: { id: toGlobalId('Customer', sample[(i * 13) % sample.length]!.id) } }));
        bodies.push(JSON.stringify({ query: READ_PAGE }));
        // Idempotent by (source, externalId): 200 soak customers, created once and then updated over and over.
        bodies.push(JSON.stringify({ query: WRITE, variables: { input: { source: 'soak', externalId: `soak-${i % 200}`, firstName: 'Soak', lastName: `Run ${i}` } } }));
      }
      const target = { origin: gateway.url, path: '/graphql', headers: { authorization: `Bearer ${token}` }, bodies };
      log(`warm-up ${options.warmup} s`);
      if (options.warmup) await runLoad(target, { connections: options.concurrency, durationSeconds: options.warmup, title: 'soak-warmup' });
      const start = await memoryAfterGc(gateway);
      log(`soak: ${windows} windows of ${windowSeconds} s at concurrency ${options.concurrency}; memory at start (after GC): RSS ${mb(start.rssBytes)}, heap ${mb(start.heapUsedBytes)}`);
      const samples: LoadSample[] = [];
      const perWindow: WindowResult[] = [];
      for (let w = 1; w <= windows; w++) {
        const s = await runLoad(target, { connections: options.concurrency, durationSeconds: windowSeconds, title: `soak-${w}` });
        samples.push(s);
        const stats = summarizeLoad([s]);
        const memory = await memoryAfterGc(gateway);
        perWindow.push({ window: w, reqPerSec: stats.reqPerSec, p99Ms: stats.latencyMs.p99, errors: stats.errors + stats.timeouts + stats.non2xx + stats.errorResponses, memory });
        log(`window ${w}/${windows}: ${stats.reqPerSec.toFixed(0)} req/s, p99 ${stats.latencyMs.p99.toFixed(1)} ms, errors ${perWindow.at(-1)!.errors}, RSS ${mb(memory.rssBytes)}, heap ${mb(memory.heapUsedBytes)}`);
      }
      const end = perWindow.at(-1)!.memory;
      const total: LoadStats = summarizeLoad(samples);
      const errors = total.errors + total.timeouts + total.non2xx + total.errorResponses;
      const growth = { rssPct: pct(start.rssBytes, end.rssBytes), heapPct: pct(start.heapUsedBytes, end.heapUsedBytes) };
      const withinTarget = growth.rssPct < 10 && growth.heapPct < 10;
      const result = {
        suite: 'soak', startedAt: new Date().toISOString(), seconds: windows * windowSeconds, concurrency: options.concurrency, pool: options.pool,
        mix: '4 reads (customer 360, customers page) : 1 upsertCustomer', total: { ...total, errorsTotal: errors }, memory: { start, end, growth, withinTarget }, windows: perWindow,
      };
      const table = [
        `soak: ${result.seconds} s, concurrency ${options.concurrency}, pool ${options.pool} (${result.mix})`,
        `throughput ${total.reqPerSec.toFixed(1)} req/s (${total.requests} requests), p50 ${total.latencyMs.p50.toFixed(1)} ms, p99 ${total.latencyMs.p99.toFixed(1)} ms, max ${total.latencyMs.max.toFixed(1)} ms`,
        `errors ${errors} (connection ${total.errors}, timeouts ${total.timeouts}, non-2xx ${total.non2xx}, GraphQL errors ${total.errorResponses})`,
        `memory after GC: RSS ${mb(start.rssBytes)} -> ${mb(end.rssBytes)} (${growth.rssPct.toFixed(1)}%), heap ${mb(start.heapUsedBytes)} -> ${mb(end.heapUsedBytes)} (${growth.heapPct.toFixed(1)}%): ${withinTarget ? 'within' : 'ABOVE'} the 10% target`,
        '',
        'window  req/s    p99 ms  errors  RSS        heap',
        ...perWindow.map((w) => `${String(w.window).padStart(6)}  ${w.reqPerSec.toFixed(0).padStart(6)}  ${w.p99Ms.toFixed(1).padStart(7)}  ${String(w.errors).padStart(6)}  ${mb(w.memory.rssBytes).padStart(9)}  ${mb(w.memory.heapUsedBytes).padStart(9)}`),
      ].join('\n');
      return { result, table };
    } finally {
      await gateway.stop();
    }
  },
};
