import { loadavg } from 'node:os';
import { resolveAuthSettings, signToken } from '../../src/auth/token';
import { loadConfig } from '../../src/config';
import { datasetSize } from '../lib/database';
import { gatewayEnv } from '../lib/env';
import { latencyClient } from '../lib/http';
import { latencyDistribution, type LatencyDistribution } from '../lib/load';
import { fmt, formatTable, roundNumbers } from '../lib/report';
import { startServer, type ServerProcess } from '../lib/servers';
import { lists, LOOKUPS_BY, pickLookupCustomers, type LookupCustomer, type LookupKind } from './scale';
import { BenchFailure, type Suite, type SuiteContext, type SuiteOutcome } from './types';

/**
 * Lookups suite: the scale suite's two exact lookups (email, phone) against several servers at once,
 * in one loop, so that a change to the gateway's settings or Node's flags can be told apart from this
 * VM's drift (the p99 of the same build moves by ~1 ms between runs, more than most such changes).
 * Every server is its own process; each customer of the sample is looked up on every server in turn,
 * the order rotated by one per customer, so that none is always first or last. The figure is each
 * server's latency distribution, and its p99 beside that of `gateway`.
 *
 *   gateway      the gateway as configured by default (IDLE_GC on)
 *   no-idle-gc   the gateway with IDLE_GC=false
 *   http-floor   the minimal node:http endpoint of bench/baseline-server.ts (one statement, no GraphQL)
 *
 * BENCH_LOOKUP_VARIANTS adds gateways: a JSON array of { "name", "env"?: {..}, "nodeArgs"?: [..] },
 * e.g. '[{"name":"semi32","nodeArgs":["--max-semi-space-size=32"]}]'. --scenarios picks servers by name.
 */

const LOOKUPS = 2000;
/** As in the scale suite: the steady state comes after a few thousand requests (see its WARMUP). */
const WARMUP = 2000;

interface Variant { name: string; script: 'gateway-server.ts' | 'baseline-server.ts'; env?: Record<string, string>; nodeArgs?: string[] }

const BUILT_IN: Variant[] = [
  { name: 'gateway', script: 'gateway-server.ts' },
  { name: 'no-idle-gc', script: 'gateway-server.ts', env: { IDLE_GC: 'false' } },
  { name: 'http-floor', script: 'baseline-server.ts' },
];

/** BENCH_LOOKUP_VARIANTS, checked: a wrong entry stops the run before anything starts. */
export function extraVariants(raw: string | undefined): Variant[] {
  if (!raw?.trim()) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new BenchFailure('BENCH_LOOKUP_VARIANTS is not JSON');
  }
  if (!Array.isArray(parsed)) throw new BenchFailure('BENCH_LOOKUP_VARIANTS must be a JSON array');
  return parsed.map((v: unknown, i) => {
    const o = v as { name?: unknown; env?: unknown; nodeArgs?: unknown };
    if (typeof o?.name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,31}$/.test(o.name)) throw new BenchFailure(`BENCH_LOOKUP_VARIANTS[${i}]: name must be lower-case letters, digits and dashes`);
    if (o.env !== undefined && (typeof o.env !== 'object' || o.env === null || Object.values(o.env).some((x) => typeof x !== 'string'))) throw new BenchFailure(`BENCH_LOOKUP_VARIANTS[${i}]: env must map names to strings`);
    if (o.nodeArgs !== undefined && (!Array.isArray(o.nodeArgs) || o.nodeArgs.some((x) => typeof x !== 'string' || !x.startsWith('--')))) throw new BenchFailure(`BENCH_LOOKUP_VARIANTS[${i}]: nodeArgs must be node flags (--...)`);
    return { name: o.name, script: 'gateway-server.ts', env: o.env as Record<string, string> | undefined, nodeArgs: o.nodeArgs as string[] | undefined };
  });
}

export const lookupsSuite: Suite = {
  name: 'lookups',
  description: 'exact email and phone lookups on several servers (gateway settings, node flags, the bare HTTP endpoint) in one rotating loop',
  resultFile: 'lookups.json',
  scenarios: BUILT_IN.map((v) => v.name),
  run,
};

type Dist = LatencyDistribution & { over5ms: number };
const dist = (samples: number[]): Dist => ({ ...latencyDistribution(samples), over5ms: samples.filter((x) => x > 5).length });

