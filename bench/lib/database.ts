import postgres from 'postgres';
import { openDb, type DbHandle } from '../../src/db/client';
import { migrateDb } from '../../src/db/migrate';
import { blindIndexKey, configureBlindIndexKey, configureFieldEncryption, parseKeyring } from '../../src/lib/crypto';
import { encryptRemainingPlaintext, fillBlindIndexes } from '../../src/modules/admin/keys.service';
import { BENCH_ENCRYPTION_KEYS, BENCH_PRIVACY_HASH_KEY } from './env';
import type { Log } from './log';

/** The bench database's name and a URL of the same server's `postgres` database (to create it). */
export function maintenanceUrl(databaseUrl: string): { url: string; database: string } {
  const u = new URL(databaseUrl);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw new Error(`BENCH_DATABASE_URL has no database name: ${redact(databaseUrl)}`);
  u.pathname = '/postgres';
  return { url: u.toString(), database };
}

/** The URL without its password, for messages. */
export function redact(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

/** Creates the database when it does not exist (through the server's `postgres` database). */
export async function ensureDatabase(databaseUrl: string, log: Log): Promise<void> {
  const { url, database } = maintenanceUrl(databaseUrl);
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin<{ exists: boolean }[]>`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ${database}) AS exists`;
    if (!row?.exists) {
      log(`creating database ${database}`);
      await admin`CREATE DATABASE ${admin(database)}`;
    }
  } finally {
    await admin.end({ timeout: 5 });
  }
}

export async function openBenchDb(databaseUrl: string): Promise<DbHandle> {
  // Two connections: migrateDb holds its advisory lock on one and migrates on the other.
  return openDb({ databaseUrl, databasePoolMax: 4, pgliteDir: '/nonexistent-bench-pglite-dir' });
}

export async function migrate(handle: DbHandle): Promise<void> {
  await migrateDb(handle);
  // A bench database seeded before migration 0013 holds plaintext: encrypt it as the gateway's start-up would.
  const keyring = parseKeyring(BENCH_ENCRYPTION_KEYS);
  configureFieldEncryption(keyring);
  await encryptRemainingPlaintext(handle.db, keyring, (msg, data) => process.stderr.write(`${msg} ${JSON.stringify(data)}\n`));
  // ... and one seeded before migration 0018 has no birth-date blind indexes.
  configureBlindIndexKey(BENCH_PRIVACY_HASH_KEY);
  const indexed = await fillBlindIndexes(handle.db, keyring, blindIndexKey(BENCH_PRIVACY_HASH_KEY));
  if (indexed) process.stderr.write(`birth-date blind indexes computed ${JSON.stringify({ rows: indexed })}\n`);
}

export interface DatasetSize {
  customers: number;
  customersWithTransactions: number;
  transactions: number;
  transactionItems: number;
  interactions: number;
  customerTags: number;
  tagEvents: number;
  identities: number;
}

export async function countCustomers(pg: postgres.Sql): Promise<number> {
  const [row] = await pg<{ n: number }[]>`SELECT count(*)::int AS n FROM customers`;
  return row?.n ?? 0;
}

/** Row counts from the statistics (exact counts of the big tables would take seconds; ANALYZE first). */
export async function datasetSize(pg: postgres.Sql): Promise<DatasetSize> {
  const rows = await pg<{ relname: string; n: number }[]>`
    SELECT relname, greatest(reltuples, 0)::bigint::float8 AS n FROM pg_class
    WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace`;
  const est = (name: string) => Math.round(rows.find((r) => r.relname === name)?.n ?? 0);
  const [withTx] = await pg<{ n: number }[]>`
    SELECT count(*)::int AS n FROM customers c WHERE EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = c.id)`;
  return {
    customers: await countCustomers(pg),
    customersWithTransactions: withTx?.n ?? 0,
    transactions: est('transactions'),
    transactionItems: est('transaction_items'),
    interactions: est('interactions'),
    customerTags: est('customer_tags'),
    tagEvents: est('customer_tag_events'),
    identities: est('customer_identities'),
  };
}

/**
 * VACUUM (ANALYZE) so that plans and index-only scans look like a database that autovacuum has
 * kept up with, not like one that was bulk-loaded a second ago. Cheap when nothing changed.
 */
export async function vacuumAnalyze(pg: postgres.Sql): Promise<void> {
  await pg`VACUUM (ANALYZE)`;
}

export interface Sample { id: string; email: string | null }

/**
 * `size` random customers that have transactions (the interesting 360s) with their normalized email.
 * "Random" is a hash order, so the same database gives the same sample on every run.
 */
export async function sampleCustomers(pg: postgres.Sql, size: number, salt = 'c360-bench'): Promise<Sample[]> {
  return pg<Sample[]>`
    SELECT c.id, c.email_normalized AS email FROM customers c
    WHERE EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = c.id)
    ORDER BY md5(c.id::text || ${salt}) LIMIT ${size}`;
}

/** Customers the correctness check should cover besides the random sample: the edge cases. */
export async function edgeCaseCustomers(pg: postgres.Sql, perKind: number): Promise<{ kind: string; sample: Sample }[]> {
  const kinds: { kind: string; where: postgres.PendingQuery<postgres.Row[]> }[] = [
    { kind: 'no transactions', where: pg`NOT EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = c.id)` },
    { kind: 'a completed refund', where: pg`EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = c.id AND t.type = 'REFUND' AND t.status = 'COMPLETED')` },
    { kind: 'a non-completed transaction', where: pg`EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = c.id AND t.status <> 'COMPLETED')` },
    { kind: 'an expired tag', where: pg`EXISTS (SELECT 1 FROM customer_tags ct WHERE ct.customer_id = c.id AND ct.expires_at <= now())` },
    { kind: 'a foreign-currency transaction', where: pg`EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = c.id AND t.amount <> t.amount_base)` },
    { kind: 'more than 10 transactions', where: pg`(SELECT count(*) FROM transactions t WHERE t.customer_id = c.id) > 10` },
    { kind: 'tag changes', where: pg`EXISTS (SELECT 1 FROM customer_tag_events e WHERE e.customer_id = c.id)` },
    { kind: 'no email', where: pg`c.email_normalized IS NULL` },
  ];
  const out: { kind: string; sample: Sample }[] = [];
  for (const k of kinds) {
    // The first few by id within a bounded scan: cheap, and the same customers on every run.
    const rows = await pg<{ id: string; email: string | null }[]>`
      SELECT c.id, c.email_normalized AS email FROM (SELECT * FROM customers ORDER BY id LIMIT 20000) c
      WHERE ${k.where} ORDER BY c.id LIMIT ${perKind}`;
    for (const r of rows) out.push({ kind: k.kind, sample: r });
  }
  return out;
}
