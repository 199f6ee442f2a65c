import { sql } from 'drizzle-orm';
import type { Config } from '../../config';
import { execRows, type DbHandle } from '../../db/client';
import type { Logger } from '../../logger';
import { runModels } from '../tags';
import { seedDemoData } from './seed.service';

/** `npm start` on an empty database seeds demo customers so a new user has something to query. */
export async function seedIfEmpty(handle: DbHandle, config: Config, logger: Logger): Promise<void> {
  if (!config.seed.demo || config.seed.customers === 0) return;
  const [row] = await execRows<{ any: boolean }>(handle.db, sql`SELECT EXISTS (SELECT 1 FROM customers) AS any`);
  if (row?.any) return;
  logger.info({ customers: config.seed.customers }, 'empty database: seeding demo data (SEED_DEMO=false to skip)');
  const started = Date.now();
  const summary = await seedDemoData(handle, { customers: config.seed.customers, baseCurrency: config.baseCurrency });
  logger.info({ ms: Date.now() - started, rows: summary.rows }, 'demo data seeded');
  // RFM scores, lifecycle stages, value tiers and interest tags are derived by the models job, whose first
  // scheduled run is TAG_MODELS_INTERVAL_SECONDS after start: run it once now, so that a new user sees them.
  const models = await runModels(handle.db, config);
  logger.info({ ms: models.ms, rfm: models.rfm, valueTier: models.valueTier, interests: models.interests }, 'demo models computed');
}
