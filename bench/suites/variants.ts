import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, release, type as osType } from 'node:os';
import { resolveAuthSettings, signToken } from '../../src/auth/token';
import { loadConfig } from '../../src/config';
import { openDb } from '../../src/db/client';
import { toGlobalId } from '../../src/lib/global-id';
import { createLogger } from '../../src/logger';
import { buildServer, type GatewayServer } from '../../src/server';
import { sampleCustomers } from '../lib/database';
import { gatewayEnv } from '../lib/env';
import { fmt, formatTable, roundNumbers } from '../lib/report';
import { QUERIES } from './core';
import { BenchFailure, type Suite, type SuiteContext, type SuiteOutcome } from './types';

/**
 * Variants suite: what each layer of the gateway costs, measured where a throughput comparison
 * cannot be (this project's VMs drift by up to 2x in speed within an hour, more than the effect of a
 * layer). Variants of the real gateway (`buildServer` with switches) run in this one process, each on
 * its own port, and serve the core suite's (a) request (one customer's full 360) over HTTP, in
 * alternating batches: round r sends a batch to every variant, in turn (reversed every other round).
 * The figure is CPU time per request of the whole process (server and client; the client's share is
 * the same for every variant), and each variant's ratio to `full` is taken per round, so that a drift
 * between rounds cancels out. Not a throughput or latency benchmark: the core suite is.
 *
 *   full        the gateway as served
 *   no-shield   without the graphql-shield middleware
 *   no-privacy  without the field privacy middleware
 *   no-plugins  without the gateway's own Apollo plugins and armor's validation rules
 *   bare        none of the three
 */

const VARIANTS = {
  full: { shield: true, privacy: true, plugins: true },
  'no-shield': { shield: false, privacy: true, plugins: true },
  'no-privacy': { shield: true, privacy: false, plugins: true },
  'no-plugins': { shield: true, privacy: true, plugins: false },
  bare: { shield: false, privacy: false, plugins: false },
} as const;
type VariantName = keyof typeof VARIANTS;

/** Requests per variant and round; rounds = 2 x --duration. */
const BATCH = 200;
/** Requests in flight per variant (the load is closed-loop, like the core suite's). */
const CONCURRENCY = 8;
const WARMUP_REQUESTS = 1500;

/** The core suite's (a). */
const QUERY = QUERIES.a;

export const variantsSuite: Suite = {
  name: 'variants',
  description: 'CPU per request of gateway variants (shield, privacy, plugins off) in one process, alternating batches',
  resultFile: 'variants.json',
  scenarios: Object.keys(VARIANTS),
  run,
};

async function run(ctx: SuiteContext): Promise<SuiteOutcome> {
  const { options, log, pg } = ctx;
  const startedAt = new Date();
  const names = (options.scenarios.length ? options.scenarios : Object.keys(VARIANTS)) as VariantName[];
  // `full` is the reference of every ratio.
  const variants: VariantName[] = ['full', ...names.filter((n) => n !== 'full')];
  const rounds = Math.max(4, options.duration * 2);

  const sample = await sampleCustomers(pg, 500);
  if (sample.length === 0) throw new BenchFailure('the bench database has no customers with transactions: seed it first');
  const ids = sample.map((s) => toGlobalId('Customer', s.id));

  const config = loadConfig(gatewayEnv({ databaseUrl: ctx.databaseUrl, poolMax: options.pool, port: 0 }));
  const logger = createLogger(config);
  const handle = await openDb(config);
  const token = await signToken(resolveAuthSettings(config), { sub: 'bench', role: 'ADMIN' }, '12h');
  const servers: { name: VariantName; server: GatewayServer; port: number }[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    for (const name of variants) {
      const server = await buildServer({ config, db: handle.db, logger, ...VARIANTS[name] });
      await new Promise<void>((resolve) => server.http.listen(0, '127.0.0.1', () => resolve()));
      servers.push({ name, server, port: (server.http.address() as AddressInfo).port });
    }
    let next = 0;
    const post = (port: number) => new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ query: QUERY, variables: { id: ids[next++ % ids.length] } });
      const req = request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200 || text.includes('"errors"')) reject(new BenchFailure(`a variant answered ${res.statusCode}: ${text.slice(0, 300)}`));
          else resolve();
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    const batch = async (port: number, count: number) => {
      let sent = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (sent < count) {
          sent++;
          await post(port);
        }
      }));
    };

    log(`variants ${variants.join(', ')}: warm-up ${WARMUP_REQUESTS} requests each`);
    for (const s of servers) await batch(s.port, WARMUP_REQUESTS);
    log(`${rounds} rounds of ${BATCH} requests per variant (${CONCURRENCY} in flight)`);
    const cpuUs = new Map<VariantName, number[]>(variants.map((v) => [v, []]));
    for (let r = 0; r < rounds; r++) {
      for (const s of r % 2 ? [...servers].reverse() : servers) {
        const before = process.cpuUsage();
        await batch(s.port, BATCH);
        const used = process.cpuUsage(before);
        cpuUs.get(s.name)!.push((used.user + used.system) / BATCH);
      }
    }

    const reference = cpuUs.get('full')!;
    const results = variants.map((name) => {
      const values = cpuUs.get(name)!;
      const ratios = values.map((v, i) => v / reference[i]!);
      return { name, ...VARIANTS[name], cpuUsPerRequest: quantiles(values), ratioToFull: quantiles(ratios) };
    });
    const rows: string[][] = [['variant', 'shield', 'privacy', 'plugins', 'CPU µs/req (median)', 'quartiles', 'ratio to full (median)', 'quartiles']];
    for (const r of results) {
      rows.push([
        r.name, r.shield ? 'on' : 'off', r.privacy ? 'on' : 'off', r.plugins ? 'on' : 'off',
        fmt.int(r.cpuUsPerRequest.median), `${fmt.int(r.cpuUsPerRequest.q1)}-${fmt.int(r.cpuUsPerRequest.q3)}`,
        r.name === 'full' ? '1' : fmt.num(r.ratioToFull.median, 3), r.name === 'full' ? '' : `${fmt.num(r.ratioToFull.q1, 3)}-${fmt.num(r.ratioToFull.q3, 3)}`,
      ]);
    }
    const finishedAt = new Date();
    const result = roundNumbers({
      suite: 'variants',
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      options: { rounds, batch: BATCH, concurrency: CONCURRENCY, warmupRequests: WARMUP_REQUESTS, poolMax: options.pool },
      environment: { node: process.version, os: `${osType()} ${release()}`, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' },
      request: 'core suite (a): customer(id) with the full 360 selection, ADMIN token, 500 customers with transactions in rotation',
      variants: results,
    });
    const table = [
      `variants suite: CPU per request of this process (gateway variants + their client), ${rounds} alternating rounds of ${BATCH} requests`,
      formatTable(rows),
      '',
      'ratio to full: per round, variant / full; below 1 is what the layer that is off costs. The client\'s share (the same for',
      'every variant) is in both, so a ratio understates the layer\'s share of the server\'s own CPU.',
    ].join('\n');
    return { result, table };
  } finally {
    agent.destroy();
    for (const s of servers) {
      s.server.http.closeAllConnections();
      await s.server.stop();
    }
    await handle.close();
  }
}

function quantiles(values: number[]): { median: number; q1: number; q3: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { median: at(0.5), q1: at(0.25), q3: at(0.75) };
}
