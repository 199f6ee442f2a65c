/**
 * What the ingest domain offers the rest of the gateway. Other code imports this file, never the
 * domain's repositories or other files (an ESLint rule holds it); the registry reads module.ts.
 */
export { CUSTOMER_FIELDS } from './entities';
export { exportCommand, exportProgram } from './export.command';
export { importCommand, importProgram } from './import.command';
export { fieldSourceRows, upsertFieldSources } from './import.repository';
export { seedIfEmpty } from './seed-on-start';
export { SEED_TABLES, SeedTargetNotEmptyError, countCustomers, defaultAnchor, seedDemoData } from './seed.service';
export type { SeedProgress, SeedStage, SeedSummary } from './seed.service';
export { Blocklist } from './identity';
