import { cpus, loadavg, release, tmpdir, type as osType } from 'node:os';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { resolveAuthSettings, signToken } from '../../src/auth/token';
import { loadConfig } from '../../src/config';
import { toGlobalId } from '../../src/lib/global-id';
import { jsonDiff } from '../lib/compare';
import { formatProfile, summarizeProfile, type ProfileSummary } from '../lib/cpuprofile';
import { mergeCpuUsage, startCpuMeter, type CpuUsage } from '../lib/cpu';
import { datasetSize, edgeCaseCustomers, maintenanceUrl, sampleCustomers, type Sample } from '../lib/database';
import { gatewayEnv, PROFILE_PREFIX } from '../lib/env';
import { runLoad, summarizeLoad, type LoadSample, type LoadStats, type LoadTarget } from '../lib/load';
import { fmt, formatTable, roundNumbers } from '../lib/report';
import { startServer, type ServerProcess } from '../lib/servers';
import { BenchFailure, type Suite, type SuiteContext, type SuiteOutcome } from './types';

/**
 * Core suite: the gateway against a hand-written-SQL baseline on the three everyday reads of a
 * customer 360, at fixed concurrency, with a correctness check before any load.
 *   a  one customer's full 360 by id
 *   b  a page of 50 customers with the 360 fields
 *   c  customer by email (the same fields, filter + first: 1)
 */

const SAMPLE_SIZE = 1000;
/** Random customers compared field by field per scenario before the load, plus the edge cases. */
const CHECK_SIZE = 20;
const EDGE_CASES_PER_KIND = 1;
/** Cores used by unrelated processes during a measurement above which the table flags it. */
const NOISY_OTHER_CORES = 0.15;

/** The 360 selection, exactly as in the issue. */
const FIELDS = `
  id displayName email phone lifecycleStage externalIds { source externalId }
  tags { tag { key name category } value source assignedAt }
  metrics { orderCount totalSpent { amount currency } averageOrderValue { amount currency } lastPurchaseAt }
  transactions(first: 10) { totalCount edges { node { id occurredAt type amount { amount currency } items { sku quantity } } } }
  interactions(first: 10) { edges { node { id channel type occurredAt sentiment } } }
  timeline(first: 5) { edges { node { __typename } } }`;

