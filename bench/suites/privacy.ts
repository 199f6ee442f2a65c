import { cpus, loadavg } from 'node:os';
import { resolveAuthSettings, signToken } from '../../src/auth/token';
import { loadConfig } from '../../src/config';
import { toGlobalId } from '../../src/lib/global-id';
import type { Role } from '../../src/__generated__/resolvers-types';
import { datasetSize, sampleCustomers } from '../lib/database';
import { gatewayEnv } from '../lib/env';
import { runLoad, summarizeLoad, type LoadSample, type LoadStats, type LoadTarget } from '../lib/load';
import { fmt, formatTable, roundNumbers } from '../lib/report';
import { startServer, type ServerProcess } from '../lib/servers';
import { BenchFailure, type Suite, type SuiteContext, type SuiteOutcome } from './types';

/**
 * Privacy suite: what authorization and field privacy cost, measured in one run. Two gateways of the
 * same build serve the same database: one as deployed (shield + privacy middleware: masking, hashing,
 * PII audit), one with both switched off (`--no-shield --no-privacy`). Each scenario warms both up,
 * then measures them in alternating rounds (on, off, on, off, ...) so background noise hits both
 * alike, and reports throughput on / throughput off. Target: >= 0.85.
 *
 * Both gateways decrypt the encrypted columns (that is storage, not a switch), so the ratio isolates
 * the authorization and privacy layer. The viewer is a MARKETER: the role whose answers are the most
 * rewritten (masked email, phone, birth date and address; nulled summaries and agents).
 *   p  one customer's 360 by id with every @pii field
 *   q  a page of 20 customers with the same fields
 */
const SAMPLE_SIZE = 1000;
const ROLE: Role = 'MARKETER';

const FIELDS = `
  id displayName firstName lastName email phone birthDate address { city country postalCode } lifecycleStage
  externalIds { source externalId }
  tags { tag { key } value actor }
  metrics { orderCount totalSpent { amount currency } }
  transactions(first: 10) { totalCount edges { node { id occurredAt amount { amount currency } } } }
  interactions(first: 10) { edges { node { id channel subject summary agent sentiment } } }`;

export const PRIVACY_QUERIES = {
  p: `query($id: ID!) { customer(id: $id) { ${FIELDS} } }`,
  q: `query($first: Int) { customers(first: $first) { edges { node { ${FIELDS} } } } }`,
} as const;
type ScenarioId = keyof typeof PRIVACY_QUERIES;

interface ScenarioResult { id: ScenarioId; title: string; on: LoadStats; off: LoadStats; ratio: number; roundRatios: number[] }

export const privacySuite: Suite = {
  name: 'privacy',
  description: 'gateway with shield + field privacy vs the same build with both off, alternating rounds in one run: (p) 360 by id, (q) page of 20',
  resultFile: 'privacy.json',
  scenarios: ['p', 'q'],
  run,
};

