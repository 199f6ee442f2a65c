import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config';
import { openDb } from '../db/client';
import { migrateDb } from '../db/migrate';
import { createLogger } from '../logger';
import { configureCrypto } from './setup';
import { WebhookDispatcher } from '../modules/automation';

/** `npm run webhooks -- dispatch`: the dispatcher outside the gateway (a worker process, or one pass from cron). */
const program = new Command().name('npm run webhooks --').description('Deliver automation events to registered webhooks.');

program.command('dispatch')
  .description('Deliver due webhook deliveries; runs until stopped (SIGINT/SIGTERM) unless --once.')
  .option('--once', 'one pass over everything due now, then exit')
  .action(async (o: { once?: boolean }) => {
    let config;
    try { config = loadConfig(); } catch (e) {
      process.stderr.write(`${e instanceof ConfigError ? e.message : String(e)}\n`);
      process.exit(1);
    }
    configureCrypto(config);
    const logger = createLogger(config);
    let handle;
    try {
      handle = await openDb(config);
      await migrateDb(handle);
    } catch (e) {
      process.stderr.write(`webhooks: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    }
    const dispatcher = new WebhookDispatcher(handle.db, { webhooks: { ...config.webhooks, dispatchIntervalMs: config.webhooks.dispatchIntervalMs || 1000 } }, logger);
    if (o.once) {
      const n = await dispatcher.drain();
      process.stdout.write(`${n} delivery attempts\n`);
      await handle.close();
      return;
    }
    dispatcher.start();
    const keepAlive = setInterval(() => {}, 1 << 30);
    const stop = async () => {
      clearInterval(keepAlive);
      await dispatcher.stop();
      await handle.close();
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
  });

await program.parseAsync();
