import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig, type Config } from './config';
import path from 'node:path';
import { openDb, type DbHandle } from './db/client';
import { DirLockedError } from './db/lock';
import { migrateDb } from './db/migrate';
import { resolvePrivacyHashKey } from './auth/privacy';
import { blindIndexKey, configureBlindIndexKey, configureFieldEncryption, KeyringError, resolveKeyring } from './lib/crypto';
import { createLogger } from './logger';
import { encryptRemainingPlaintext, fillBlindIndexes } from './modules/admin';
import { seedIfEmpty } from './modules/ingest';
import { startTagScheduler } from './modules/tags';
import { buildServer } from './server';
import { startBackgroundJobs } from './modules/automation';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const logger = createLogger(config);
  let handle: DbHandle;
  try {
    // PGlite: this process takes the directory's lock and serves the database to the CLIs on a Unix socket.
    handle = await openDb({ ...config, pgliteRole: 'gateway', onSocketError: (err) => logger.warn({ err }, 'PGlite socket client failed; disconnected') });
  } catch (e) {
    if (e instanceof DirLockedError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  logger.info({
    driver: handle.driver, replica: Boolean(handle.replicaPg),
    ...(handle.driver === 'pglite' ? { dir: path.resolve(config.pgliteDir), socket: handle.socketPath } : {}),
  }, 'database opened');
  await migrateDb(handle);
  logger.info('migrations applied');
  const devSecrets = [!config.encryption.keys && 'dev-encryption-key', !config.privacyHashKey && 'dev-privacy-hash-key', !config.auth.jwtSecret && 'dev-jwt-secret'].filter(Boolean);
  if (devSecrets.length) logger.info({ dir: path.resolve(config.devSecretsDir), secrets: devSecrets }, 'development secrets (DEV_SECRETS_DIR); back them up with the data');
  const keyring = resolveKeyring(config);
  configureFieldEncryption(keyring);
  try {
    const encrypted = await encryptRemainingPlaintext(handle.db, keyring, (msg, data) => logger.info(data, msg));
    if (encrypted) logger.info({ rows: encrypted }, 'plaintext values encrypted');
    // Birth dates written before migration 0018 (or under another PRIVACY_HASH_KEY) get their blind index.
    const hashKey = resolvePrivacyHashKey(config);
    configureBlindIndexKey(hashKey);
    const indexed = await fillBlindIndexes(handle.db, keyring, blindIndexKey(hashKey));
    if (indexed) logger.info({ rows: indexed }, 'birth-date blind indexes computed');
  } catch (e) {
    if (!(e instanceof KeyringError)) throw e;
    process.stderr.write(`${e.message}\n${keyMismatchHint(config)}\n`);
    process.exit(1);
  }
  await seedIfEmpty(handle, config, logger);

  const server = await buildServer({ config, db: handle.db, logger, handle });
  // Last in the sequence: flush hooks (audit, outboxes) still write through the pool.
  server.shutdown.add('database', () => handle.close(), 'close');
  await new Promise<void>((resolve, reject) => {
    server.http.once('error', reject);
    server.http.listen(config.port, config.host, () => resolve());
  });
  // Segment refresh schedule and webhook dispatcher (SEGMENT_REFRESH_INTERVAL_MS, WEBHOOK_DISPATCH_INTERVAL_MS).
  const jobs = startBackgroundJobs(handle.db, config, logger);
  const shown = config.host === '0.0.0.0' ? 'localhost' : config.host;
  const { port } = server.http.address() as AddressInfo;
  logger.info({ url: `http://${shown}:${port}/graphql`, federation: config.federation }, 'gateway listening');
  // Tag expiry, RFM/lifecycle/model tags and rule re-evaluation (TAG_*_INTERVAL_SECONDS; 0 = off).
  const scheduler = startTagScheduler(handle.db, config, logger);
  if (config.nodeEnv !== 'production') {
    logger.info('get a token with: npm run token -- --role ADMIN');
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const t0 = Date.now();
    logger.info({ signal, inFlight: server.inFlight(), timeoutMs: config.shutdownTimeoutMs, hooks: server.shutdown.names }, 'shutting down');
    // Backstop: draining is bounded by SHUTDOWN_TIMEOUT_MS; the hooks get a few seconds more.
    const force = setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 10_000);
    force.unref();
    scheduler.stop();
    await jobs.stop();
    try {
      const clean = await server.drain(config.shutdownTimeoutMs);
      logger.info({ ms: Date.now() - t0, clean }, 'shut down');
      process.exit(clean ? 0 : 1);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** What to set when the stored values do not open with the configured (or development) key. */
function keyMismatchHint(config: Config): string {
  if (config.encryption.keys) return 'The stored values were encrypted under a key that is not in ENCRYPTION_KEYS: add the key they were written with.';
  const file = path.join(path.resolve(config.devSecretsDir), 'dev-encryption-key');
  return `The stored values were encrypted under another key than the development key in ${file}. `
    + 'Set DEV_SECRETS_DIR to the directory that holds the dev secrets this database was written with '
    + `(${config.databaseUrl ? 'with DATABASE_URL it defaults to ./data, not PGLITE_DIR' : 'on PGlite it defaults to PGLITE_DIR'}), `
    + 'or set ENCRYPTION_KEYS and PRIVACY_HASH_KEY to the keys of this database.';
}

main().catch((e: unknown) => {
  process.stderr.write(`fatal: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
