/**
 * `npm run import -- <entity> <file> --source <system>`: see `--help` and src/modules/ingest/import.command.ts.
 * The database comes from the environment (DATABASE_URL, or PGlite in PGLITE_DIR); migrations run first.
 */
import { resolvePrivacyHashKey } from '../auth/privacy';
import { ConfigError, loadConfig } from '../config';
import { openDb } from '../db/client';
import { migrateDb } from '../db/migrate';
import { configureBlindIndexKey, configureFieldEncryption, resolveKeyring } from '../lib/crypto';
import { importCommand, importProgram } from '../modules/ingest';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  // Help and usage errors need no database.
  if (!argv.length || argv.includes('--help') || argv.includes('-h')) {
    importProgram().parse(argv.length ? argv : ['--help'], { from: 'user' });
    return 0;
  }
  const config = loadConfig();
  // Birth dates and interaction texts are encrypted before they are written (ENCRYPTION_KEYS, as the gateway).
  configureFieldEncryption(resolveKeyring(config));
  configureBlindIndexKey(resolvePrivacyHashKey(config));
  const handle = await openDb(config);
  const interrupted = () => {
    console.error('\nimport: interrupted; the batches already committed stay, run the same command again to finish.');
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  try {
    await migrateDb(handle);
    return await importCommand(argv, { handle, config, io: { out: (l) => console.log(l), err: (l) => console.error(l), tty: Boolean(process.stderr.isTTY) } });
  } finally {
    process.off('SIGINT', interrupted);
    await handle.close().catch(() => {});
  }
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(err instanceof ConfigError ? `import: ${err.message}` : `import: error: ${(err as Error).message}`);
  process.exitCode = 1;
});
