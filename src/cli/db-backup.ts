/**
 * `npm run db:backup -- --out FILE`: a consistent copy of the embedded database (PGlite in PGLITE_DIR) as one
 * gzipped tarball (PGlite's dumpDataDir). Restore it with `npm run db:restore`. For PostgreSQL use pg_dump (README).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config';
import { openDb } from '../db/client';
import { lockHolder } from '../db/lock';

const program = new Command()
  .name('npm run db:backup --')
  .description('Back up the embedded PGlite database in PGLITE_DIR to one file (a gzipped tarball of the data directory).')
  .requiredOption('-o, --out <file>', 'file to write (e.g. backup-2026-01-31.tar.gz); an existing file is replaced')
  .addHelpText('after', `
The gateway must not be running on PGLITE_DIR (PGlite is one process; the copy must be consistent): stop it,
back up, start it again. Restore with: npm run db:restore -- --in FILE --dir NEWDIR

The tarball holds the development secrets when they are kept in PGLITE_DIR (no ENCRYPTION_KEYS / PRIVACY_HASH_KEY /
JWT_SECRET and no DEV_SECRETS_DIR). Keys set in the environment are NOT in it: keep them with the backup, or the
encrypted columns of the restored database cannot be read.
PostgreSQL (DATABASE_URL): use pg_dump -Fc, see the README ("Backups").`)
  .showHelpAfterError('(run with --help for usage)')
  .action(async (o: { out: string }) => {
    try {
      const config = loadConfig();
      if (config.databaseUrl) throw new Error('DATABASE_URL is set: back PostgreSQL up with pg_dump -Fc (README, "Backups"); this command copies the embedded PGlite database');
      const holder = lockHolder(config.pgliteDir);
      if (holder) {
        throw new Error(`${holder.role === 'gateway' ? 'the gateway' : `another command (${holder.command})`} (pid ${holder.pid}) has ${path.resolve(config.pgliteDir)} open: `
          + `${holder.role === 'gateway' ? 'stop it (SIGTERM), back up, then start it again' : 'wait for it to finish'}. Nothing was written.`);
      }
      const started = Date.now();
      const handle = await openDb({ ...config, gatewaySocketWaitMs: 0 });
      try {
        if (!handle.pglite) throw new Error('not a PGlite database');
        // Checkpoint first: the copy then needs no WAL replay when it is opened.
        await handle.pglite.exec('CHECKPOINT');
        const tar = await handle.pglite.dumpDataDir('gzip');
        writeFileSync(o.out, Buffer.from(await tar.arrayBuffer()), { mode: 0o600 });
        process.stdout.write(`backed up ${path.resolve(config.pgliteDir)} to ${o.out} (${Math.round(tar.size / 1024)} KiB) in ${Date.now() - started} ms\n`);
      } finally {
        await handle.close();
      }
    } catch (e) {
      process.stderr.write(`db:backup: ${e instanceof ConfigError || e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    }
  });

await program.parseAsync();
