import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { execRows, type Db, type DbHandle } from './client';
import { REPO_ROOT } from '../lib/paths';

export const MIGRATIONS_FOLDER = path.join(REPO_ROOT, 'drizzle');
const MIGRATION_LOCK = 7_360_360_001;

/**
 * In-app migrator (drizzle-kit's `migrate` silently skips extensions on PGlite). On PostgreSQL it holds
 * an advisory lock on a reserved connection so several gateway instances can start at once.
 */
export async function migrateDb(handle: DbHandle): Promise<void> {
  if (handle.driver === 'pglite') {
    await migratePglite(handle.db as unknown as PgliteDatabase, { migrationsFolder: MIGRATIONS_FOLDER });
    return;
  }
  if (!handle.pg) throw new Error('postgres driver without client');
  // The lock lives on a reserved session of the pool. A second instance blocks here until the first
  // has finished. The migrations run on their own connection without the pool's statement_timeout (the
  // request deadline): a backfill over a large table takes longer, and a migration cut off would fail
  // every start (seen: 0019's backfill on 1,000,000 customers).
  const conn = await handle.pg.reserve();
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK})`;
    const client = handle.unboundedClient?.() ?? handle.pg;
    try {
      await migratePostgres(drizzlePostgres(client), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      if (client !== handle.pg) await client.end({ timeout: 5 });
      await conn`select pg_advisory_unlock(${MIGRATION_LOCK})`;
    }
  } finally {
    conn.release();
  }
}

/** Number of migrations shipped with this build (drizzle/meta/_journal.json). */
export function shippedMigrationCount(): number {
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

/** Readiness: the database answers and has every shipped migration applied. */
export async function checkSchemaCurrent(db: Db): Promise<{ ok: true } | { ok: false; reason: string }> {
  const rows = await execRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`);
  const applied = Number(rows[0]?.n ?? 0);
  const shipped = shippedMigrationCount();
  return applied >= shipped ? { ok: true } : { ok: false, reason: `migrations pending: ${applied} of ${shipped} applied` };
}
