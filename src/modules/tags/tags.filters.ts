import { sql, type SQL } from 'drizzle-orm';
import type { TagCondition } from '../../__generated__/resolvers-types';
import { customers } from '../../db/schema/index';
import { badUserInput } from '../../errors';
import { checkRange, clock, filterCondition, rangeConds, type FilterOptions } from '../../lib/filter';

/** The tags domain's conditions of `CustomerFilter`: `tag` and `rfmSegment`. */
export const tagFilters = [
  filterCondition({ field: 'tag', behavioural: true, compile: (t, at) => at.add(tagCondition(t, `${at.path}.tag`, at.opts)) }),
  filterCondition({
    field: 'rfmSegment', behavioural: true,
    compile: (segments, at) => at.add(segments.length
      ? sql`EXISTS (SELECT 1 FROM customer_rfm r WHERE r.customer_id = ${customers.id} AND r.segment = ANY(${sql.param(at.list(segments, 'rfmSegment'))}::text[]))`
      : sql`false`),
  }),
];

function tagCondition(t: TagCondition, field: string, opts: FilterOptions): SQL {
  if (t.key == null && t.category == null) throw badUserInput(`${field}: give a key or a category`, field);
  if (t.range) checkRange(t.range, `${field}.range`, (a, b) => Number(a) > Number(b));
  const conds: SQL[] = [sql`ct.customer_id = ${customers.id}`, sql`(ct.expires_at IS NULL OR ct.expires_at > ${clock(opts)})`];
  // A renamed or merged tag still answers to its former keys (filters of rules and segments keep working).
  if (t.key != null) {
    const key = t.key.trim();
    conds.push(sql`(d.key = ${key} OR d.former_keys @> ARRAY[${key}]::text[])`);
  }
  if (t.category != null) conds.push(sql`d.category = ${t.category}`);
  if (t.equals != null) conds.push(sql`ct.value = ${t.equals}`);
  if (t.in) conds.push(t.in.length ? sql`ct.value = ANY(${sql.param([...t.in])}::text[])` : sql`false`);
  if (t.range) {
    // Only numeric values take part; the CASE keeps the cast from failing on text values.
    const num = sql`(CASE WHEN ct.value ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN ct.value::numeric END)`;
    conds.push(...rangeConds(num, t.range, 'numeric'));
  }
  // Over the whole base: one semi-join on the tag's holders (hashed, also under `not`) instead of an
  // index probe per customer (measured on 1,000,000 customers: 295,000 probes, 3.5 s of a rule preview).
  if (opts.setBased) {
    return sql`${customers.id} IN (SELECT ct.customer_id FROM customer_tags ct JOIN tag_definitions d ON d.id = ct.tag_id WHERE ${sql.join(conds.slice(1), sql` AND `)})`;
  }
  return sql`EXISTS (SELECT 1 FROM customer_tags ct JOIN tag_definitions d ON d.id = ct.tag_id WHERE ${sql.join(conds, sql` AND `)})`;
}
