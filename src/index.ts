import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig, type Config } from './config';
import { openDb } from './db/client';
import { migrateDb } from './db/migrate';
import { resolvePrivacyHashKey } from './auth/privacy';
import { blindIndexKey, configureBlindIndexKey, configureFieldEncryption, resolveKeyring } from './lib/crypto';
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
  const handle = await openDb(config);
  logger.info({ driver: handle.driver, replica: Boolean(handle.replicaPg), ...(handle.driver === 'pglite' ? { dir: config.pgliteDir } : {}) }, 'database opened');
  await migrateDb(handle);
  logger.info('migrations applied');
  const keyring = resolveKeyring(config);
  configureFieldEncryption(keyring);
  const encrypted = await encryptRemainingPlaintext(handle.db, keyring, (msg, data) => logger.info(data, msg));
  if (encrypted) logger.info({ rows: encrypted }, 'plaintext values encrypted');
  // Birth dates written before migration 0018 (or under another PRIVACY_HASH_KEY) get their blind index.
  const hashKey = resolvePrivacyHashKey(config);
  configureBlindIndexKey(hashKey);
  const indexed = await fillBlindIndexes(handle.db, keyring, blindIndexKey(hashKey));
  if (indexed) logger.info({ rows: indexed }, 'birth-date blind indexes computed');
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

main().catch((e: unknown) => {
  process.stderr.write(`fatal: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