export const QUERIES = {
  a: `query($id: ID!) { customer(id: $id) { ${FIELDS} } }`,
  b: `query($first: Int) { customers(first: $first) { totalCount edges { cursor node { ${FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
  c: `query($email: String!) { customers(filter: { email: $email }, first: 1) { totalCount edges { cursor node { ${FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
} as const;

type ScenarioId = keyof typeof QUERIES;

interface Scenario {
  id: ScenarioId;
  title: string;
  /** Variables of each request under load (rotated). */
  loadVariables: Record<string, unknown>[];
  /** Variables compared gateway vs baseline before the load, with a label for messages. */
  checkVariables: { label: string; variables: Record<string, unknown> }[];
}

interface TargetResult extends LoadStats {
  /** Average cores used per consumer during the measurement (null off Linux). */
  cpu: CpuUsage | null;
}

interface ScenarioProfile { scenario: ScenarioId; files: string[]; summary: ProfileSummary }

interface ScenarioResult {
  id: ScenarioId;
  title: string;
  gateway: TargetResult;
  baseline: TargetResult;
  /** The stack floor (bench/floor-server.ts), when measured. */
  floor?: TargetResult;
  /** gateway req/s / baseline req/s. */
  ratio: number;
  /** floor req/s / baseline req/s: the ceiling of `ratio` for a gateway on Apollo + graphql-js + postgres.js. */
  floorRatio?: number;
  compared: number;
}

type ServerName = 'gateway' | 'baseline' | 'floor';

export const coreSuite: Suite = {
  name: 'core',
  description: 'gateway vs hand-written SQL baseline: (a) 360 by id, (b) page of 50 with 360 fields, (c) by email',
  resultFile: 'latest.json',
  scenarios: ['a', 'b', 'c'],
  run,
};

async function run(ctx: SuiteContext): Promise<SuiteOutcome> {
  const { options, log, pg } = ctx;
  const startedAt = new Date();
  const loadAtStart = loadavg();

  log(`sampling ${SAMPLE_SIZE} customers that have transactions`);
  const sample = await sampleCustomers(pg, SAMPLE_SIZE);
  if (sample.length === 0) throw new BenchFailure('the bench database has no customers with transactions: seed it first');
  const edge = await edgeCaseCustomers(pg, EDGE_CASES_PER_KIND);
  const dataset = await datasetSize(pg);
  const [{ version: pgVersion } = { version: 'unknown' }] = await pg<{ version: string }[]>`SELECT version()`;

  const database = maintenanceUrl(ctx.databaseUrl).database;
  const scenarios = buildScenarios(sample, edge).filter((s) => options.scenarios.length === 0 || options.scenarios.includes(s.id));

  const env = gatewayEnv({ databaseUrl: ctx.databaseUrl, poolMax: options.pool, port: 0 });
  const config = loadConfig(env);
  const token = await signToken(resolveAuthSettings(config), { sub: 'bench', role: 'ADMIN' }, '12h');

  const profileDir = path.join(tmpdir(), `c360-bench-profile-${process.pid}`);
  if (options.profile) mkdirSync(profileDir, { recursive: true });
  log(`starting gateway${options.shield ? '' : ' (shield OFF)'}${options.privacy ? '' : ' (privacy OFF)'}, baseline${options.floor ? ' and stack floor' : ''} (pool ${options.pool} each)`);
  const servers: ServerProcess[] = [];
  const profiles: ScenarioProfile[] = [];
  const results: ScenarioResult[] = [];
  try {
    // Registered as soon as each is up, so that a failure of the other still stops it.
    const started = (p: Promise<ServerProcess>) => p.then((server) => { servers.push(server); return server; });
    const [gateway, baseline, floor] = await Promise.all([
      started(startServer({
        name: 'gateway', script: 'gateway-server.ts', env, log,
        args: [
          '--pool', String(options.pool),
          ...(options.shield ? [] : ['--no-shield']),
          ...(options.privacy ? [] : ['--no-privacy']),
          ...(options.profile ? ['--profile-dir', profileDir] : []),
        ],
      })),
      started(startServer({ name: 'baseline', script: 'baseline-server.ts', env, log, args: ['--pool', String(options.pool)] })),
      options.floor ? started(startServer({ name: 'floor', script: 'floor-server.ts', env, log, args: ['--pool', String(options.pool)] })) : undefined,
    ]);

    const gatewayTarget = (s: Scenario, variables: Record<string, unknown>[]): LoadTarget => ({
      origin: gateway.url,
      path: '/graphql',
      headers: { authorization: `Bearer ${token}` },
      bodies: variables.map((v) => JSON.stringify({ query: QUERIES[s.id], variables: v })),
    });
    const baselineTarget = (s: Scenario, variables: Record<string, unknown>[]): LoadTarget => ({
      origin: baseline.url,
      path: `/${s.id}`,
      headers: {},
      bodies: variables.map((v) => JSON.stringify(v)),
    });
    // The floor takes the gateway's GraphQL requests, without a token.
    const floorTarget = (s: Scenario, variables: Record<string, unknown>[]): LoadTarget | undefined => (floor ? {
      origin: floor.url,
      path: '/graphql',
      headers: {},
      bodies: variables.map((v) => JSON.stringify({ query: QUERIES[s.id], variables: v })),
    } : undefined);

    // 1. Same answers, or no numbers at all.
    const checked = new Map<ScenarioId, { gateway: number[]; baseline: number[]; compared: number }>();
    for (const s of scenarios) {
      const c = await verify(s, gatewayTarget(s, []), baselineTarget(s, []), floorTarget(s, []));
      checked.set(s.id, c);
      log(`(${s.id}) gateway${floor ? ', floor' : ''} and baseline agree on ${c.compared} requests (statements/request: gateway ${summarize(c.gateway)}, baseline ${summarize(c.baseline)}${floor ? `, floor ${summarize(c.floor)}` : ''})`);
    }

    // 2. Load. Per scenario: every server warmed up, then measured in alternating rounds
    //    (gateway, baseline, floor, gateway, ...) so that a background job on the machine disturbs all alike.
    const roundSeconds = options.duration / options.rounds;
    for (const s of scenarios) {
      const floorLoad = floorTarget(s, s.loadVariables);
      const targets: { name: ServerName; target: LoadTarget; server: ServerProcess }[] = [
        { name: 'gateway', target: gatewayTarget(s, s.loadVariables), server: gateway },
        { name: 'baseline', target: baselineTarget(s, s.loadVariables), server: baseline },
        ...(floor && floorLoad ? [{ name: 'floor' as const, target: floorLoad, server: floor }] : []),
      ];
      if (options.warmup > 0) {
        for (const t of targets) {
          log(`(${s.id}) ${t.name}: warm-up ${options.warmup}s`);
          await runLoad(t.target, { connections: options.concurrency, durationSeconds: options.warmup, title: `${s.id}-${t.name}-warmup` });
        }
      }
      const samples: Record<ServerName, LoadSample[]> = { gateway: [], baseline: [], floor: [] };
      const cpuParts: Record<ServerName, { usage: CpuUsage | null; seconds: number }[]> = { gateway: [], baseline: [], floor: [] };
      const profileFiles: string[] = [];
      for (let round = 1; round <= options.rounds; round++) {
        for (const t of targets) {
          const profiling = options.profile && t.name === 'gateway';
          if (profiling) gateway.signal('SIGUSR2');
          const meter = startCpuMeter(t.server.pid, database);
          const sample = await runLoad(t.target, { connections: options.concurrency, durationSeconds: roundSeconds, title: `${s.id}-${t.name}-${round}` });
          const usage = meter.stop();
          if (profiling) {
            gateway.signal('SIGUSR2');
            profileFiles.push(await gateway.nextLine(PROFILE_PREFIX));
          }
          const one = summarizeLoad([sample]);
          const failures = one.errors + one.timeouts + one.non2xx + one.errorResponses;
          if (failures > 0) {
            throw new BenchFailure(`(${s.id}) ${t.name}: ${one.errors} connection errors, ${one.timeouts} timeouts, ${one.non2xx} non-2xx, ${one.errorResponses} responses with GraphQL errors under load`);
          }
          samples[t.name].push(sample);
          cpuParts[t.name].push({ usage, seconds: sample.durationSeconds });
          log(`(${s.id}) ${t.name} round ${round}/${options.rounds} (${fmt.num(roundSeconds, 1)}s): ${fmt.int(one.reqPerSec)} req/s, p50 ${fmt.ms(one.latencyMs.p50)} ms, p99 ${fmt.ms(one.latencyMs.p99)} ms${usage ? `; cores: server ${fmt.num(usage.server, 2)}, postgres ${fmt.num(usage.postgres, 2)}, load generator ${fmt.num(usage.loadGenerator, 2)}, kernel irq ${fmt.num(usage.kernelInterrupts, 2)}, other processes + steal ${fmt.num(usage.other, 2)}${usage.other > NOISY_OTHER_CORES ? ' (!)' : ''}` : ''}`);
        }
      }
      const gw: TargetResult = { ...summarizeLoad(samples.gateway), cpu: mergeCpuUsage(cpuParts.gateway) };
      const bl: TargetResult = { ...summarizeLoad(samples.baseline), cpu: mergeCpuUsage(cpuParts.baseline) };
      const fl: TargetResult | undefined = samples.floor.length ? { ...summarizeLoad(samples.floor), cpu: mergeCpuUsage(cpuParts.floor) } : undefined;
      for (const [name, t] of [['gateway', gw], ['baseline', bl], ...(fl ? [['floor', fl] as const] : [])] as const) {
        if (t.cpu && t.cpu.other > NOISY_OTHER_CORES) log(`(${s.id}) ${name}: WARNING other processes and steal used ${fmt.num(t.cpu.other, 2)} cores on average during its measurement: numbers are disturbed`);
      }
      if (profileFiles.length) {
        profiles.push({ scenario: s.id, files: profileFiles, summary: summarizeProfile(profileFiles) });
        log(`(${s.id}) gateway CPU profiles of the measured load: ${profileFiles.join(', ')}`);
      }
      results.push({
        id: s.id, title: s.title, gateway: gw, baseline: bl, ratio: gw.reqPerSec / bl.reqPerSec, compared: checked.get(s.id)?.compared ?? 0,
        ...(fl ? { floor: fl, floorRatio: fl.reqPerSec / bl.reqPerSec } : {}),
      });
      log(`(${s.id}) gateway ${fmt.int(gw.reqPerSec)} req/s, baseline ${fmt.int(bl.reqPerSec)} req/s: ratio ${fmt.ratio(gw.reqPerSec / bl.reqPerSec)}${fl ? `; stack floor ${fmt.int(fl.reqPerSec)} req/s: ${fmt.ratio(fl.reqPerSec / bl.reqPerSec)} of the baseline` : ''}`);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }

  const finishedAt = new Date();
  const targets = evaluateTargets(results, options.concurrency);
  const result = roundNumbers({
    suite: 'core',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    wallSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    options: {
      customers: options.customers, durationSeconds: options.duration, warmupSeconds: options.warmup,
      rounds: options.rounds, concurrency: options.concurrency, poolMax: options.pool, shield: options.shield, privacy: options.privacy, profile: options.profile,
    },
    environment: {
      node: process.version,
      os: `${osType()} ${release()}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      loadAverageAtStart: loadAtStart,
      postgres: pgVersion,
      topology: 'PostgreSQL, gateway/baseline/floor server (one Node process each, loaded one at a time) and the autocannon load generator (orchestrator process) share the same machine',
      gatewayMode: `NODE_ENV=production, JWT auth (ADMIN), shield ${options.shield ? 'on' : 'off'}, privacy ${options.privacy ? 'on' : 'off'}, rate limit lifted to its maximum, SQL_COUNT_HEADER=true, LOG_LEVEL=warn`,
      baseline: 'node:http + postgres.js, one prepared statement per request building the JSON in PostgreSQL (bench/baseline-server.ts)',
      floor: 'Apollo Server 5 + graphql-js over the product SDL, root fields running the baseline statement and returning its parsed JSON to default resolvers; no auth, middleware, loaders or plugins (bench/floor-server.ts)',
    },
    dataset: { ...dataset, sampleSize: sample.length },
    scenarios: results.map((r) => ({
      id: r.id,
      title: r.title,
      comparedRequests: r.compared,
      ratio: r.ratio,
      floorRatio: r.floorRatio ?? null,
      gateway: targetJson(r.gateway),
      baseline: targetJson(r.baseline),
      floor: r.floor ? targetJson(r.floor) : null,
    })),
    targets,
    ...(profiles.length ? {
      gatewayProfiles: profiles.map((p) => ({ scenario: p.scenario, files: p.files, ...p.summary, areas: p.summary.areas.slice(0, 25) })),
    } : {}),
  });

  return { result, table: renderTable(results, targets, options.concurrency, profiles) };
}

// ---------------------------------------------------------------------------------------------

function buildScenarios(sample: Sample[], edge: { kind: string; sample: Sample }[]): Scenario[] {
  const withEmail = sample.filter((s): s is Sample & { email: string } => s.email !== null);
  const check = sample.slice(0, CHECK_SIZE);
  const checkEmail = withEmail.slice(0, CHECK_SIZE);
  return [
    {
      id: 'a',
      title: 'customer(id) full 360',
      loadVariables: sample.map((s) => ({ id: toGlobalId('Customer', s.id) })),
      checkVariables: [
        ...check.map((s) => ({ label: `customer ${s.id}`, variables: { id: toGlobalId('Customer', s.id) } })),
        ...edge.map((e) => ({ label: `customer ${e.sample.id} (${e.kind})`, variables: { id: toGlobalId('Customer', e.sample.id) } })),
      ],
    },
    {
      id: 'b',
      title: 'customers(first: 50) with 360 fields',
      loadVariables: [{ first: 50 }],
      // One page, 50 customers compared field by field; plus small pages (hasNextPage, cursors).
      checkVariables: [{ label: 'first: 50', variables: { first: 50 } }, { label: 'first: 1', variables: { first: 1 } }, { label: 'first: 0', variables: { first: 0 } }],
    },
    {
      id: 'c',
      title: 'customers(filter: {email}, first: 1) 360',
      loadVariables: withEmail.map((s) => ({ email: s.email })),
      checkVariables: [
        ...checkEmail.map((s) => ({ label: `email of ${s.id}`, variables: { email: s.email } })),
        ...edge.filter((e) => e.sample.email !== null).map((e) => ({ label: `email of ${e.sample.id} (${e.kind})`, variables: { email: e.sample.email } })),
        { label: 'unknown email', variables: { email: 'nobody-at-all@bench.invalid' } },
        { label: 'email in other case, with spaces', variables: { email: ` ${(withEmail[0]?.email ?? 'x@y.z').toUpperCase()} ` } },
      ],
    },
  ];
}

/** Compares gateway (and floor) `data` with the baseline's for every check request; throws BenchFailure on any difference. */
async function verify(s: Scenario, gateway: LoadTarget, baseline: LoadTarget, floor: LoadTarget | undefined): Promise<{ gateway: number[]; baseline: number[]; floor: number[]; compared: number }> {
  const stmts = { gateway: [] as number[], baseline: [] as number[], floor: [] as number[] };
  const problems: string[] = [];
  for (const { label, variables } of s.checkVariables) {
    const [g, b] = await Promise.all([
      post(gateway, JSON.stringify({ query: QUERIES[s.id], variables })),
      post(baseline, JSON.stringify(variables)),
    ]);
    stmts.gateway.push(g.statements);
    stmts.baseline.push(b.statements);
    if (g.status !== 200 || g.body.errors) {
      problems.push(`${label}: gateway answered ${g.status} ${JSON.stringify(g.body.errors ?? g.body).slice(0, 300)}`);
      continue;
    }
    if (b.status !== 200 || b.body.errors) {
      problems.push(`${label}: baseline answered ${b.status} ${JSON.stringify(b.body.errors ?? b.body).slice(0, 300)}`);
      continue;
    }
    const diff = jsonDiff(g.body.data, b.body.data);
    if (diff.length) problems.push(`${label}: gateway vs baseline differ:\n    ${diff.join('\n    ')}`);
    if (floor) {
      const f = await post(floor, JSON.stringify({ query: QUERIES[s.id], variables }));
      stmts.floor.push(f.statements);
      const floorDiff = f.status === 200 && !f.body.errors ? jsonDiff(f.body.data, b.body.data) : [`answered ${f.status} ${JSON.stringify(f.body.errors ?? f.body).slice(0, 300)}`];
      if (floorDiff.length) problems.push(`${label}: floor vs baseline differ:\n    ${floorDiff.join('\n    ')}`);
    }
  }
  if (problems.length) {
    throw new BenchFailure(`(${s.id}) ${s.title}: results differ from the baseline's in ${problems.length} of ${s.checkVariables.length} requests\n  ${problems.slice(0, 5).join('\n  ')}`);
  }
  return { ...stmts, compared: s.checkVariables.length };
}

async function post(t: LoadTarget, body: string): Promise<{ status: number; statements: number; body: { data?: unknown; errors?: unknown } }> {
  const res = await fetch(`${t.origin}${t.path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...t.headers }, body });
  const text = await res.text();
  let parsed: { data?: unknown; errors?: unknown };
  try {
    parsed = JSON.parse(text) as { data?: unknown; errors?: unknown };
  } catch {
    parsed = { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
  }
  return { status: res.status, statements: Number(res.headers.get('x-sql-statements') ?? NaN), body: parsed };
}

function summarize(values: number[]): string {
  if (values.length === 0) return 'n/a';
  const min = Math.min(...values);
  const max = Math.max(...values);
  return min === max ? String(min) : `${min}-${max}`;
}

interface TargetCheck { name: string; goal: string; actual: number | null; pass: boolean | null; note?: string }

function evaluateTargets(results: ScenarioResult[], concurrency: number): TargetCheck[] {
  const by = (id: ScenarioId) => results.find((r) => r.id === id);
  const out: TargetCheck[] = [];
  for (const id of ['a', 'c'] as const) {
    const r = by(id);
    out.push({ name: `ratio ${id}`, goal: '>= 0.6', actual: r ? r.ratio : null, pass: r ? r.ratio >= 0.6 : null });
  }
  const a = by('a');
  out.push({
    name: 'gateway p99 a',
    goal: '< 25 ms at concurrency 16',
    actual: a ? a.gateway.latencyMs.p99 : null,
    pass: a && concurrency === 16 ? a.gateway.latencyMs.p99 < 25 : null,
    ...(concurrency !== 16 ? { note: `measured at concurrency ${concurrency}: not comparable to the target` } : {}),
  });
  return out;
}

function targetJson(t: TargetResult) {
  return {
    reqPerSec: t.reqPerSec,
    latencyMs: t.latencyMs,
    statementsPerRequest: t.statementsPerRequest?.mean ?? null,
    statementsPerRequestRange: t.statementsPerRequest ? [t.statementsPerRequest.min, t.statementsPerRequest.max] : null,
    requests: t.requests,
    durationSeconds: t.durationSeconds,
    bytesPerResponse: t.bytesPerResponse,
    errors: t.errors + t.timeouts,
    non2xx: t.non2xx,
    errorResponses: t.errorResponses,
    cpu: t.cpu ? {
      coresBusy: {
        server: t.cpu.server, postgres: t.cpu.postgres, loadGenerator: t.cpu.loadGenerator, kernelInterrupts: t.cpu.kernelInterrupts,
        otherProcesses: t.cpu.otherProcesses, steal: t.cpu.steal, machine: t.cpu.machineBusy, of: t.cpu.cores,
      },
      msPerRequest: { server: cpuMsPerRequest(t, t.cpu.server), postgres: cpuMsPerRequest(t, t.cpu.postgres) },
    } : null,
  };
}

/** CPU milliseconds per completed request of a consumer that kept `cores` busy on average. */
function cpuMsPerRequest(t: TargetResult, cores: number): number {
  return t.requests ? (cores * t.durationSeconds * 1000) / t.requests : 0;
}

function renderTable(results: ScenarioResult[], targets: TargetCheck[], concurrency: number, profiles: ScenarioProfile[]): string {
  const rows: string[][] = [['scenario', 'server', 'req/s', 'p50 ms', 'p99 ms', 'stmts/req', 'KB/resp', 'CPU ms/req srv', 'CPU ms/req pg', 'other cores', 'ratio to bl']];
  for (const r of results) {
    for (const name of ['gateway', 'baseline', 'floor'] as const) {
      const t = r[name];
      if (!t) continue;
      rows.push([
        name === 'gateway' ? `(${r.id}) ${r.title}` : '',
        name,
        fmt.int(t.reqPerSec),
        fmt.ms(t.latencyMs.p50),
        fmt.ms(t.latencyMs.p99),
        t.statementsPerRequest ? fmt.num(t.statementsPerRequest.mean, t.statementsPerRequest.min === t.statementsPerRequest.max ? 0 : 2) : 'n/a',
        fmt.num(t.bytesPerResponse / 1024, 1),
        t.cpu ? fmt.num(cpuMsPerRequest(t, t.cpu.server), 2) : 'n/a',
        t.cpu ? fmt.num(cpuMsPerRequest(t, t.cpu.postgres), 2) : 'n/a',
        t.cpu ? `${fmt.num(t.cpu.other, 2)}${t.cpu.other > NOISY_OTHER_CORES ? ' (!)' : ''}` : 'n/a',
        name === 'gateway' ? fmt.ratio(r.ratio) : name === 'floor' && r.floorRatio !== undefined ? fmt.ratio(r.floorRatio) : '',
      ]);
    }
  }
  const lines = [
    `core suite, concurrency ${concurrency}${results[0] ? `, ${fmt.num(results[0].gateway.durationSeconds, 0)} s per measurement` : ''}`,
    formatTable(rows),
    '',
    ...targets.map((t) => `target ${t.name} ${t.goal}: ${t.actual === null ? 'not measured' : t.name.startsWith('ratio') ? fmt.ratio(t.actual) : `${fmt.ms(t.actual)} ms`} ${t.pass === null ? '(n/a)' : t.pass ? 'PASS' : 'MISS'}${t.note ? ` (${t.note})` : ''}`),
  ];
  const noisy = results.flatMap((r) => (['gateway', 'baseline', 'floor'] as const).filter((n) => (r[n]?.cpu?.other ?? 0) > NOISY_OTHER_CORES).map((n) => `(${r.id}) ${n}`));
  if (noisy.length) {
    lines.push('', `(!) other processes (and hypervisor steal) used more than ${NOISY_OTHER_CORES} cores during ${noisy.join(', ')}: those numbers are disturbed; rerun on a quiet machine.`);
  }
  if (results.some((r) => r.floor)) {
    lines.push('floor: Apollo Server 5 + graphql-js with the product schema running the baseline\'s statement, nothing else (bench/floor-server.ts):',
      '  its ratio is the most any gateway on this stack could reach here.');
  }
  lines.push('CPU ms/req: CPU time of the server process (srv) and of the bench database\'s PostgreSQL processes (pg) per completed request.',
    'other cores: average cores used by unrelated processes plus hypervisor steal during the measurement.');
  for (const p of profiles) lines.push('', `(${p.scenario}) gateway CPU profile of the measured load (${p.files.join(', ')}):`, formatProfile(p.summary, 15));
  return lines.join('\n');
}
