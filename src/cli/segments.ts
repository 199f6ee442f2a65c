import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config';
import { openDb } from '../db/client';
import { migrateDb } from '../db/migrate';
import { createLogger } from '../logger';
import { tryGlobalId } from '../lib/global-id';
import { configureCrypto } from './setup';
import { refreshDueSegments, refreshSegmentById } from '../modules/segments';

/** `npm run segments -- refresh`: the job the gateway schedules, for cron or a one-off run. */
const program = new Command().name('npm run segments --').description('Refresh segment membership and record daily sizes.');

program.command('refresh')
  .description('Refresh every segment (or one); entries and exits are recorded and emitted as automation events.')
  .option('--id <segmentId>', 'only this segment (global id)')
  .option('--due', 'only segments not refreshed within SEGMENT_REFRESH_INTERVAL_MS')
  .action(async (o: { id?: string; due?: boolean }) => {
    let config;
    try { config = loadConfig(); } catch (e) {
      process.stderr.write(`${e instanceof ConfigError ? e.message : String(e)}\n`);
      process.exit(1);
    }
    configureCrypto(config);
    const logger = createLogger(config);
    let handle;
    try { handle = await openDb(config); } catch (e) {
      process.stderr.write(`segments: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    }
    try {
      await migrateDb(handle);
      if (o.id) {
        const id = tryGlobalId(o.id, 'Segment');
        if (!id) { process.stderr.write(`${o.id} is not a Segment id\n`); process.exitCode = 1; return; }
        const r = await refreshSegmentById(handle.db, config, id);
        if (!r) { process.stderr.write('segment not found or archived\n'); process.exitCode = 1; return; }
        process.stdout.write(`${r.segment.name}: +${r.entered} -${r.exited}\n`);
      } else {
        const r = await refreshDueSegments(handle.db, config, logger, o.due ? config.segmentRefreshIntervalMs : 0);
        process.stdout.write(`refreshed ${r.refreshed} segments: +${r.entered} -${r.exited}\n`);
      }
    } finally {
      await handle.close();
    }
  });

await program.parseAsync();
