import { and, eq, gte, inArray, sql } from 'drizzle-orm';
import { alias, PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { renderQuery } from '../../src/db/render';
import { customers, transactions } from '../../src/db/schema/index';
import { uuidIn, uuidRows } from '../../src/lib/sql';

const dialect = new PgDialect();
/** Drizzle's text and parameters (its `typings` are not sent by the fast path). */
const drizzle = { sqlToQuery: (q: Parameters<PgDialect['sqlToQuery']>[0]) => { const { sql: text, params } = dialect.sqlToQuery(q); return { sql: text, params }; } };
const ID = '42c3e1dd-9c3b-4b89-b8de-3224d58c93f7';

describe('renderQuery (the fast path\'s SQL rendering)', () => {
  const cases = {
    'raw template with parameters': sql`SELECT ${1}, ${'a'}, ${null}, ${true} FROM customers WHERE id = ${ID}::uuid`,
    'nested templates and sql.raw': sql`SELECT ${sql.raw('x')} FROM (${sql`SELECT ${2} AS x`}) q WHERE ${sql`x > ${0}`}`,
    'key lists': sql`SELECT * FROM ${uuidRows([ID, ID], 'k', 'customer_id')} JOIN customers c ON ${uuidIn('c.id', [ID])}`,
    'columns, tables and operators of the filter compiler': sql`SELECT ${customers.id} FROM ${customers}
      WHERE ${and(eq(customers.country, 'US'), gte(customers.createdAt, new Date('2026-01-01T00:00:00Z')), inArray(customers.lifecycleStage, ['ACTIVE', 'LOYAL']))}`,
    'sql.join and sql.param arrays': sql`SELECT ${sql.join([sql`${1}`, sql`${2}`], sql`, `)}, ${sql.param([ID])}::uuid[]`,
    'a Date parameter': sql`SELECT ${new Date(0)}::timestamptz`,
  };
  it.each(Object.entries(cases))('renders %s exactly like Drizzle', (_, query) => {
    const { sql: text, params } = renderQuery(query);
    expect({ sql: text, params }).toEqual(drizzle.sqlToQuery(query));
  });

  it('hands what it does not know to Drizzle (aliased tables, inlined parameters), with the same result', () => {
    const t = alias(transactions, 'tx');
    for (const query of [sql`SELECT ${t.id} FROM ${t}`, sql`SELECT * FROM x WHERE y IN ${[1, sql`${2}`, 3]}`, sql`SELECT ${'a'}`.inlineParams()]) {
      const { sql: text, params } = renderQuery(query);
      expect({ sql: text, params }).toEqual(drizzle.sqlToQuery(query));
    }
  });

  it('quotes identifiers the way Drizzle does', () => {
    expect(renderQuery(sql`SELECT ${customers.displayName} FROM ${customers}`).sql).toBe('SELECT "customers"."display_name" FROM "customers"');
  });
});
