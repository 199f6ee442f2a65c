/**
 * `npm run bench`: prepares the bench database (create, migrate, seed, VACUUM ANALYZE), runs a suite
 * (bench/suites/), prints its table on stdout and writes bench/results/<suite result file>.
 * Progress goes to stderr. Exit code 1 when the suite finds wrong results or cannot run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import postgres from 'postgres';
import { loadConfig } from '../src/config';
import { countCustomers, ensureDatabase, migrate, openBenchDb, redact, vacuumAnalyze } from './lib/database';
import { baseCurrency, BENCH_ENCRYPTION_KEYS, BENCH_PRIVACY_HASH_KEY, benchDatabaseUrl, benchNode, DEFAULT_BENCH_DATABASE_URL, DEFAULT_POOL_MAX } from './lib/env';
import { log } from './lib/log';
import { BENCH_DIR, REPO_DIR } from './lib/servers';
import { SUITES, loadSuite } from './suites/index';
import { BenchFailure, type BenchOptions } from './suites/types';

const RESULTS_DIR = path.join(BENCH_DIR, 'results');

const positiveInt = (name: string, min = 1) => (raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};

const program = new Command()
  .name('npm run bench --')
  .description(`Load-test the gateway against a hand-written-SQL baseline on PostgreSQL.
Database: BENCH_DATABASE_URL (default ${DEFAULT_BENCH_DATABASE_URL}); created, migrated and seeded when needed.
Node: the servers under test run on BENCH_NODE (a path to a node binary), else on the Node running this command.`)
  .addOption(new Option('-s, --suite <name>', 'suite to run').choices(Object.keys(SUITES)).default('core'))
  .option('--customers <n>', 'customers in the bench database (seeded when it has fewer)', positiveInt('--customers'), 100_000)
  .option('-d, --duration <seconds>', 'measured seconds per scenario and server', positiveInt('--duration'), 15)
  .option('-r, --rounds <n>', 'split each measurement into n rounds, alternating gateway and baseline', positiveInt('--rounds'), 3)
  .option('-c, --concurrency <n>', 'concurrent connections of the load generator', positiveInt('--concurrency'), 16)
  .option('-w, --warmup <seconds>', 'unmeasured seconds before each measurement', positiveInt('--warmup', 0), 3)
  .option('--skip-seed', 'never seed, even when the database has fewer customers than --customers', false)
  .addOption(new Option('--scenarios <ids>', 'comma-separated scenario ids of the suite')
    .argParser((v) => v.split(',').map((id) => id.trim()).filter(Boolean)).default([], 'all'))
  .option('--pool <n>', 'database pool size of each server under test', positiveInt('--pool'), DEFAULT_POOL_MAX)
  .option('--no-shield', 'serve the gateway without its shield middleware (to measure what authorization costs)')
  .option('--no-privacy', 'serve the gateway without its field privacy middleware (to measure what it costs)')
  .option('--no-floor', 'core suite: skip the stack floor (Apollo + graphql-js running the baseline SQL, bench/floor-server.ts)')
  .option('--profile', 'record a V8 CPU profile of the gateway and print where its time goes', false)
  .addHelpText('after', `
Examples:
  npm run bench                                   # core suite, defaults (100,000 customers, 15 s, concurrency 16)
  npm run bench -- --duration 5 --warmup 1        # quicker
  npm run bench -- --scenarios a --profile        # one scenario with a gateway CPU profile
  BENCH_DATABASE_URL=postgres://u:p@db:5432/c360_bench npm run bench -- --skip-seed
  BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/c360_scale npm run bench -- --suite scale --customers 1000000
  BENCH_DATABASE_URL=…/c360_scale npm run bench -- --suite lookups --customers 1000000 --skip-seed
                                                  # lookup tails of gateway settings in one loop (BENCH_LOOKUP_VARIANTS)`);

program.action(async (raw: BenchOptions) => {
  const options: BenchOptions = { ...raw };
  const databaseUrl = benchDatabaseUrl();
  const started = Date.now();
  let serversNode = process.version;
  let pg: postgres.Sql | null = null;
  try {
    const suite = await loadSuite(options.suite);
    if (options.rounds > options.duration) throw new InvalidArgumentError('--rounds must not exceed --duration (rounds of at least one second)');
    const unknown = options.scenarios.filter((s) => !suite.scenarios.includes(s));
    if (unknown.length) throw new InvalidArgumentError(`unknown scenario(s) ${unknown.join(', ')} for suite ${suite.name} (has ${suite.scenarios.join(', ')})`);

    serversNode = execFileSync(benchNode(), ['--version'], { encoding: 'utf8' }).trim();
    log(`servers under test on Node ${serversNode} (${benchNode()}), load generator on ${process.version}`);
    log(`database ${redact(databaseUrl)}`);
    await ensureDatabase(databaseUrl, log);
    const handle = await openBenchDb(databaseUrl);
    try {
      await migrate(handle);
      if (!handle.pg) throw new Error('expected a PostgreSQL connection');
      const have = await countCustomers(handle.pg);
      if (have < options.customers) {
        if (options.skipSeed) {
          log(`the database has ${have} customers (< ${options.customers}); --skip-seed: benchmarking what is there`);
        } else {
          await seed(databaseUrl, options.customers, have);
        }
      } else if (have > options.customers) {
        log(`the database has ${have} customers (more than --customers ${options.customers}); using them all`);
      }
      log('VACUUM (ANALYZE)');
      await vacuumAnalyze(handle.pg);
    } finally {
      await handle.close();
    }

    // The hand-written statements get the session settings the gateway's connections have (src/db/client.ts:
    // work_mem, no JIT), so that a comparison measures the SQL and not the settings.
    pg = postgres(databaseUrl, { max: 2, onnotice: () => {}, connection: { work_mem: loadConfig({ DATABASE_WORK_MEM: process.env.DATABASE_WORK_MEM }).databaseWorkMem, jit: 'off' } });
    log(`suite ${suite.name}: ${suite.description}`);
    const outcome = await suite.run({ options, databaseUrl, pg, log });
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, suite.resultFile);
    const node = { servers: serversNode, loadGenerator: process.version };
    writeFileSync(file, `${JSON.stringify({ node, ...outcome.result }, null, 2)}\n`);
    process.stdout.write(`\n${outcome.table}\n\nNode ${node.servers} (servers under test), ${node.loadGenerator} (load generator)\nresults: ${path.relative(process.cwd(), file)} (run took ${Math.round((Date.now() - started) / 1000)} s)\n`);
  } catch (e) {
    const msg = e instanceof BenchFailure || e instanceof InvalidArgumentError
      ? e.message
      : e instanceof Error ? e.stack ?? e.message : String(e);
    process.stderr.write(`\nbench FAILED: ${msg}\n`);
    process.exitCode = 1;
  } finally {
    await pg?.end({ timeout: 5 });
  }
});

/**
 * Seeds through the project's own CLI (`npm run db:seed -- --customers N --reset`), in a child
 * process with DATABASE_URL pointing at the bench database.
 */
async function seed(databaseUrl: string, customers: number, have: number): Promise<void> {
  log(`seeding ${customers.toLocaleString('en-US')} customers (the database has ${have}); this takes a few minutes`);
  const t0 = Date.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(benchNode(), ['--import', 'tsx', path.join(REPO_DIR, 'src/cli/seed.ts'), '--customers', String(customers), '--reset'], {
      cwd: REPO_DIR,
      env: { ...process.env, DATABASE_URL: databaseUrl, BASE_CURRENCY: baseCurrency(), LOG_LEVEL: 'warn', ENCRYPTION_KEYS: BENCH_ENCRYPTION_KEYS, ENCRYPTION_ACTIVE_KEY: '',
        PRIVACY_HASH_KEY: BENCH_PRIVACY_HASH_KEY },
      stdio: ['ignore', 2, 2], // its progress goes to our stderr: stdout is for the table
    });
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`seeding failed (exit code ${code})`);
  log(`seeded in ${Math.round((Date.now() - t0) / 1000)} s`);
}

await program.parseAsync();
