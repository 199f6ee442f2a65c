import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { openDb, type DbHandle } from '../../src/db/client';
import { migrateDb } from '../../src/db/migrate';
import { withDatabase } from './global-setup';

export interface TestDb extends DbHandle {
  /** Drops the database (PostgreSQL) or closes PGlite. */
  destroy(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file: a clone of the template on TEST_DATABASE_URL's
 * server, or an in-memory PGlite when TEST_DATABASE_URL is unset.
 */
export async function createTestDb(): Promise<TestDb> {
  const url = process.env.TEST_DATABASE_URL;
  const template = inject('templateDb');
  if (!url || !template) {
    const handle = await openDb({ databaseUrl: undefined, pgliteDir: '', inMemory: true, databasePoolMax: 1 });
    await migrateDb(handle);
    return { ...handle, destroy: () => handle.close() };
  }
  const name = `c360_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  const handle = await openDb({ databaseUrl: withDatabase(url, name), pgliteDir: '', databasePoolMax: 5 });
  return {
    ...handle,
    async destroy() {
      await handle.close();
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

export const usingPostgres = (): boolean => Boolean(process.env.TEST_DATABASE_URL);
