import { loadavg } from 'node:os';
import { resolveAuthSettings, signToken } from '../../src/auth/token';
import { loadConfig } from '../../src/config';
import { toGlobalId } from '../../src/lib/global-id';
import { datasetSize } from '../lib/database';
import { gatewayEnv } from '../lib/env';
import { latencyClient } from '../lib/http';
import { latencyDistribution, type LatencyDistribution } from '../lib/load';
import { fmt, formatTable, roundNumbers } from '../lib/report';
import { startServer, type ServerProcess } from '../lib/servers';
import { BenchFailure, type Suite, type SuiteContext, type SuiteOutcome } from './types';

/**
 * Scale suite (search/filter issue): lookups, fuzzy search, a behavioural filter and grouped stats
 * on a large base (meant for `--customers 1000000`). Every scenario runs one request at a time
 * (latency, not throughput), through the real gateway over HTTP, and the same question as one
 * hand-written statement straight on PostgreSQL (the baseline: what the database alone needs).
 * Each gateway answer is checked (the looked-up customer is found, counts equal the baseline's).
 * The lookups have a second baseline, the same request over HTTP to the minimal endpoint of
 * bench/baseline-server.ts (one statement, no GraphQL): the floor that HTTP, Node and the round trips
 * set on this machine ("http floor"), measured in the same loop.
 *
 *   email    customers(filter: { email })            exact, normalized (upper case + spaces typed)
 *   phone    customers(filter: { phone })            exact E.164, typed in national format
 *   fuzzy    customers(search: "<name with a typo>") pg_trgm, ranked
 *   filter   3-condition behavioural filter: totalCount, and the first page of 20
 *   stats    customerStats grouped by COUNTRY x AGE_BAND
 */

/**
 * Measured lookups per scenario. The target is a p99: with 300 samples it was the 3rd-worst request and
 * moved by 1-2 ms between runs on the same machine; 2,000 put 20 requests above it.
 */
const LOOKUPS = 2000;
/**
 * Unmeasured lookups of each shape first, on other customers. Latency is measured in the steady
 * state a running gateway is in. Reaching it takes a few thousand requests, in the bare HTTP
 * endpoint as much as in the gateway (V8's tiers and heap sizing, one prepared statement per pooled
 * connection). Measured with 2,000 lookups of each kind after N warm-up lookups of each kind
 * (2026-12-02, IDLE_GC off): after 600, whichever kind was measured first, email or phone, had the
 * longer tail (gateway p95 2.2-2.5 ms against 1.3-1.8 for the kind measured second; the HTTP
 * endpoint's p99 2.9-3.6 ms); after 2,000, and alike after 4,000, both kinds had p95 1.2-1.4 and
 * p99 3.5-3.8 ms, the endpoint's p99 1.0-2.0 ms.
 */
const WARMUP = 2000;
/** Fuzzy searches before measuring (they share most of the request path with the lookups). */
const FUZZY_WARMUP = 30;
const HEAVY_REPEATS = 3;

interface ScenarioResult {
  id: string;
  title: string;
  gateway: LatencyDistribution;
  baseline: LatencyDistribution;
  /** baseline p50 / gateway p50: the share of the database-only speed the gateway keeps. */
  ratio: number;
  target: { metric: 'p99' | 'p95' | 'max'; limitMs: number; actualMs: number; pass: boolean };
  /** The gateway's server-timing header: time inside the server, and its SQL wall time. */
  server?: { total: LatencyDistribution; sql: LatencyDistribution };
  /** Lookups only: the same request answered by the minimal HTTP endpoint (bench/baseline-server.ts). */
  httpBaseline?: LatencyDistribution;
}


/** Typo in a name: swap two inner letters (deterministic). */
function typo(name: string): string {
  const chars = [...name];
  const i = Math.max(1, Math.floor(chars.length / 2));
  if (chars.length > 3 && chars[i] !== ' ' && chars[i + 1] !== ' ' && chars[i + 1] !== undefined) [chars[i], chars[i + 1]] = [chars[i + 1]!, chars[i]!];
  return chars.join('');
}

