import { and, not, or, sql, type SQL } from 'drizzle-orm';
import { badUserInput } from '../../errors';
import { MAX_LIST, type FilterCondition, type FilterOptions, type FilterScope } from '../../lib/filter';
import type { CustomerFilter } from '../../__generated__/resolvers-types';
import { modules } from '../index';

export type { FilterOptions };

/**
 * Compiles `CustomerFilter` to one parameterized WHERE clause over `customers`. This file only
 * combines: `and`, `or`, `not` and the limits; every other field is a condition of the domain whose
 * tables it reads (`filters` in each module.ts, e.g. tags owns `tag`, commerce `transactions`).
 * Behavioural conditions are correlated subqueries on the (customer_id, occurred_at) indexes of each table.
 */
const MAX_DEPTH = 6;
const MAX_CONDITIONS = 60;

let conditions: readonly FilterCondition[] | undefined;
/** Every module's conditions, in registry order (a field claimed by two modules is refused). */
export function filterConditions(): readonly FilterCondition[] {
  if (conditions) return conditions;
  const all = modules.flatMap((m): readonly FilterCondition[] => ('filters' in m ? m.filters : []));
  const seen = new Set<string>();
  for (const c of all) {
    if (seen.has(c.field)) throw new Error(`filter: ${c.field} has conditions in two modules`);
    seen.add(c.field);
  }
  return (conditions = all);
}

export function compileCustomerFilter(filter: CustomerFilter | null | undefined, opts: FilterOptions): SQL | undefined {
  if (!filter) return undefined;
  const state = { conditions: 0 };
  return compile(filter, opts, 'filter', 0, state);
}

/** True when the filter needs more than indexed profile columns (used to decide on the cost check). */
export function isBehavioural(filter: CustomerFilter | null | undefined): boolean {
  if (!filter) return false;
  return Boolean(filterConditions().some((c) => c.behavioural && filter[c.field])
    || filter.not || filter.or?.length || filter.and?.some(isBehavioural));
}

function compile(f: CustomerFilter, opts: FilterOptions, path: string, depth: number, state: { conditions: number }): SQL {
  if (depth > MAX_DEPTH) throw badUserInput(`${path}: filters nest at most ${MAX_DEPTH} levels`, path);
  const conds: (SQL | undefined)[] = [];
  const add = (c: SQL | undefined) => {
    if (++state.conditions > MAX_CONDITIONS) throw badUserInput(`filter: at most ${MAX_CONDITIONS} conditions`, 'filter');
    conds.push(c);
  };
  const list = <T>(v: readonly T[], field: string): T[] => {
    if (v.length > MAX_LIST) throw badUserInput(`${path}.${field}: at most ${MAX_LIST} values`, `${path}.${field}`);
    return [...v];
  };

  if (f.and) add(and(...f.and.map((sub, i) => compile(sub, opts, `${path}.and.${i}`, depth + 1, state))) ?? sql`true`);
  if (f.or) add(f.or.length ? or(...f.or.map((sub, i) => compile(sub, opts, `${path}.or.${i}`, depth + 1, state))) : sql`false`);
  if (f.not) add(not(compile(f.not, opts, `${path}.not`, depth + 1, state)));

  const at: FilterScope = { path, opts, add, list, filter: f };
  for (const c of filterConditions()) {
    const value = f[c.field];
    if (value != null) c.compile(value as never, at);
  }
  return and(...conds) ?? sql`true`;
}
