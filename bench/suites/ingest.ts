import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { maintenanceUrl } from '../lib/database';
import { BENCH_ENCRYPTION_KEYS, BENCH_PRIVACY_HASH_KEY, benchNode } from '../lib/env';
import { fmt, formatTable } from '../lib/report';
import { REPO_DIR } from '../lib/servers';
import { BenchFailure, type Suite, type SuiteContext, type SuiteOutcome } from './types';

/**
 * Ingest suite: `npm run import` of a generated customers CSV and a transactions CSV into a fresh,
 * migrated database, against a raw `COPY` of the same files into unindexed text tables (the fastest
 * PostgreSQL can take the bytes) and against the "insert floor" (FLOOR below: the fastest the real
 * tables can take the rows). Reports rows/s of all three, the ratios, and the peak RSS of the import
 * process. Sizes: `--customers` (default of the bench: 100,000) and BENCH_INGEST_TRANSACTIONS
 * (default 5 per customer). The suite uses its own database (`<bench db>_ingest`, recreated per run)
 * and ignores the seeded bench database.
 */

const TARGET_RATIO = 0.3;
const TARGET_RSS_MIB = 512;

interface Measure { entity: string; rows: number; copyMs: number; floorMs: number; importMs: number; importWallMs: number; peakRssMiB: number; stored: number; rejected: number }

/**
 * The "insert floor": the same rows, already in PostgreSQL (the raw COPY table), inserted by one
 * server-side INSERT ... SELECT into the real table with all its indexes, constraints and triggers,
 * with no cleaning, no lookups and nothing else written (customers: no identities, provenance or source
 * records). No import into this schema can be faster; import/floor says how much of the gap to COPY is
 * the import's own work. Run after the import (the table then holds what the import wrote), with
 * different keys, in a transaction that is rolled back; the table is vacuumed afterwards.
 */
const FLOOR: Record<string, string> = {
  customers: `INSERT INTO customers (id, first_name, last_name, display_name, email, email_normalized, phone, phone_e164, birth_date, gender, city, postal_code, country)
    SELECT gen_random_uuid(), first_name, last_name, concat_ws(' ', first_name, last_name), email, lower(email), phone, phone, birth_date,
      CASE WHEN lower(gender) IN ('f', 'female') THEN 'FEMALE' ELSE 'MALE' END, city, postal_code, country FROM raw_customers`,
  transactions: `INSERT INTO transactions (id, customer_id, source, external_id, occurred_at, type, status, channel, currency, amount, amount_base)
    SELECT gen_random_uuid(), i.customer_id, 'floor', r.external_id, r.occurred_at::timestamptz, r.type, 'COMPLETED', r.channel, r.currency, r.amount::numeric, r.amount::numeric
    FROM raw_transactions r JOIN customer_identities i ON i.source = 'bench' AND i.external_id = r.customer_external_id`,
};

class Rollback extends Error {}

async function insertFloor(pg: postgres.Sql, entity: string): Promise<number> {
  let ms = 0;
  try {
    await pg.begin(async (tx) => {
      const t0 = performance.now();
      await tx.unsafe(FLOOR[entity]!);
      ms = performance.now() - t0;
      throw new Rollback();
    });
  } catch (e) {
    if (!(e instanceof Rollback)) throw e;
  }
  await pg.unsafe(`VACUUM ${entity}`);
  return ms;
}

const COUNTRIES = ['US', 'DE', 'GB', 'FR', 'ES', 'IT', 'NL', 'JP', 'CN', 'BR'];
const FIRST = ['Ada', 'Grace', 'Alan', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Edsger', 'Radia', 'Donald'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen', 'Dijkstra', 'Perlman', 'Knuth'];