/** +14155550132 -> "(415) 555-0132"; other countries keep the international form with spaces. */
export function nationalForm(e164: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  if (m) return `(${m[1]}) ${m[2]}-${m[3]}`;
  return e164.replace(/^(\+\d{2})(\d{3})(\d+)$/, '$1 $2 $3');
}

interface CustomerList { customers: { edges: { node: { id: string } }[] } }
/** The answer to a lookup or search (gateway or HTTP endpoint) lists the customer with this database id. */
export const lists = (data: CustomerList | null | undefined, id: string): boolean =>
  data?.customers.edges.some((e) => e.node.id === toGlobalId('Customer', id)) ?? false;

export interface LookupCustomer { id: string; email: string; phone: string; name: string }

/**
 * `n` customers with an email and a phone, in a fixed pseudo-random order (the same ones every run).
 * A lookup asks for the first 5 matches: customers whose email or phone more than 5 share would not
 * be found, so they are left out.
 */
export async function pickLookupCustomers(pg: SuiteContext['pg'], n: number): Promise<LookupCustomer[]> {
  const picked = await pg<LookupCustomer[]>`
    WITH candidate AS (
      SELECT id, email_normalized AS email, phone_e164 AS phone, display_name AS name, md5(id::text || 'c360-scale') AS h FROM customers
      WHERE email_normalized IS NOT NULL AND phone_e164 IS NOT NULL
      ORDER BY h LIMIT ${2 * n})
    SELECT id, email, phone, name FROM candidate c
    WHERE (SELECT count(*) FROM customers o WHERE o.email_normalized = c.email) <= 5
      AND (SELECT count(*) FROM customers o WHERE o.phone_e164 = c.phone) <= 5
    ORDER BY h LIMIT ${n}`;
  if (picked.length < n) throw new BenchFailure(`the bench database has fewer than ${n} customers with email and phone: seed it first`);
  return Array.from(picked);
}

const LOOKUP_FIELDS = 'totalCount edges { node { id displayName email phone } }';
/** The two exact lookups, as the front desk types them: the email in upper case with spaces, the phone in national format. */
export const LOOKUPS_BY = {
  email: {
    query: `query($e: String) { customers(filter: { email: $e }, first: 5) { ${LOOKUP_FIELDS} } }`,
    variables: (c: LookupCustomer) => ({ e: ` ${c.email.toUpperCase()} ` }),
    /** The same lookup for the minimal HTTP endpoint of bench/baseline-server.ts. */
    route: 'lookup-email',
    routeBody: (c: LookupCustomer) => ({ email: ` ${c.email.toUpperCase()} ` }),
  },
  phone: {
    query: `query($p: String) { customers(filter: { phone: $p }, first: 5) { ${LOOKUP_FIELDS} } }`,
    variables: (c: LookupCustomer) => ({ p: nationalForm(c.phone) }),
    route: 'lookup-phone',
    routeBody: (c: LookupCustomer) => ({ phone: nationalForm(c.phone) }),
  },
} as const;
export type LookupKind = keyof typeof LOOKUPS_BY;

export const FILTER = {
  and: [
    { transactions: { window: { last: 'P365D' }, count: { min: 3 } } },
    { interactions: { type: ['COMPLAINT'], window: { last: 'P365D' } } },
    { countries: ['US', 'DE', 'GB', 'FR'] },
  ],
};

/** The same filter, hand-written (the baseline's count). */
const FILTER_SQL = `
  FROM customers c
  WHERE c.country = ANY('{US,DE,GB,FR}')
    AND (SELECT count(*) FROM transactions t WHERE t.customer_id = c.id AND t.type = 'ORDER' AND t.status = 'COMPLETED'
         AND t.occurred_at >= now() - interval 'P365D') >= 3
    AND EXISTS (SELECT 1 FROM interactions i WHERE i.customer_id = c.id AND i.type = 'COMPLAINT' AND i.occurred_at >= now() - interval 'P365D')`;