async function run(ctx: SuiteContext): Promise<SuiteOutcome> {
  const { options, log, pg } = ctx;
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const extra = extraVariants(process.env.BENCH_LOOKUP_VARIANTS);
  const all = [...BUILT_IN, ...extra];
  const names = new Set<string>();
  for (const v of all) {
    if (names.has(v.name)) throw new BenchFailure(`two servers are called "${v.name}"`);
    names.add(v.name);
  }
  // --scenarios picks built-in servers; added variants always run.
  const variants = all.filter((v) => options.scenarios.length === 0 || options.scenarios.includes(v.name) || extra.includes(v));
  if (variants.length < 2) throw new BenchFailure('compare at least two servers (see --scenarios and BENCH_LOOKUP_VARIANTS)');
  const dataset = await datasetSize(pg);
  const picked = await pickLookupCustomers(pg, LOOKUPS + WARMUP);
  const sample = picked.slice(0, LOOKUPS);
  const warm = picked.slice(LOOKUPS);

  const env = { ...gatewayEnv({ databaseUrl: ctx.databaseUrl, poolMax: options.pool, port: 0 }), BENCH_DATABASE_URL: ctx.databaseUrl };
  const token = await signToken(resolveAuthSettings(loadConfig(env)), { sub: 'bench', role: 'ADMIN' }, '12h');
  const servers: ServerProcess[] = [];
  const clients = variants.map(() => latencyClient({ authorization: `Bearer ${token}` }));
  const measured = variants.map(() => ({ email: [] as number[], phone: [] as number[] }));
  try {
    for (const v of variants) {
      log(`starting ${v.name}${v.env ? ` ${JSON.stringify(v.env)}` : ''}${v.nodeArgs ? ` node ${v.nodeArgs.join(' ')}` : ''}`);
      servers.push(await startServer({ name: v.name, script: v.script, env: { ...env, ...v.env }, nodeArgs: v.nodeArgs, log, args: ['--pool', String(options.pool)] }));
    }
    /** One lookup on server i, checked (the customer is among the answers), in ms. */
    const lookup = async (i: number, kind: LookupKind, c: LookupCustomer): Promise<number> => {
      const v = variants[i]!;
      const by = LOOKUPS_BY[kind];
      const floor = v.script === 'baseline-server.ts';
      const payload = JSON.stringify(floor ? by.routeBody(c) : { query: by.query, variables: by.variables(c) });
      const t0 = performance.now();
      const res = await clients[i]!.post(`${servers[i]!.url}/${floor ? by.route : 'graphql'}`, payload);
      const body = JSON.parse(res.text) as { data?: { customers: { edges: { node: { id: string } }[] } }; errors?: unknown };
      const ms = performance.now() - t0;
      if (!lists(body.data, c.id)) {
        throw new BenchFailure(`(${v.name}, ${kind}) did not find ${c.id}: ${res.status} ${res.text.slice(0, 200)}`);
      }
      return ms;
    };
    log(`warming up: ${WARMUP} lookups of each kind per server, on other customers`);
    for (const c of warm) for (let i = 0; i < variants.length; i++) for (const kind of ['email', 'phone'] as const) await lookup(i, kind, c);
    for (const kind of ['email', 'phone'] as const) {
      log(`(${kind}) ${LOOKUPS} lookups on each of ${variants.length} servers, rotating order`);
      for (let n = 0; n < sample.length; n++) {
        for (let k = 0; k < variants.length; k++) {
          const i = (n + k) % variants.length;
          measured[i]![kind].push(await lookup(i, kind, sample[n]!));
        }
      }
    }
  } finally {
    clients.forEach((c) => c.close());
    for (const s of servers) await s.stop();
  }

  const rows = [['lookup', 'server', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'p99.5 ms', 'max ms', '> 5 ms', 'p99 / gateway p99']];
  const out: { kind: LookupKind; server: string; dist: Dist; p99ToGateway: number | null }[] = [];
  for (const kind of ['email', 'phone'] as const) {
    const reference = variants.findIndex((v) => v.name === 'gateway');
    const refP99 = reference >= 0 ? dist(measured[reference]![kind]).p99 : null;
    variants.forEach((v, i) => {
      const d = dist(measured[i]![kind]);
      const rel = refP99 ? d.p99 / refP99 : null;
      out.push({ kind, server: v.name, dist: d, p99ToGateway: rel });
      rows.push([kind, v.name, String(d.n), fmt.ms(d.p50), fmt.ms(d.p95), fmt.ms(d.p99), fmt.ms(d.p995), fmt.ms(d.max), String(d.over5ms), rel === null ? '-' : fmt.ratio(rel)]);
    });
  }
  const result = roundNumbers({
    suite: 'lookups',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    loadAverageAtStart: loadAtStart,
    dataset,
    method: `${LOOKUPS} lookups of each kind per server after ${WARMUP} of each on other customers; one request at a time, servers in rotating order`,
    servers: variants.map((v) => ({ name: v.name, script: v.script, env: v.env ?? {}, nodeArgs: v.nodeArgs ?? [] })),
    results: out,
  });
  const table = [`lookups suite on ${dataset.customers.toLocaleString('en-US')} customers`, formatTable(rows)].join('\n');
  return { result, table };
}
