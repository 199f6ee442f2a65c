import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config';
import { openDb } from '../db/client';
import { migrateDb } from '../db/migrate';
import { configureFieldEncryption, generateKey, KeyringError, resolveKeyring } from '../lib/crypto';
import { countPending, reencryptAll } from '../modules/admin';

/**
 * `npm run keys -- generate|rotate|status`: keys of the encrypted columns (ENCRYPTION_KEYS).
 * Rotation: add the new key to ENCRYPTION_KEYS, make it ENCRYPTION_ACTIVE_KEY, restart the gateways
 * (new writes use it, old values stay readable), run `rotate`, then drop the old key.
 */
function fail(e: unknown): never {
  const msg = e instanceof ConfigError ? e.message : `keys: ${e instanceof KeyringError || e instanceof Error ? e.message : String(e)}`;
  process.stderr.write(`${msg}\n`);
  process.exit(1);
}

const program = new Command().name('npm run keys --').description('Generate, inspect and rotate the AES-256-GCM keys of the encrypted columns.');

program.command('generate')
  .description('Print a new random key as kid:base64key, ready to append to ENCRYPTION_KEYS (nothing is stored).')
  .option('--kid <kid>', 'key id (default k<yyyymmdd>)')
  .action((o: { kid?: string }) => {
    try {
      process.stdout.write(`${generateKey(o.kid)}\n`);
    } catch (e) { fail(e); }
  });

program.command('status')
  .description('Count the values that are not yet under the active key.')
  .action(async () => {
    try {
      const config = loadConfig();
      const keyring = resolveKeyring(config);
      const handle = await openDb(config);
      try {
        await migrateDb(handle);
        const pending = await countPending(handle.db, keyring, 'rotate');
        process.stdout.write(`active key ${keyring.active}; rows with values under another key or in plaintext: ${JSON.stringify(pending)}\n`);
      } finally { await handle.close(); }
    } catch (e) { fail(e); }
  });

program.command('rotate')
  .description('Re-encrypt every encrypted value under ENCRYPTION_ACTIVE_KEY, in batches. Resumable: run it again after an interruption.')
  .option('--batch-size <n>', 'rows per batch', (v) => Number(v), 1000)
  .action(async (o: { batchSize: number }) => {
    try {
      if (!Number.isInteger(o.batchSize) || o.batchSize < 1 || o.batchSize > 50_000) throw new Error('--batch-size must be 1-50000');
      const config = loadConfig();
      const keyring = resolveKeyring(config);
      configureFieldEncryption(keyring);
      const handle = await openDb(config);
      try {
        await migrateDb(handle);
        const started = Date.now();
        process.stderr.write(`re-encrypting under key ${keyring.active} (configured keys: ${[...keyring.keys.keys()].join(', ')})\n`);
        const results = await reencryptAll(handle.db, keyring, 'rotate', {
          batchSize: o.batchSize,
          onProgress: (p) => process.stderr.write(`  ${p.table}: ${p.done}/${p.total} rows\n`),
        });
        for (const r of results) process.stdout.write(`${r.table}: ${r.rows} rows re-encrypted\n`);
        process.stdout.write(`done in ${Date.now() - started} ms; every value is now under ${keyring.active}\n`);
      } finally { await handle.close(); }
    } catch (e) { fail(e); }
  });

await program.parseAsync();
