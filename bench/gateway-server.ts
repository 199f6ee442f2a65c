/**
 * The real gateway for the benchmark, in its own process: `loadConfig` -> `openDb` -> `buildServer`,
 * production mode, `x-sql-statements` on, logs at warn. Prints `BENCH-READY {"port":..}` when listening.
 *
 *   tsx bench/gateway-server.ts [--port 4100] [--pool 10] [--no-shield] [--no-privacy] [--profile-dir DIR] [--memory-probe]
 *
 * With --profile-dir, SIGUSR2 starts a V8 CPU profile (node:inspector) and the next SIGUSR2 stops it and
 * writes DIR/gateway-<n>.cpuprofile, announced as `BENCH-PROFILE <file>` on stdout: the orchestrator
 * profiles exactly the measured load of each scenario, without start-up or idle time.
 *
 * With --memory-probe (and node --expose-gc), SIGHUP runs two full garbage collections and prints
 * `BENCH-MEMORY {"rssBytes":..,"heapUsedBytes":..}`: the live set, which the soak compares over time
 * (a sample taken at a random point of the GC sawtooth says little about leaks).
 *
 * Database: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/c360_bench); the schema must
 * already be migrated and seeded (npm run bench does both).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { openDb } from '../src/db/client';
import { createLogger } from '../src/logger';
import { buildServer } from '../src/server';
import { benchDatabaseUrl, DEFAULT_POOL_MAX, formatReadyLine, gatewayEnv, MEMORY_PREFIX, parsePort, PROFILE_PREFIX } from './lib/env';
import { exitOnSignals } from './lib/http';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    pool: { type: 'string' },
    'no-shield': { type: 'boolean', default: false },
    'no-privacy': { type: 'boolean', default: false },
    'profile-dir': { type: 'string' },
    'memory-probe': { type: 'boolean', default: false },
  },
});

const port = parsePort(values.port ?? process.env.BENCH_PORT, 0);
const poolMax = Number(values.pool ?? process.env.BENCH_POOL_MAX ?? DEFAULT_POOL_MAX);
const config = loadConfig(gatewayEnv({ databaseUrl: benchDatabaseUrl(), poolMax, port }));
const logger = createLogger(config);
const handle = await openDb(config);
const server = await buildServer({ config, db: handle.db, logger, shield: !values['no-shield'], privacy: !values['no-privacy'] });

await new Promise<void>((resolve, reject) => {
  server.http.once('error', reject);
  server.http.listen(config.port, config.host, () => resolve());
});
process.stdout.write(formatReadyLine((server.http.address() as AddressInfo).port));

const profileDir = values['profile-dir'];
if (profileDir) {
  const session = new Session();
  session.connect();
  let profiling = false;
  let count = 0;
  let busy = Promise.resolve();
  const toggle = async () => {
    if (!profiling) {
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      profiling = true;
      return;
    }
    const { profile } = await session.post('Profiler.stop');
    profiling = false;
    const file = path.join(profileDir, `gateway-${++count}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    process.stdout.write(`${PROFILE_PREFIX}${file}\n`);
  };
  process.on('SIGUSR2', () => { busy = busy.then(toggle, toggle); });
}

if (values['memory-probe']) {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('--memory-probe needs node --expose-gc');
  process.on('SIGHUP', () => {
    gc();
    gc();
    const m = process.memoryUsage();
    process.stdout.write(`${MEMORY_PREFIX}${JSON.stringify({ rssBytes: m.rss, heapUsedBytes: m.heapUsed })}\n`);
  });
}

exitOnSignals(async () => {
  // Keep-alive connections of the load generator would hold close() open.
  server.http.closeAllConnections();
  await server.stop();
  await handle.close();
});