export const scaleSuite: Suite = {
  name: 'scale',
  description: 'lookups, fuzzy search, a behavioural filter and grouped stats on a large base (use --customers 1000000)',
  resultFile: 'scale.json',
  scenarios: ['email', 'phone', 'fuzzy', 'filter', 'stats'],
  run,
};

async function run(ctx: SuiteContext): Promise<SuiteOutcome> {
  const { options, log, pg } = ctx;
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const want = (id: string) => options.scenarios.length === 0 || options.scenarios.includes(id);
  const dataset = await datasetSize(pg);

  const picked = await pickLookupCustomers(pg, LOOKUPS + WARMUP);
  const sample = picked.slice(0, LOOKUPS);
  const warm = picked.slice(LOOKUPS);

  // The deadline, statement timeout and filter cost budget are lifted so that a slow scenario is
  // measured (and reported as a MISS) instead of refused: the point is to see how far off it is.
  const env = {
    ...gatewayEnv({ databaseUrl: ctx.databaseUrl, poolMax: options.pool, port: 0 }),
    REQUEST_TIMEOUT_MS: '120000', STATEMENT_TIMEOUT_MS: '120000', FILTER_COST_LIMIT: '1000000000000',
  };
  const config = loadConfig(env);
  const token = await signToken(resolveAuthSettings(config), { sub: 'bench', role: 'ADMIN' }, '12h');
  log('starting gateway');
  let gateway: ServerProcess | null = null;
  let httpBaseline: ServerProcess | null = null;
  const results: ScenarioResult[] = [];
  try {
    gateway = await startServer({ name: 'gateway', script: 'gateway-server.ts', env, log, args: ['--pool', String(options.pool)] });
    // The lookups' second baseline: the smallest HTTP endpoint answering the same lookup with one
    // statement (bench/baseline-server.ts): what HTTP, Node and the round trips cost on this machine.
    httpBaseline = await startServer({ name: 'baseline', script: 'baseline-server.ts', env, log, args: ['--pool', String(options.pool)] });
    const url = `${gateway.url}/graphql`;
    // The gateway's own account of each request (server-timing): time inside the server and its SQL.
    const serverSide = new Map<string, { total: number[]; sql: number[] }>();
    let scenarioOf: string | null = null;
    // One request at a time over one kept-alive socket each (see latencyClient).
    const client = latencyClient({ authorization: `Bearer ${token}` });
    const baselineClient = latencyClient({ authorization: `Bearer ${token}` });
    const gql = async <T>(query: string, variables: Record<string, unknown>): Promise<{ ms: number; data: T }> => {
      const payload = JSON.stringify({ query, variables });
      const t0 = performance.now();
      const res = await client.post(url, payload);
      const body = JSON.parse(res.text) as { data?: T; errors?: unknown };
      const ms = performance.now() - t0;
      if (res.status !== 200 || body.errors || !body.data) throw new BenchFailure(`gateway answered ${res.status}: ${JSON.stringify(body.errors ?? body).slice(0, 300)}`);
      const st = /sql;dur=([\d.]+).*total;dur=([\d.]+)/.exec(res.serverTiming);
      if (scenarioOf && st) {
        let s = serverSide.get(scenarioOf);
        if (!s) serverSide.set(scenarioOf, (s = { total: [], sql: [] }));
        s.sql.push(Number(st[1]));
        s.total.push(Number(st[2]));
      }
      return { ms, data: body.data };
    };
    /** The same lookup from the minimal HTTP endpoint; checked like the gateway's answer. */
    const viaHttpBaseline = async (kind: LookupKind, c: LookupCustomer): Promise<number> => {
      const { route, routeBody } = LOOKUPS_BY[kind];
      const id = c.id;
      const payload = JSON.stringify(routeBody(c));
      const t0 = performance.now();
      const res = await baselineClient.post(`${httpBaseline!.url}/${route}`, payload);
      const body = JSON.parse(res.text) as { data?: { customers: { edges: { node: { id: string } }[] } } };
      const ms = performance.now() - t0;
      if (!lists(body.data, id)) throw new BenchFailure(`(${route}) the HTTP baseline did not find ${id}: ${res.text.slice(0, 200)}`);
      return ms;
    };
    const httpFloor = new Map<string, LatencyDistribution>();
    const timed = async <T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> => {
      const t0 = performance.now();
      const value = await f();
      return { ms: performance.now() - t0, value };
    };
    const add = (id: string, title: string, gw: number[], bl: number[], metric: 'p99' | 'p95' | 'max', limitMs: number) => {
      const g = latencyDistribution(gw);
      const b = latencyDistribution(bl);
      const actualMs = g[metric];
      const ss = serverSide.get(id);
      const server = ss ? { total: latencyDistribution(ss.total), sql: latencyDistribution(ss.sql) } : undefined;
      const http = httpFloor.get(id);
      results.push({ id, title, gateway: g, baseline: b, ratio: b.p50 / g.p50, target: { metric, limitMs, actualMs, pass: actualMs <= limitMs }, server, httpBaseline: http });
      log(`(${id}) gateway p50 ${fmt.ms(g.p50)} ms, ${metric} ${fmt.ms(actualMs)} ms (target <= ${limitMs} ms); baseline p50 ${fmt.ms(b.p50)} ms`);
      if (http) log(`(${id}) minimal HTTP endpoint, same lookup: p50 ${fmt.ms(http.p50)} / p99 ${fmt.ms(http.p99)} ms`);
      if (server) log(`(${id}) inside the gateway: p50 ${fmt.ms(server.total.p50)} / p99 ${fmt.ms(server.total.p99)} ms, of which SQL p50 ${fmt.ms(server.sql.p50)} / p99 ${fmt.ms(server.sql.p99)} ms`);
    };

    const FUZZY_QUERY = 'query($q: String) { customers(search: $q, first: 10) { edges { node { id displayName } } } }';
    const lookupSql = (kind: LookupKind, c: LookupCustomer) => (kind === 'email'
      ? pg`SELECT id, display_name, email, phone_e164 FROM customers WHERE email_normalized = ${c.email} ORDER BY created_at DESC, id DESC LIMIT 6`
      : pg`SELECT id, display_name, email, phone_e164 FROM customers WHERE phone_e164 = ${c.phone} ORDER BY created_at DESC, id DESC LIMIT 6`);
    // Warm both paths before measuring, with the measured queries themselves on customers that are not
    // measured (see WARMUP). Without it the first requests of each shape land in the measured tail.
    log(`warming up: ${WARMUP} lookups by email and by phone, ${FUZZY_WARMUP} fuzzy searches, on other customers`);
    for (const c of warm) {
      for (const kind of ['email', 'phone'] as const) {
        await gql(LOOKUPS_BY[kind].query, LOOKUPS_BY[kind].variables(c));
        await lookupSql(kind, c);
        await viaHttpBaseline(kind, c);
      }
    }
    for (const c of warm.slice(0, FUZZY_WARMUP)) await gql(FUZZY_QUERY, { q: typo(c.name) });

    for (const kind of ['email', 'phone'] as const) {
      if (!want(kind)) continue;
      scenarioOf = kind;
      log(kind === 'email' ? `(email) ${LOOKUPS} exact email lookups, typed in upper case with spaces` : `(phone) ${LOOKUPS} exact phone lookups, typed in national format`);
      const gw: number[] = [];
      const bl: number[] = [];
      const hb: number[] = [];
      for (const c of sample) {
        const r = await gql<{ customers: { edges: { node: { id: string } }[] } }>(LOOKUPS_BY[kind].query, LOOKUPS_BY[kind].variables(c));
        hb.push(await viaHttpBaseline(kind, c));
        if (!lists(r.data, c.id)) throw new BenchFailure(`(${kind}) ${JSON.stringify(LOOKUPS_BY[kind].variables(c))} did not find ${c.id}`);
        gw.push(r.ms);
        bl.push((await timed(() => lookupSql(kind, c))).ms);
      }
      httpFloor.set(kind, latencyDistribution(hb));
      add(kind, kind === 'email' ? 'exact email lookup' : 'exact phone lookup', gw, bl, 'p99', 5);
    }
    if (want('fuzzy')) {
      const n = Math.min(100, sample.length);
      scenarioOf = 'fuzzy';
      log(`(fuzzy) ${n} fuzzy name searches with a typo`);
      const gw: number[] = [];
      const bl: number[] = [];
      let found = 0;
      for (const s of sample.slice(0, n)) {
        const term = typo(s.name);
        const r = await gql<{ customers: { edges: { node: { id: string } }[] } }>(
          FUZZY_QUERY, { q: term });
        if (lists(r.data, s.id)) found++;
        gw.push(r.ms);
        bl.push((await timed(() => pg`
          SELECT id, display_name, greatest(similarity(display_name, ${term}), word_similarity(${term}, display_name)) AS score
          FROM customers WHERE display_name % ${term} OR ${term} <% display_name
          ORDER BY score DESC, id DESC LIMIT 11`)).ms);
      }
      // Common names have many equally close namesakes, so the exact person is not always in the top 10.
      log(`(fuzzy) the misspelt customer was in the first 10 results for ${found} of ${n} searches`);
      if (found < n * 0.5) throw new BenchFailure(`(fuzzy) the misspelt customer was in the top 10 for only ${found} of ${n} searches`);
      add('fuzzy', 'fuzzy name search (typo)', gw, bl, 'p95', 50);
    }
    scenarioOf = null;
    if (want('filter')) {
      log(`(filter) behavioural filter, ${HEAVY_REPEATS} times: count, then first page`);
      // The windows end now: events leave them while the suite runs (the seeded history ends today,
      // about one order every few seconds per million customers), so the count can drop between two
      // statements. The gateway's count must lie between the hand-written counts taken before and after it.
      const countNow = async () => (await pg.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n ${FILTER_SQL}`))[0]?.n ?? 0;
      const expected = { n: await countNow() };
      const gwCount: number[] = [];
      const blCount: number[] = [];
      const gwPage: number[] = [];
      const blPage: number[] = [];
      for (let i = 0; i < HEAVY_REPEATS; i++) {
        const before = await countNow();
        const c = await gql<{ customers: { totalCount: number } }>('query($f: CustomerFilter) { customers(filter: $f) { totalCount } }', { f: FILTER });
        const after = await timed(countNow);
        const n = c.data.customers.totalCount;
        if (n > before || n < after.value) throw new BenchFailure(`(filter) gateway counted ${n}, the hand-written SQL ${before} before and ${after.value} after it`);
        gwCount.push(c.ms);
        blCount.push(after.ms);
        const p = await gql<{ customers: { edges: unknown[] } }>('query($f: CustomerFilter) { customers(filter: $f, first: 20) { edges { node { id displayName } } } }', { f: FILTER });
        if (p.data.customers.edges.length !== Math.min(20, after.value)) throw new BenchFailure('(filter) first page has the wrong size');
        gwPage.push(p.ms);
        blPage.push((await timed(() => pg.unsafe(`SELECT c.id, c.display_name ${FILTER_SQL} ORDER BY c.created_at DESC, c.id DESC LIMIT 21`))).ms);
      }
      log(`(filter) ${expected.n} matching customers`);
      add('filter-count', 'behavioural filter (3 conditions): totalCount', gwCount, blCount, 'max', 1000);
      add('filter-page', 'behavioural filter (3 conditions): first page of 20', gwPage, blPage, 'max', 1000);
    }
    if (want('stats')) {
      log(`(stats) customerStats by COUNTRY x AGE_BAND, ${HEAVY_REPEATS} times`);
      const gw: number[] = [];
      const bl: number[] = [];
      for (let i = 0; i < HEAVY_REPEATS; i++) {
        const r = await gql<{ customerStats: { groups: unknown[] } }>(`{ customerStats(groupBy: [{ dimension: COUNTRY }, { dimension: AGE_BAND }]) {
          groups { keys { dimension value } customerCount orderCount totalSpent { amount } medianSpent { amount } p90Spent { amount } } } }`, {});
        if (r.data.customerStats.groups.length === 0) throw new BenchFailure('(stats) no groups');
        gw.push(r.ms);
        bl.push((await timed(() => pg`
          SELECT c.country, width_bucket(extract(year FROM age(c.birth_month))::int, ARRAY[18,25,35,45,55,65]) AS band,
                 count(*), sum(m.order_count), sum(m.total_spent),
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY m.total_spent), percentile_cont(0.9) WITHIN GROUP (ORDER BY m.total_spent)
          FROM customers c JOIN customer_metrics m ON m.customer_id = c.id GROUP BY 1, 2`)).ms);
      }
      add('stats', 'customerStats COUNTRY x AGE_BAND', gw, bl, 'max', 2000);
    }
    client.close();
    baselineClient.close();
  } finally {
    await gateway?.stop();
    await httpBaseline?.stop();
  }

  const finishedAt = new Date();
  const result = roundNumbers({
    suite: 'scale',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    loadAverageAtStart: loadAtStart,
    dataset,
    method: 'one request at a time; gateway over HTTP (JWT ADMIN, production mode) vs the same question as one hand-written statement on the orchestrator\'s own connection',
    scenarios: results.map(({ gateway: g, baseline: b, server, httpBaseline: h, ...r }) => ({
      ...r,
      ...(h ? { httpBaseline: { p50: h.p50, p95: h.p95, p99: h.p99, max: h.max, n: h.n } } : {}),
      ...(server ? { server: { total: { p50: server.total.p50, p95: server.total.p95, p99: server.total.p99, max: server.total.max }, sql: { p50: server.sql.p50, p95: server.sql.p95, p99: server.sql.p99, max: server.sql.max } } } : {}),
      gateway: { p50: g.p50, p95: g.p95, p99: g.p99, max: g.max, n: g.n },
      baseline: { p50: b.p50, p95: b.p95, p99: b.p99, max: b.max, n: b.n },
    })),
  });
  const rows = [['scenario', 'n', 'gw p50 ms', 'gw p95 ms', 'gw p99 ms', 'gw max ms', 'sql p50 ms', 'sql/gw (p50)', 'http floor p50/p99', 'target', 'result']];
  for (const r of results) {
    rows.push([
      `(${r.id}) ${r.title}`, String(r.gateway.n), fmt.ms(r.gateway.p50), fmt.ms(r.gateway.p95), fmt.ms(r.gateway.p99), fmt.ms(r.gateway.max),
      fmt.ms(r.baseline.p50), fmt.ratio(r.ratio), r.httpBaseline ? `${fmt.ms(r.httpBaseline.p50)} / ${fmt.ms(r.httpBaseline.p99)}` : '-',
      `${r.target.metric} <= ${r.target.limitMs} ms`, r.target.pass ? 'PASS' : 'MISS',
    ]);
  }
  const table = [`scale suite on ${dataset.customers.toLocaleString('en-US')} customers, ${dataset.transactions.toLocaleString('en-US')} transactions, ${dataset.interactions.toLocaleString('en-US')} interactions`, formatTable(rows)].join('\n');
  return { result, table };
}
