import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { parse } from 'csv-parse/sync';
import { execRows, type Db } from '../../../src/db/client';
import { runImport, type ImportOptions } from '../../../src/modules/ingest/import.service';
import type { Entity } from '../../../src/modules/ingest/entities';
import { customerTables } from '../../../src/modules/ingest/merge.repository';
import { TEST_HASH_KEY } from '../../helpers/app';

export const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/ingest');
export const fixture = (name: string) => path.join(FIXTURES, name);
export const tmp = () => mkdtempSync(path.join(tmpdir(), 'ingest-test-'));

export function importOptions(entity: Entity, file: string, overrides: Partial<ImportOptions> = {}): ImportOptions {
  return {
    entity, file, source: 'crm', batchSize: 4, defaultPhoneRegion: 'US', baseCurrency: 'USD', dateOrder: 'DMY',
    resolution: { matchRules: ['external_id', 'email', 'phone'], blockedValues: ['test@test.com', '0000000000'], sourcePriority: ['crm', 'shop', 'pos'] },
    privacyHashKey: TEST_HASH_KEY, errorsFile: path.join(tmp(), 'errors.csv'),
    ...overrides,
  };
}

export const importFile = (db: Db, entity: Entity, file: string, overrides: Partial<ImportOptions> = {}) => runImport(db, importOptions(entity, file, overrides));

export interface ReportRow { row: string; line: string; field: string; reason: string; original: string }
export const readReport = (file: string): ReportRow[] => parse(readFileSync(file, 'utf8'), { columns: true }) as ReportRow[];

/** Every row of `customers` and of every customer-keyed table, as sorted JSON text per table. */
/**
 * The automation outbox is an append-only log of what happened (a merge and an unmerge each publish
 * the tag moves to webhooks and subscribers); it is not customer state an unmerge could restore.
 */
const EVENT_LOGS = new Set(['automation_events', 'webhook_deliveries', 'webhook_delivery_attempts']);

export async function dumpAll(db: Db): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of ['customers', ...(await customerTables(db)).map((x) => x.name).filter((n) => !EVENT_LOGS.has(n))]) {
    const rows = await execRows<{ j: string }>(db, sql`SELECT to_jsonb(x)::text AS j FROM ${sql.identifier(t)} x ORDER BY 1`);
    out[t] = rows.map((r) => r.j);
  }
  return out;
}

/**
 * The final state without generated ids, clock times and ciphertexts: each customer by its external ids,
 * with its profile, its transactions (with items), interactions, tags and consents.
 */
export async function logicalState(db: Db): Promise<unknown[]> {
  const rows = await execRows<{ j: string }>(db, sql`SELECT jsonb_build_object(
      'ids', (SELECT jsonb_agg(i.source || ':' || i.external_id ORDER BY i.source, i.external_id) FROM customer_identities i WHERE i.customer_id = c.id),
      -- The birth date's ciphertext differs per write (random IV); its blind index stands for the value.
      'profile', to_jsonb(c) - 'id' - 'created_at' - 'updated_at' - 'birth_date',
      'sources', (SELECT jsonb_agg(jsonb_build_object('field', f.field, 'source', f.source, 'rule', f.rule) ORDER BY f.field) FROM customer_field_sources f WHERE f.customer_id = c.id),
      'metrics', (SELECT jsonb_build_object('orders', m.order_count, 'spent', m.total_spent) FROM customer_metrics m WHERE m.customer_id = c.id),
      'transactions', (SELECT jsonb_agg(jsonb_build_object('id', t.external_id, 'at', t.occurred_at, 'amount', t.amount, 'base', t.amount_base,
          'items', (SELECT jsonb_agg(jsonb_build_object('sku', it.sku, 'q', it.quantity, 'p', it.unit_price) ORDER BY it.position) FROM transaction_items it WHERE it.transaction_id = t.id))
          ORDER BY t.external_id) FROM transactions t WHERE t.customer_id = c.id),
      'interactions', (SELECT jsonb_agg(x.external_id || ':' || x.channel ORDER BY x.external_id) FROM interactions x WHERE x.customer_id = c.id),
      'tags', (SELECT jsonb_agg(d.key ORDER BY d.key) FROM customer_tags ct JOIN tag_definitions d ON d.id = ct.tag_id WHERE ct.customer_id = c.id),
      'consents', (SELECT jsonb_agg(x.purpose || ':' || x.status ORDER BY x.recorded_at) FROM consents x WHERE x.customer_id = c.id)
    )::text AS j FROM customers c ORDER BY 1`);
  return rows.map((r) => JSON.parse(r.j));
}

/** Empties every customer table (and the import and merge logs) between tests of one file. */
export async function resetCustomerData(db: Db): Promise<void> {
  await db.execute(sql`TRUNCATE customers, erasures, import_runs, customer_merges, audit_log CASCADE`);
}
