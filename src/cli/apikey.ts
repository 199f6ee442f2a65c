/**
 * `npm run apikey -- create|list|revoke`: see `--help` and src/modules/admin/apikey.command.ts.
 * The database comes from the environment (DATABASE_URL, or PGlite in PGLITE_DIR); migrations run first.
 */
import { loadConfig } from '../config';
import { openDb, type Db } from '../db/client';
import { migrateDb } from '../db/migrate';
import { apikeyCommand } from '../modules/admin';
import { buildBareSchema } from '../schema';

async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const handle = await openDb(loadConfig());
  try {
    await migrateDb(handle);
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}

process.exitCode = await apikeyCommand(process.argv.slice(2), {
  withDb, schema: buildBareSchema,
  io: { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) },
});
