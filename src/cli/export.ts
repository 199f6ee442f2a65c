/**
 * `npm run -s export -- customers|transactions|interactions --format csv|ndjson [--filter <json>] [--segment <id>] [--out file]`:
 * see `--help` and src/modules/ingest/export.command.ts. Data goes to --out or stdout; messages to stderr.
 */
import { ConfigError, loadConfig } from '../config';
import { openDb } from '../db/client';
import { migrateDb } from '../db/migrate';
import { exportCommand, exportProgram } from '../modules/ingest';
import { configureCrypto } from './setup';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (!argv.length || argv.includes('--help') || argv.includes('-h')) {
    exportProgram().parse(argv.length ? argv : ['--help'], { from: 'user' });
    return 0;
  }
  const config = loadConfig();
  // Customers and interactions have encrypted columns (birth date, interaction texts).
  configureCrypto(config);
  const handle = await openDb(config);
  try {
    await migrateDb(handle);
    return await exportCommand(argv, { handle, config, io: { out: (l) => console.log(l), err: (l) => console.error(l), tty: Boolean(process.stderr.isTTY) } });
  } finally {
    await handle.close().catch(() => {});
  }
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(err instanceof ConfigError ? `export: ${err.message}` : `export: error: ${(err as Error).message}`);
  process.exitCode = 1;
});
