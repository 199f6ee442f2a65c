/**
 * Ad-hoc measurement of segment refresh on an existing database (not a bench suite):
 *   DATABASE_URL=postgres://…/db npx tsx bench/segment-refresh.ts
 * Creates a dynamic segment, then times: the initial fill, a no-change refresh, a refresh after
 * 1% of customers change country, and `Customer.segments` batch reads. Removes the segment after.
 */
import { sql } from 'drizzle-orm';
import { loadConfig } from '../src/config';
import { execRows, openDb } from '../src/db/client';
import { createLogger } from '../src/logger';
import { segmentsByCustomerIds } from '../src/modules/segments/segments.repository';
import { createSegment, refreshSegmentById } from '../src/modules/segments/segments.service';

const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
createLogger(config);
const handle = await openDb(config);
const db = handle.db;
const [{ n }] = await execRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM customers`) as [{ n: number }];
const t = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
  const s = performance.now();
  const r = await fn();
  console.log(`${label}: ${Math.round(performance.now() - s)} ms`);
  return r;
};
const name = `bench-${Date.now()}`;
const filter = { transactions: { window: { last: 'P2Y' }, sum: { min: '200' } } };
const created = await t(`create + fill (${n} customers, filter ${JSON.stringify(filter)})`, () => createSegment(db, config, 'bench', { name, kind: 'DYNAMIC', filter }));
const seg = created.segment!;
const [{ size }] = await execRows<{ size: number }>(db, sql`SELECT count(*)::int AS size FROM segment_memberships WHERE segment_id = ${seg.id}::uuid`) as [{ size: number }];
console.log(`members: ${size}`);
await t('refresh, nothing changed', () => refreshSegmentById(db, config, seg.id));
const changed = Math.round(n / 100);
await execRows(db, sql`UPDATE transactions SET status = 'CANCELLED' WHERE customer_id IN (SELECT customer_id FROM segment_memberships WHERE segment_id = ${seg.id}::uuid LIMIT ${changed})`);
const r = await t(`refresh after cancelling all orders of ${changed} members`, () => refreshSegmentById(db, config, seg.id));
console.log(`entered ${r?.entered} exited ${r?.exited}`);
await execRows(db, sql`UPDATE transactions SET status = 'COMPLETED' WHERE status = 'CANCELLED' AND customer_id IN (SELECT customer_id FROM segment_membership_events WHERE segment_id = ${seg.id}::uuid AND action = 'EXITED')`);
const ids = (await execRows<{ customer_id: string }>(db, sql`SELECT customer_id FROM segment_memberships WHERE segment_id = ${seg.id}::uuid LIMIT 100`)).map((x) => x.customer_id);
await t('Customer.segments batch for 100 customers (one statement)', () => segmentsByCustomerIds(db, ids));
await execRows(db, sql`DELETE FROM automation_events WHERE payload->>'segmentId' = ${seg.id}`);
await execRows(db, sql`DELETE FROM segments WHERE id = ${seg.id}::uuid`);
await handle.close();