async function writeLines(file: string, header: string, n: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(file);
  out.write(`${header}\n`);
  for (let i = 0; i < n; i++) {
    if (!out.write(`${line(i)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Deterministic, realistic-looking rows: mixed phone formats and dates, a few bad rows (about 1 in 500). */
async function generate(dir: string, customers: number, transactions: number) {
  const c = path.join(dir, 'customers.csv');
  const t = path.join(dir, 'transactions.csv');
  await writeLines(c, 'external_id,first_name,last_name,email,phone,birth_date,gender,city,postal_code,country', customers, (i) => {
    const f = FIRST[i % FIRST.length]!;
    const l = LAST[(i * 7) % LAST.length]!;
    const bad = i % 500 === 499;
    const phone = i % 3 === 0 ? `(415) 555-${String(i % 10000).padStart(4, '0')}` : `+1 212 555 ${String(i % 10000).padStart(4, '0')}`;
    const date = i % 2 === 0 ? `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}` : `1${i % 10}.0${1 + (i % 9)}.19${50 + (i % 50)}`;
    return `B-${i},${f},${l},${bad ? 'broken-email' : `${f}.${l}.${i}@example.com`.toLowerCase()},${i % 4 === 0 ? '' : phone},${date},${i % 2 ? 'f' : 'M'},City ${i % 100},${10000 + (i % 89999)},${COUNTRIES[i % COUNTRIES.length]}`;
  });
  const day0 = Date.UTC(2025, 0, 1);
  await writeLines(t, 'external_id,customer_external_id,occurred_at,type,currency,amount,channel', transactions, (i) => {
    const at = new Date(day0 + ((i * 7919) % (365 * 86400)) * 1000).toISOString();
    return `T-${i},B-${(i * 2654435761) % customers},${at},${i % 20 === 0 ? 'REFUND' : 'ORDER'},USD,${(5 + ((i * 37) % 50000) / 100).toFixed(2)},${i % 2 ? 'online' : 'store'}`;
  });
  return { customersFile: c, transactionsFile: t };
}

async function copyBaseline(pg: postgres.Sql, table: string, columns: string[], file: string): Promise<number> {
  await pg.unsafe(`DROP TABLE IF EXISTS ${table}`);
  await pg.unsafe(`CREATE TABLE ${table} (${columns.map((c) => `${c} text`).join(', ')})`);
  const t0 = performance.now();
  const writable = await pg.unsafe(`COPY ${table} FROM STDIN WITH (FORMAT csv, HEADER true)`).writable();
  await pipeline(createReadStream(file), writable);
  return performance.now() - t0;
}

async function runImportCli(databaseUrl: string, entity: string, file: string): Promise<{ wallMs: number; summary: { durationMs: number; rowsRead: number; stored: number; rejected: number; peakRssBytes: number } }> {
  const t0 = performance.now();
  const child = spawn(benchNode(), ['--import', 'tsx', path.join(REPO_DIR, 'src/cli/import.ts'), entity, file, '--source', 'bench', '--customer-source', 'bench', '--json',
    '--errors', `${file}.errors.csv`], { cwd: REPO_DIR, env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', ENCRYPTION_KEYS: BENCH_ENCRYPTION_KEYS, ENCRYPTION_ACTIVE_KEY: '', PRIVACY_HASH_KEY: BENCH_PRIVACY_HASH_KEY }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const [code] = await once(child, 'exit') as [number];
  if (code !== 0) throw new BenchFailure(`import of ${entity} failed (exit code ${code})`);
  const last = out.trim().split('\n').at(-1) ?? '{}';
  return { wallMs: performance.now() - t0, summary: JSON.parse(last) };
}

export const ingestSuite: Suite = {
  name: 'ingest',
  description: 'npm run import (customers, transactions) vs raw COPY of the same CSV into an unindexed table; rows/s and peak RSS',
  resultFile: 'ingest.json',
  scenarios: ['customers', 'transactions'],
  async run(ctx: SuiteContext): Promise<SuiteOutcome> {
    const customers = ctx.options.customers;
    const transactions = Number(process.env.BENCH_INGEST_TRANSACTIONS ?? customers * 5);
    const { url: adminUrl, database } = maintenanceUrl(ctx.databaseUrl);
    const target = `${database}_ingest`;
    const u = new URL(ctx.databaseUrl);
    u.pathname = `/${target}`;
    const targetUrl = u.toString();
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    const dir = mkdtempSync(path.join(tmpdir(), 'c360-ingest-bench-'));
    const results: Measure[] = [];
    try {
      ctx.log(`generating ${fmt.int(customers)} customers and ${fmt.int(transactions)} transactions in ${dir}`);
      const files = await generate(dir, customers, transactions);
      await admin.unsafe(`DROP DATABASE IF EXISTS "${target}" WITH (FORCE)`);
      await admin.unsafe(`CREATE DATABASE "${target}"`);
      const pg = postgres(targetUrl, { max: 1, onnotice: () => {} });
      try {
        // Migrations first (the import CLI would run them too, outside the timing).
        const { openDb } = await import('../../src/db/client');
        const { migrateDb } = await import('../../src/db/migrate');
        const h = await openDb({ databaseUrl: targetUrl, pgliteDir: '', databasePoolMax: 2 });
        await migrateDb(h);
        await h.close();
        const scenarios = ctx.options.scenarios.length ? ctx.options.scenarios : ['customers', 'transactions'];
        // Transactions need the customers: the customer import always runs, its figures are reported when asked for.
        const plan: [string, string, string[], number][] = [
          ['customers', files.customersFile, ['external_id', 'first_name', 'last_name', 'email', 'phone', 'birth_date', 'gender', 'city', 'postal_code', 'country'], customers],
          ['transactions', files.transactionsFile, ['external_id', 'customer_external_id', 'occurred_at', 'type', 'currency', 'amount', 'channel'], transactions],
        ];
        for (const [entity, file, cols, rows] of plan) {
          if (entity === 'transactions' && !scenarios.includes('transactions')) continue;
          ctx.log(`${entity}: raw COPY baseline (${(statSync(file).size / 1e6).toFixed(1)} MB)`);
          const copyMs = await copyBaseline(pg, `raw_${entity}`, cols, file);
          await pg.unsafe('CHECKPOINT').catch(() => {});
          ctx.log(`${entity}: npm run import`);
          const r = await runImportCli(targetUrl, entity, file);
          if (r.summary.rowsRead !== rows || r.summary.stored + r.summary.rejected !== rows) {
            throw new BenchFailure(`${entity}: read ${r.summary.rowsRead}, stored ${r.summary.stored}, rejected ${r.summary.rejected} of ${rows} rows`);
          }
          ctx.log(`${entity}: insert floor (INSERT ... SELECT from the COPY table, rolled back)`);
          const floorMs = await insertFloor(pg, entity);
          await pg.unsafe(`DROP TABLE raw_${entity}`);
          await pg.unsafe('CHECKPOINT').catch(() => {});
          if (scenarios.includes(entity)) {
            results.push({ entity, rows, copyMs, floorMs, importMs: r.summary.durationMs, importWallMs: r.wallMs, peakRssMiB: r.summary.peakRssBytes / 1048576, stored: r.summary.stored, rejected: r.summary.rejected });
          }
        }
      } finally {
        await pg.end({ timeout: 5 });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await admin.unsafe(`DROP DATABASE IF EXISTS "${target}" WITH (FORCE)`).catch(() => {});
      await admin.end({ timeout: 5 });
    }
    const rows = results.map((m) => {
      const copyRate = m.rows / (m.copyMs / 1000);
      const importRate = m.rows / (m.importMs / 1000);
      const floorRate = m.rows / (m.floorMs / 1000);
      return {
        ...m, copyRowsPerSec: copyRate, floorRowsPerSec: floorRate, importRowsPerSec: importRate, ratio: importRate / copyRate,
        floorRatio: floorRate / copyRate, importToFloor: importRate / floorRate,
        meetsRatio: importRate / copyRate >= TARGET_RATIO, meetsRss: m.peakRssMiB <= TARGET_RSS_MIB,
      };
    });
    const table = formatTable([
      ['entity', 'rows', 'COPY rows/s', 'floor rows/s', 'floor/COPY', 'import rows/s', 'import/floor', 'import/COPY', `>= ${TARGET_RATIO}`, 'import s (wall incl. start)', 'peak RSS MiB', `<= ${TARGET_RSS_MIB}`, 'stored', 'rejected'],
      ...rows.map((r) => [r.entity, fmt.int(r.rows), fmt.int(r.copyRowsPerSec), fmt.int(r.floorRowsPerSec), r.floorRatio.toFixed(3), fmt.int(r.importRowsPerSec),
        r.importToFloor.toFixed(2), r.ratio.toFixed(3), r.meetsRatio ? 'yes' : 'NO',
        `${(r.importMs / 1000).toFixed(1)} (${(r.importWallMs / 1000).toFixed(1)})`, r.peakRssMiB.toFixed(0), r.meetsRss ? 'yes' : 'NO', fmt.int(r.stored), fmt.int(r.rejected)]),
    ]);
    return { result: { measuredAt: new Date().toISOString(), customers, transactions, targets: { ratio: TARGET_RATIO, peakRssMiB: TARGET_RSS_MIB }, results: rows }, table };
  },
};
