import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { parse } from 'csv-parse/sync';
import postgres from 'postgres';
import { inject } from 'vitest';
import { openDb, type DbHandle } from '../../../src/db/client';
import { execRows, type Db } from '../../../src/db/client';
import { TEST_ENCRYPTION_KEYS } from '../../helpers/encryption';
import { withDatabase } from '../../helpers/global-setup';
import { runImport, type ImportOptions } from '../../../src/modules/ingest/import.service';
import type { Entity } from '../../../src/modules/ingest/entities';
import { customerTables } from '../../../src/modules/ingest/merge.repository';
import { TEST_HASH_KEY, TEST_JWT_SECRET } from '../../helpers/app';

export const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/ingest');
export const fixture = (name: string) => path.join(FIXTURES, name);
export const tmp = () => mkdtempSync(path.join(tmpdir(), 'ingest-test-'));

export function importOptions(entity: Entity, file: string, overrides: Partial<ImportOptions> = {}): ImportOptions {
  return {
    entity, file, source: 'crm', batchSize: 4, defaultPhoneRegion: 'US', baseCurrency: 'USD', dateOrder: 'DMY',
    resolution: { matchRules: ['external_id', 'email', 'phone'], blockedValues: ['test@test.com', '0000000000'], sourcePriority: ['crm', 'shop', 'pos'] },
    privacyHashKey: TEST_HASH_KEY, errorsFile: path.join(tmp(), 'errors.csv'),
    ...overrides,
  };
}

export const importFile = (db: Db, entity: Entity, file: string, overrides: Partial<ImportOptions> = {}) => runImport(db, importOptions(entity, file, overrides));

export interface ReportRow { row: string; line: string; field: string; reason: string; original: string }
export const readReport = (file: string): ReportRow[] => parse(readFileSync(file, 'utf8'), { columns: true }) as ReportRow[];

/** Every row of `customers` and of every customer-keyed table, as sorted JSON text per table. */
/**
 * The automation outbox is an append-only log of what happened (a merge and an unmerge each publish
 * the tag moves to webhooks and subscribers); it is not customer state an unmerge could restore.
 */
const EVENT_LOGS = new Set(['automation_events', 'webhook_deliveries', 'webhook_delivery_attempts']);

export async function dumpAll(db: Db): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of ['customers', ...(await customerTables(db)).map((x) => x.name).filter((n) => !EVENT_LOGS.has(n))]) {
    const rows = await execRows<{ j: string }>(db, sql`SELECT to_jsonb(x)::text AS j FROM ${sql.identifier(t)} x ORDER BY 1`);
    out[t] = rows.map((r) => r.j);
  }
  return out;
}

/**
 * The final state without generated ids, clock times and ciphertexts: each customer by its external ids,
 * with its profile, its transactions (with items), interactions, tags and consents.
 */
export async function logicalState(db: Db): Promise<unknown[]> {
  const rows = await execRows<{ j: string }>(db, sql`SELECT jsonb_build_object(
      'ids', (SELECT jsonb_agg(i.source || ':' || i.external_id ORDER BY i.source, i.external_id) FROM customer_identities i WHERE i.customer_id = c.id),
      -- The birth date's ciphertext differs per write (random IV); its blind index stands for the value.
      'profile', to_jsonb(c) - 'id' - 'created_at' - 'updated_at' - 'birth_date',
      'sources', (SELECT jsonb_agg(jsonb_build_object('field', f.field, 'source', f.source, 'rule', f.rule) ORDER BY f.field) FROM customer_field_sources f WHERE f.customer_id = c.id),
      'metrics', (SELECT jsonb_build_object('orders', m.order_count, 'spent', m.total_spent) FROM customer_metrics m WHERE m.customer_id = c.id),
      'transactions', (SELECT jsonb_agg(jsonb_build_object('id', t.external_id, 'at', t.occurred_at, 'amount', t.amount, 'base', t.amount_base,
          'items', (SELECT jsonb_agg(jsonb_build_object('sku', it.sku, 'q', it.quantity, 'p', it.unit_price) ORDER BY it.position) FROM transaction_items it WHERE it.transaction_id = t.id))
          ORDER BY t.external_id) FROM transactions t WHERE t.customer_id = c.id),
      'interactions', (SELECT jsonb_agg(x.external_id || ':' || x.channel ORDER BY x.external_id) FROM interactions x WHERE x.customer_id = c.id),
      'tags', (SELECT jsonb_agg(d.key ORDER BY d.key) FROM customer_tags ct JOIN tag_definitions d ON d.id = ct.tag_id WHERE ct.customer_id = c.id),
      'consents', (SELECT jsonb_agg(x.purpose || ':' || x.status ORDER BY x.recorded_at) FROM consents x WHERE x.customer_id = c.id)
    )::text AS j FROM customers c ORDER BY 1`);
  return rows.map((r) => JSON.parse(r.j));
}

/** Empties every customer table (and the import and merge logs) between tests of one file. */
export async function resetCustomerData(db: Db): Promise<void> {
  await db.execute(sql`TRUNCATE customers, erasures, import_runs, customer_merges, audit_log CASCADE`);
}

const REPO = path.resolve(import.meta.dirname, '../../..');

/**
 * A database that a CLI run as a child process and the test both reach: a clone of the template on
 * TEST_DATABASE_URL's server, or a PGlite directory (opened by the test only when no child has it).
 */
export interface ProcessDb {
  /** Environment of the child: its database, keys, development mode. */
  env: NodeJS.ProcessEnv;
  open(): Promise<DbHandle>;
  destroy(): Promise<void>;
}

export async function processDb(): Promise<ProcessDb> {
  const keys = { NODE_ENV: 'development', LOG_LEVEL: 'silent', PRIVACY_HASH_KEY: TEST_HASH_KEY, ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS, JWT_SECRET: TEST_JWT_SECRET };
  const url = process.env.TEST_DATABASE_URL;
  const template = inject('templateDb');
  if (url && template) {
    const name = `c360_test_${randomBytes(6).toString('hex')}`;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    const databaseUrl = withDatabase(url, name);
    return {
      env: { ...process.env, ...keys, DATABASE_URL: databaseUrl },
      open: () => openDb({ databaseUrl, pgliteDir: '', databasePoolMax: 2 }),
      async destroy() { await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`); await admin.end(); },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'ingest-pglite-'));
  return {
    env: { ...process.env, ...keys, DATABASE_URL: '', PGLITE_DIR: dir },
    open: () => openDb({ databaseUrl: undefined, pgliteDir: dir, databasePoolMax: 1 }),
    async destroy() { rmSync(dir, { recursive: true, force: true }); },
  };
}

/** `npm run <script> -- args` as a child process (node --import tsx, as package.json runs it): exit code and output. */
export function runCli(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
