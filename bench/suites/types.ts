import type postgres from 'postgres';
import type { Log } from '../lib/log';

/** Command-line options of `npm run bench` (bench/run.ts), shared by every suite. */
export interface BenchOptions {
  suite: string;
  customers: number;
  /** Seconds of measured load per scenario and target (split into `rounds`). */
  duration: number;
  /** Measured rounds per scenario, alternating gateway and baseline. */
  rounds: number;
  concurrency: number;
  /** Seconds of unmeasured load before each measurement. */
  warmup: number;
  skipSeed: boolean;
  /** Scenario ids to run (all when empty). */
  scenarios: string[];
  /** Gateway with its shield middleware (the real configuration); off only to measure its cost. */
  shield: boolean;
  /** Gateway with its field privacy middleware (the real configuration). */
  privacy: boolean;
  /** Core suite: also measure the stack floor (bench/floor-server.ts), the ceiling of the gateway's ratio. */
  floor: boolean;
  /** Database pool size of every server under test. */
  pool: number;
  /** Write a V8 CPU profile of the gateway and print where its time goes. */
  profile: boolean;
}

export interface SuiteContext {
  options: BenchOptions;
  databaseUrl: string;
  /** Orchestrator's own connection to the bench database (sampling, statistics). */
  pg: postgres.Sql;
  log: Log;
}

export interface SuiteOutcome {
  /** JSON written to bench/results/<resultFile>. */
  result: Record<string, unknown>;
  /** Human-readable summary for stdout. */
  table: string;
}

/**
 * A benchmark suite: a module in bench/suites/ registered in bench/suites/index.ts. The orchestrator
 * prepares the database (create, migrate, seed, VACUUM ANALYZE) before calling `run`; the suite starts
 * what it measures, loads it, and returns its results. Throw `BenchFailure` for wrong results.
 */
export interface Suite {
  name: string;
  description: string;
  /** File name under bench/results/. */
  resultFile: string;
  /** Scenario ids the suite knows (for --scenarios validation). */
  scenarios: readonly string[];
  run(ctx: SuiteContext): Promise<SuiteOutcome>;
}

/** The benchmark measured something wrong (e.g. gateway and baseline disagree): exit non-zero. */
export class BenchFailure extends Error {
  override name = 'BenchFailure';
}
