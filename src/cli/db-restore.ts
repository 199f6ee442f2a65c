/**
 * `npm run db:restore -- --in FILE --dir NEWDIR`: a backup of `npm run db:backup` into a new PGlite directory.
 * Point PGLITE_DIR at NEWDIR to use it.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Command } from 'commander';
import { lockDir, lockHolder } from '../db/lock';

const program = new Command()
  .name('npm run db:restore --')
  .description('Restore a backup made by `npm run db:backup` into a PGlite directory (then start with PGLITE_DIR=<dir>).')
  .requiredOption('-i, --in <file>', 'backup file (.tar.gz) to restore')
  .requiredOption('-d, --dir <dir>', 'directory to restore into: new or empty')
  .option('--force', 'replace what is in --dir (it must not be in use)')
  .showHelpAfterError('(run with --help for usage)')
  .action(async (o: { in: string; dir: string; force?: boolean }) => {
    try {
      if (!existsSync(o.in)) throw new Error(`no such file: ${o.in}`);
      const dir = path.resolve(o.dir);
      const holder = existsSync(dir) ? lockHolder(dir) : null;
      if (holder) throw new Error(`${dir} is in use by ${holder.role === 'gateway' ? 'the gateway' : holder.command} (pid ${holder.pid}): stop it first`);
      const present = existsSync(dir) ? readdirSync(dir) : [];
      if (present.length && !o.force) throw new Error(`${dir} is not empty (${present.length} entries): restore into a new directory, or add --force to replace its contents`);
      for (const f of present) rmSync(path.join(dir, f), { recursive: true, force: true });
      const started = Date.now();
      const data = readFileSync(o.in);
      // Opening the copy once checks it: a damaged or foreign file fails here, not at the next start.
      const pglite = await PGlite.create({ dataDir: dir, loadDataDir: new Blob([data]), extensions: { pg_trgm } });
      const lock = lockDir(dir, 'cli');
      try {
        const { rows } = await pglite.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'");
        process.stdout.write(`restored ${o.in} into ${dir} (${rows[0]?.n ?? 0} tables) in ${Date.now() - started} ms; start with PGLITE_DIR=${o.dir}\n`);
      } finally {
        await pglite.close();
        lock.release();
      }
    } catch (e) {
      process.stderr.write(`db:restore: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    }
  });

await program.parseAsync();