async function run(ctx: SuiteContext): Promise<SuiteOutcome> {
  const { options, log, pg } = ctx;
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const sample = await sampleCustomers(pg, SAMPLE_SIZE);
  if (sample.length === 0) throw new BenchFailure('the bench database has no customers with transactions: seed it first');
  const dataset = await datasetSize(pg);
  const env = gatewayEnv({ databaseUrl: ctx.databaseUrl, poolMax: options.pool, port: 0 });
  const token = await signToken(resolveAuthSettings(loadConfig(env)), { sub: 'bench-privacy', role: ROLE }, '12h');

  const scenarios = ([
    { id: 'p', title: `customer(id) 360 with PII as ${ROLE}`, variables: sample.map((s) => ({ id: toGlobalId('Customer', s.id) })) },
    { id: 'q', title: `customers(first: 20) 360 with PII as ${ROLE}`, variables: [{ first: 20 }] },
  ] as const).filter((s) => options.scenarios.length === 0 || options.scenarios.includes(s.id));

  log(`starting two gateways (pool ${options.pool} each): privacy ON (as deployed) and OFF (--no-shield --no-privacy)`);
  const servers: ServerProcess[] = [];
  const results: ScenarioResult[] = [];
  try {
    const started = (p: Promise<ServerProcess>) => p.then((s) => { servers.push(s); return s; });
    const [on, off] = await Promise.all([
      started(startServer({ name: 'privacy-on', script: 'gateway-server.ts', env, log, args: ['--pool', String(options.pool)] })),
      started(startServer({ name: 'privacy-off', script: 'gateway-server.ts', env, log, args: ['--pool', String(options.pool), '--no-shield', '--no-privacy'] })),
    ]);
    const target = (server: ServerProcess, id: ScenarioId, variables: readonly Record<string, unknown>[]): LoadTarget => ({
      origin: server.url, path: '/graphql', headers: { authorization: `Bearer ${token}` },
      bodies: variables.map((v) => JSON.stringify({ query: PRIVACY_QUERIES[id], variables: v })),
    });

    for (const s of scenarios) {
      // The two must really differ: masked vs clear. Otherwise the comparison measures nothing.
      const probe = s.variables[0]!;
      const [a, b] = await Promise.all([post(target(on, s.id, [probe])), post(target(off, s.id, [probe]))]);
      for (const [name, r] of [['on', a], ['off', b]] as const) {
        if (r.errors) throw new BenchFailure(`(${s.id}) privacy ${name} answered errors: ${JSON.stringify(r.errors).slice(0, 300)}`);
      }
      const text = { on: JSON.stringify(a.data), off: JSON.stringify(b.data) };
      if (text.on === text.off) throw new BenchFailure(`(${s.id}) privacy on and off gave the same answer: the comparison would measure nothing`);
      if (!/\*\*\*@/.test(text.on)) throw new BenchFailure(`(${s.id}) privacy on did not mask emails for ${ROLE}`);
      log(`(${s.id}) answers differ as expected (masked with privacy on, ${fmt.num(text.on.length / 1024, 1)} KB vs ${fmt.num(text.off.length / 1024, 1)} KB)`);

      const targets = [
        { name: 'on' as const, t: target(on, s.id, s.variables) },
        { name: 'off' as const, t: target(off, s.id, s.variables) },
      ];
      if (options.warmup > 0) {
        for (const t of targets) {
          log(`(${s.id}) privacy ${t.name}: warm-up ${options.warmup}s`);
          await runLoad(t.t, { connections: options.concurrency, durationSeconds: options.warmup, title: `${s.id}-${t.name}-warmup` });
        }
      }
      const samples = { on: [] as LoadSample[], off: [] as LoadSample[] };
      const roundRatios: number[] = [];
      const roundSeconds = options.duration / options.rounds;
      for (let round = 1; round <= options.rounds; round++) {
        // Alternate which goes first, so neither always follows the other's leftover work.
        const order = round % 2 === 1 ? targets : [...targets].reverse();
        const perRound: Record<'on' | 'off', number> = { on: 0, off: 0 };
        for (const t of order) {
          const sampleRun = await runLoad(t.t, { connections: options.concurrency, durationSeconds: roundSeconds, title: `${s.id}-${t.name}-${round}` });
          const one = summarizeLoad([sampleRun]);
          const failures = one.errors + one.timeouts + one.non2xx + one.errorResponses;
          if (failures > 0) throw new BenchFailure(`(${s.id}) privacy ${t.name}: ${failures} failed requests under load (${one.non2xx} non-2xx, ${one.errorResponses} with GraphQL errors)`);
          samples[t.name].push(sampleRun);
          perRound[t.name] = one.reqPerSec;
          log(`(${s.id}) privacy ${t.name} round ${round}/${options.rounds}: ${fmt.int(one.reqPerSec)} req/s, p50 ${fmt.ms(one.latencyMs.p50)} ms, p99 ${fmt.ms(one.latencyMs.p99)} ms`);
        }
        roundRatios.push(perRound.on / perRound.off);
      }
      const onStats = summarizeLoad(samples.on);
      const offStats = summarizeLoad(samples.off);
      results.push({ id: s.id, title: s.title, on: onStats, off: offStats, ratio: onStats.reqPerSec / offStats.reqPerSec, roundRatios });
      log(`(${s.id}) privacy on ${fmt.int(onStats.reqPerSec)} req/s, off ${fmt.int(offStats.reqPerSec)} req/s: ratio ${fmt.ratio(onStats.reqPerSec / offStats.reqPerSec)}`);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }

  const finishedAt = new Date();
  const result = roundNumbers({
    suite: 'privacy',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    options: { customers: options.customers, durationSeconds: options.duration, warmupSeconds: options.warmup, rounds: options.rounds, concurrency: options.concurrency, poolMax: options.pool },
    environment: { node: process.version, cpus: cpus().length, loadAverageAtStart: loadAtStart, viewer: ROLE, gatewayMode: 'NODE_ENV=production, JWT auth; on = shield + privacy, off = --no-shield --no-privacy' },
    dataset,
    scenarios: results.map((r) => ({
      id: r.id, title: r.title, ratio: r.ratio, roundRatios: r.roundRatios,
      on: { reqPerSec: r.on.reqPerSec, latencyMs: r.on.latencyMs, requests: r.on.requests, bytesPerResponse: r.on.bytesPerResponse },
      off: { reqPerSec: r.off.reqPerSec, latencyMs: r.off.latencyMs, requests: r.off.requests, bytesPerResponse: r.off.bytesPerResponse },
    })),
    targets: results.map((r) => ({ name: `privacy ratio ${r.id}`, goal: '>= 0.85', actual: r.ratio, pass: r.ratio >= 0.85 })),
  });

  const rows: string[][] = [['scenario', 'privacy', 'req/s', 'p50 ms', 'p99 ms', 'KB/resp', 'ratio on/off', 'per-round ratios']];
  for (const r of results) {
    rows.push([`(${r.id}) ${r.title}`, 'on', fmt.int(r.on.reqPerSec), fmt.ms(r.on.latencyMs.p50), fmt.ms(r.on.latencyMs.p99), fmt.num(r.on.bytesPerResponse / 1024, 1), fmt.ratio(r.ratio), r.roundRatios.map((x) => fmt.ratio(x)).join(' ')]);
    rows.push(['', 'off', fmt.int(r.off.reqPerSec), fmt.ms(r.off.latencyMs.p50), fmt.ms(r.off.latencyMs.p99), fmt.num(r.off.bytesPerResponse / 1024, 1), '', '']);
  }
  const table = [
    `privacy suite, concurrency ${options.concurrency}, viewer ${ROLE}, ${options.rounds} alternating rounds of ${fmt.num(options.duration / options.rounds, 1)} s per side`,
    formatTable(rows),
    '',
    ...results.map((r) => `target privacy ratio ${r.id} >= 0.85: ${fmt.ratio(r.ratio)} ${r.ratio >= 0.85 ? 'PASS' : 'MISS'}`),
  ].join('\n');
  return { result, table };
}

async function post(t: LoadTarget): Promise<{ data?: unknown; errors?: unknown }> {
  const res = await fetch(`${t.origin}${t.path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...t.headers }, body: t.bodies[0] });
  return (await res.json()) as { data?: unknown; errors?: unknown };
}
