import { sql, type SQL } from 'drizzle-orm';
import type { InteractionCondition } from '../../__generated__/resolvers-types';
import { customers } from '../../db/schema/index';
import { admitsZero, checkRange, filterCondition, rangeConds, windowConds, type FilterOptions } from '../../lib/filter';

/** The service domain's condition of `CustomerFilter`: `interactions`. */
export const serviceFilters = [
  filterCondition({ field: 'interactions', behavioural: true, compile: (c, at) => at.add(interactionCondition(c, `${at.path}.interactions`, at.opts)) }),
];

function interactionCondition(c: InteractionCondition, field: string, opts: FilterOptions): SQL {
  if (c.count) checkRange(c.count, `${field}.count`, (a, b) => Number(a) > Number(b));
  const conds: SQL[] = [sql`x.customer_id = ${customers.id}`, ...windowConds('x', c.window, `${field}.window`, opts)];
  if (c.channel) conds.push(c.channel.length ? sql`x.channel = ANY(${sql.param([...c.channel])}::text[])` : sql`false`);
  if (c.type) conds.push(c.type.length ? sql`x.type = ANY(${sql.param([...c.type])}::text[])` : sql`false`);
  if (c.sentiment) conds.push(c.sentiment.length ? sql`x.sentiment = ANY(${sql.param([...c.sentiment])}::text[])` : sql`false`);
  const where = sql.join(conds, sql` AND `);
  if (!c.count) return sql`EXISTS (SELECT 1 FROM interactions x WHERE ${where})`;
  if (opts.setBased && !admitsZero(c.count)) {
    return sql`${customers.id} IN (SELECT x.customer_id FROM interactions x WHERE ${sql.join(conds.slice(1), sql` AND `)}
      GROUP BY x.customer_id HAVING ${sql.join(rangeConds(sql`count(*)`, c.count, 'int'), sql` AND `)})`;
  }
  return sql`(SELECT ${sql.join(rangeConds(sql`count(*)`, c.count, 'int'), sql` AND `)} FROM interactions x WHERE ${where})`;
}
