import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config';
import { openDb } from '../db/client';
import { MIGRATIONS_FOLDER, migrateDb } from '../db/migrate';
import { resolvePrivacyHashKey } from '../auth/privacy';
import { blindIndexKey, configureFieldEncryption, resolveKeyring } from '../lib/crypto';
import { encryptRemainingPlaintext, fillBlindIndexes } from '../modules/admin';

const program = new Command()
  .name('npm run db:migrate --')
  .description(`Apply the migrations in ${MIGRATIONS_FOLDER} to DATABASE_URL (PostgreSQL) or, when unset, to the PGlite database in PGLITE_DIR. Safe to run repeatedly and concurrently.`)
  .action(async () => {
    try {
      const config = loadConfig();
      const handle = await openDb(config);
      const started = Date.now();
      await migrateDb(handle);
      // Values from before migration 0013 are encrypted here too, and birth dates from before 0018 get their
      // blind index (the gateway also does both at start-up).
      const keyring = resolveKeyring(config);
      configureFieldEncryption(keyring);
      await encryptRemainingPlaintext(handle.db, keyring, (msg, data) => process.stdout.write(`${msg} ${JSON.stringify(data)}\n`));
      const indexed = await fillBlindIndexes(handle.db, keyring, blindIndexKey(resolvePrivacyHashKey(config)));
      if (indexed) process.stdout.write(`birth-date blind indexes computed {"rows":${indexed}}\n`);
      await handle.close();
      process.stdout.write(`migrations applied to ${handle.via ? `PGlite (${config.pgliteDir}, through the running gateway, pid ${handle.via.gatewayPid})` : handle.driver === 'postgres' ? 'PostgreSQL' : `PGlite (${config.pgliteDir})`} in ${Date.now() - started} ms\n`);
    } catch (e) {
      process.stderr.write(`${e instanceof ConfigError ? e.message : `migration failed: ${e instanceof Error ? e.message : String(e)}`}\n`);
      process.exit(1);
    }
  });

await program.parseAsync();
