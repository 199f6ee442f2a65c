/**
 * `npm run db:seed -- --customers 100000`: fills the configured database (DATABASE_URL, or PGlite in
 * PGLITE_DIR) with deterministic demo customers. Exit code 0 on success, 1 on any error or refusal.
 */
import { configureBlindIndexKey, configureFieldEncryption, resolveKeyring } from '../lib/crypto';
import { resolvePrivacyHashKey } from '../auth/privacy';
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig } from '../config';
import { openDb, type DbHandle } from '../db/client';
import { migrateDb } from '../db/migrate';
import { runModels } from '../modules/tags';
import {
  SEED_TABLES, SeedTargetNotEmptyError, countCustomers, defaultAnchor, seedDemoData, type SeedProgress, type SeedStage, type SeedSummary,
} from '../modules/ingest';

interface CliOptions {
  customers: number;
  seed: number;
  transactionsPerCustomer: number;
  interactionsPerCustomer: number;
  batchSize: number | undefined;
  anchor: Date | undefined;
  reset?: boolean;
  /** commander's --no-models: false skips the models job after seeding. */
  models: boolean;
}

const integer = (min: number, max: number) => (value: string): number => {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${fmt(min)} to ${fmt(max)}.`);
  return n;
};
const average = (max: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > max) throw new InvalidArgumentError(`expected a number from 0 to ${max}.`);
  return n;
};
const day = (value: string): Date => {
  const d = new Date(`${value}T00:00:00Z`);
  // Round trip: rejects 2025-02-30 as well as malformed input.
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) throw new InvalidArgumentError('expected a date as YYYY-MM-DD.');
  return d;
};

const program = new Command()
  .name('npm run db:seed --')
  .description(
    'Fill the database with deterministic demo data: customers in 13 countries with identities, consents, tags and '
    + 'tag history, two years of orders and refunds with line items, and service interactions. The same --seed and '
    + '--anchor always produce the same rows. The database comes from the environment: DATABASE_URL (PostgreSQL) or, '
    + 'when it is unset, embedded PGlite in PGLITE_DIR (default ./data). Migrations are applied first.',
  )
  .option('--customers <n>', 'number of customers to create', integer(0, 10_000_000), 1000)
  .option('--seed <n>', 'seed of the generator; the same seed gives the same data', integer(0, 2 ** 32 - 1), 42)
  .option('--transactions-per-customer <avg>', 'average orders and refunds per customer (skewed: ~15% have none, a few have hundreds)', average(200), 10)
  .option('--interactions-per-customer <avg>', 'average service interactions per customer (skewed)', average(100), 5)
  .option('--batch-size <n>', 'customers generated and written per batch (default: a twentieth of --customers, from 250 to 2,000)', integer(1, 100_000))
  .option('--anchor <YYYY-MM-DD>', 'end of the two-year history (default: today, UTC)', day)
  .option('--no-models', 'skip the models job after seeding (RFM scores, lifecycle stages, value tiers, interest tags; otherwise first computed by the scheduler)')
  .option('--reset', 'delete all customer data first (customers and every table that references them; tag definitions stay)')
  .addHelpText('after', `
Examples:
  npm run db:seed                                   1,000 customers into an empty database
  npm run db:seed -- --customers 100000             100,000 customers (PostgreSQL recommended)
  npm run db:seed -- --reset --seed 7               replace the existing customers with another data set
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/c360 npm run db:seed -- --customers 1000000

Without --reset the command refuses to run when customers already exist (exit code 1). The whole seed runs in
one transaction: if it fails or is interrupted, the database is left as it was.`)
  .showHelpAfterError('(run with --help for usage)');

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** One line, no stack: postgres.js, node's network errors and AggregateError (dual-stack connect) included. */
function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return [...new Set(err.errors.map(describe))].join('; ');
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    const msg = err.message || err.name;
    return typeof code === 'string' && !msg.includes(code) ? `${msg} (${code})` : msg;
  }
  return String(err);
}

const STAGE_TEXT: Record<SeedStage, string> = {
  indexing: 'Rows written; rebuilding indexes and checking foreign keys...',
  analyzing: 'Updating planner statistics...',
};

interface Reporter { progress(p: SeedProgress): void; stage(s: SeedStage): void; stop(): void }

/** A live bar on a terminal; a plain line every few seconds when the output is a file or a CI log. */
function reporter(total: number): Reporter {
  const started = performance.now();
  let rows = 0;
  const rate = () => rows / Math.max(0.001, (performance.now() - started) / 1000);
  const eta = (done: number) => (done > 0 ? duration(((performance.now() - started) * (total - done)) / done) : '-');
  if (process.stdout.isTTY) {
    // Fits an 80-column terminal at a million customers (cli-progress cuts longer lines).
    const bar = new cliProgress.SingleBar({
      format: '{bar} {percentage}% | {done}/{all} customers | {rate} rows/s | ETA {left}',
      stream: process.stdout,
      barsize: 15,
      hideCursor: true,
      fps: 5,
    }, cliProgress.Presets.shades_classic);
    bar.start(total, 0, { done: '0', all: fmt(total), rate: '0', left: '-' });
    return {
      progress(p) {
        rows += p.rows;
        bar.update(p.customersDone, { done: fmt(p.customersDone), rate: fmt(rate()), left: eta(p.customersDone) });
      },
      stage(s) {
        bar.stop();
        console.log(STAGE_TEXT[s]);
      },
      stop: () => bar.stop(),
    };
  }
  let lastPrint = started;
  let done = 0;
  return {
    progress(p) {
      rows += p.rows;
      done = p.customersDone;
      const now = performance.now();
      if (now - lastPrint < 5000) return;
      lastPrint = now;
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      const left = done > 0 ? `, ETA ${eta(done)}` : '';
      console.log(`seeding: ${fmt(done)}/${fmt(total)} customers (${pct}%), ${fmt(rows)} rows, ${fmt(rate())} rows/s${left}`);
    },
    stage(s) {
      console.log(STAGE_TEXT[s]);
    },
    stop() {},
  };
}

function printSummary(s: SeedSummary, handle: DbHandle): void {
  const where = handle.via ? `PGlite (through the running gateway, pid ${handle.via.gatewayPid})` : s.driver === 'postgres' ? 'PostgreSQL' : 'PGlite';
  console.log(`Seeded ${fmt(s.customers)} customers into ${where} in ${duration(s.durationMs)} (seed ${s.seed}, history up to ${s.anchor.slice(0, 10)}).`);
  const width = Math.max(...SEED_TABLES.map((t) => t.length), 'total'.length);
  for (const t of SEED_TABLES) console.log(`  ${t.padEnd(width)}  ${fmt(s.rows[t]).padStart(12)}`);
  console.log(`  ${'total'.padEnd(width)}  ${fmt(s.totalRows).padStart(12)}  (${fmt(s.totalRows / Math.max(0.001, s.durationMs / 1000))} rows/s)`);
}

async function main(): Promise<number> {
  const opts = program.parse().opts<CliOptions>();
  const config = loadConfig();
  configureFieldEncryption(resolveKeyring(config));
  configureBlindIndexKey(resolvePrivacyHashKey(config));
  const handle: DbHandle = await openDb(config);
  let progress: Reporter | undefined;
  const interrupted = () => {
    progress?.stop();
    console.error('\ndb:seed: interrupted; nothing was committed.');
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  try {
    await migrateDb(handle);
    if (!opts.reset) {
      const existing = await countCustomers(handle);
      if (existing > 0) {
        console.error(`db:seed: the database already has ${fmt(existing)} customers. Run with --reset to delete all customer data and seed again.`);
        return 1;
      }
    }
    const anchor = opts.anchor ?? defaultAnchor();
    console.log(`Seeding ${fmt(opts.customers)} customers (seed ${opts.seed}, history up to ${anchor.toISOString().slice(0, 10)})${opts.reset ? ', replacing existing customer data' : ''}...`);
    progress = reporter(opts.customers);
    const summary = await seedDemoData(handle, {
      customers: opts.customers,
      seed: opts.seed,
      transactionsPerCustomer: opts.transactionsPerCustomer,
      interactionsPerCustomer: opts.interactionsPerCustomer,
      // About twenty batches for small seeds, so that the progress moves; 2,000 at most to bound memory.
      batchSize: opts.batchSize ?? Math.min(2000, Math.max(250, Math.ceil(opts.customers / 20))),
      baseCurrency: config.baseCurrency,
      anchor,
      reset: opts.reset ?? false,
      onProgress: (p) => progress?.progress(p),
      onStage: (s) => progress?.stage(s),
    });
    progress.stop();
    printSummary(summary, handle);
    if (opts.models) {
      // As `npm start` does after seeding demo data: derived data exists at once, not after the first scheduled run.
      console.log('Computing RFM scores, lifecycle stages, value tiers and interest tags...');
      const models = await runModels(handle.db, config);
      console.log(`Models computed in ${fmt(Object.values(models.ms).reduce((a, b) => a + b, 0) / 1000)} s (${fmt(models.rfm.scored)} RFM scores).`);
    }
    return 0;
  } catch (err) {
    progress?.stop();
    if (err instanceof SeedTargetNotEmptyError) {
      console.error(`db:seed: the database already has ${fmt(err.existingCustomers)} customers. Run with --reset to delete all customer data and seed again.`);
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', interrupted);
    await handle.close().catch(() => {});
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) console.error(`db:seed: ${err.message}`);
    else console.error(`db:seed: error: ${describe(err)}`);
    process.exitCode = 1;
  },
);
