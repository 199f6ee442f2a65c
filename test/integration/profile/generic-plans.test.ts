import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partsStatement } from '../../../src/db/client';
import { customerRelations } from '../../../src/modules/profile/customer360.service';
import { customerRowsPart } from '../../../src/modules/profile/profile.loaders';
import { createSeeder } from '../../factories/index';
import { createTestDb, usingPostgres, type TestDb } from '../../helpers/db';

/** Field arguments of the 360 selection (bench and statement-count test): first 10 / 10 / 5. */
const ARGS: Record<string, Record<string, unknown>> = { transactions: { first: 10 }, interactions: { first: 10 }, timeline: { first: 5 } };

/** The one statement `customer(id)` runs for the full 360 of `ids` (profile row and every relation). */
function statement360(ids: string[]) {
  const parts = [customerRowsPart(ids, undefined).query, ...customerRelations().map((r) => r.plan(ids, ARGS[r.field] ?? {})!.query)];
  return new PgDialect().sqlToQuery(partsStatement(parts));
}

// pg_prepared_statements is per session: the statements run on one reserved connection and are read there.
describe.runIf(usingPostgres())('plans of the one-customer 360 statement (PostgreSQL)', () => {
  let db: TestDb;
  const ids: string[] = [];
  beforeAll(async () => {
    db = await createTestDb();
    const seed = createSeeder(db.db);
    for (let i = 0; i < 8; i++) ids.push((await seed.customer().withIdentity('crm', `GP-${i}`).withTransactions(3).withInteractions(2).withTag('vip').create()).id);
  });
  afterAll(async () => { await db?.destroy(); });

  it('is planned once and reused (generic plan), not re-planned for every customer', async () => {
    const conn = await db.pg!.reserve();
    try {
      const { sql: text } = statement360([ids[0]!]);
      for (const id of ids) {
        const rows = await conn.unsafe(text, statement360([id]).params as never[], { prepare: true });
        expect(JSON.stringify(rows[0])).toContain(id);
      }
      const [stats] = await conn<{ generic: number; custom: number }[]>`
        SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE statement = ${text}`;
      // PostgreSQL tries five custom plans, then keeps the generic one when it is not dearer.
      expect(stats).toEqual({ generic: ids.length - 5, custom: 5 });
    } finally {
      conn.release();
    }
  });

  it('writes a one-key list as a single value and a longer one as an array', () => {
    const one = statement360([ids[0]!]).sql;
    const two = statement360([ids[0]!, ids[1]!]).sql;
    expect(one).not.toMatch(/ANY\(\$\d+::uuid\[\]\)|unnest\(/);
    expect(two).toMatch(/ANY\(\$\d+::uuid\[\]\)/);
    expect(two).toMatch(/unnest\(\$\d+::uuid\[\]\)/);
  });
});
