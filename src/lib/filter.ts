import { sql, type SQL } from 'drizzle-orm';
import type { CustomerFilter, DecimalRange, IntRange, TimeWindow } from '../__generated__/resolvers-types';
import { badUserInput } from '../errors';

/**
 * The pieces of the `CustomerFilter` language that domains share. Each domain contributes the
 * conditions over its own tables (`<domain>.filters.ts`, `filters` in its module.ts);
 * src/modules/profile/customer-filter.ts combines them (and, or, not, limits) into one WHERE clause.
 * Input values only ever become bind parameters; table and column names come from the domains' code.
 */
export interface FilterOptions {
  defaultPhoneRegion: string;
  /**
   * The clock relative windows, ages and tag expiry are evaluated at. Unset: the database's `now()`.
   * The tag rule engine passes its own (injectable) clock so that a run is reproducible.
   */
  now?: Date;
  /**
   * Evaluating over the whole base (tag rules, bulk jobs): aggregate conditions that exclude customers
   * without rows become one grouped semi-join over the window instead of a subquery per customer
   * (measured on 100,000 customers: the per-customer form dominated a rule preview). Same result; the
   * per-customer form stays the default because it is cheaper for pages and single customers.
   */
  setBased?: boolean;
  /** Placeholder values (test@test.com, 0000000000) that do not count as valid contact data (quality condition). */
  ingest?: { blockedValues: readonly string[] };
}

/** What a condition compiles with: where it is in the filter, the options, and how to add its SQL. */
export interface FilterScope {
  /** The condition's path in the input, e.g. `filter.and.0` (error messages and `field`). */
  readonly path: string;
  readonly opts: FilterOptions;
  /** The filter object the condition stands in (a condition may read a sibling: `phone` reads `country`). */
  readonly filter: CustomerFilter;
  /** Adds one condition over `customers` (counted against the filter's limit). */
  add(condition: SQL | undefined): void;
  /** A list input, refused beyond the list limit. */
  list<T>(values: readonly T[], field: string): T[];
}

export type FilterField = Exclude<keyof CustomerFilter, 'and' | 'or' | 'not'>;

/** One field of `CustomerFilter`, owned by the domain whose tables it reads. */
export interface FilterCondition<K extends FilterField = FilterField> {
  readonly field: K;
  /** Needs more than indexed profile columns (decides on the cost check of `customers`). */
  readonly behavioural: boolean;
  compile(value: NonNullable<CustomerFilter[K]>, at: FilterScope): void;
}

/** Declares a condition (typed by its field). */
export const filterCondition = <K extends FilterField>(c: FilterCondition<K>): FilterCondition => c as unknown as FilterCondition;

export const MAX_LIST = 500;
// ISO 8601 durations PostgreSQL's interval input understands: P1Y2M3W4DT5H6M7S (no fractions).
const ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;

/** `now` as SQL: the given instant as a bind parameter, or the statement's now(). */
export const clock = (opts: FilterOptions): SQL => (opts.now ? sql`${opts.now.toISOString()}::timestamptz` : sql`now()`);

export function checkRange(r: IntRange | DecimalRange, field: string, cmp: (a: string, b: string) => boolean) {
  if (r.min != null && r.max != null && cmp(String(r.min), String(r.max))) throw badUserInput(`${field}: min is greater than max`, field);
}

export function windowConds(alias: string, w: TimeWindow | null | undefined, field: string, opts: FilterOptions): SQL[] {
  if (!w) return [];
  const col = sql.raw(`${alias}.occurred_at`);
  const out: SQL[] = [];
  if (w.last != null) {
    if (w.from != null) throw badUserInput(`${field}: give either last or from`, field);
    if (!ISO_DURATION.test(w.last)) throw badUserInput(`${field}.last must be an ISO 8601 duration such as P90D`, `${field}.last`);
    out.push(sql`${col} >= ${clock(opts)} - ${w.last}::interval`);
  }
  if (w.from) out.push(sql`${col} >= ${w.from.toISOString()}::timestamptz`);
  if (w.to) out.push(sql`${col} < ${w.to.toISOString()}::timestamptz`);
  return out;
}

export function rangeConds(expr: SQL, r: IntRange | DecimalRange | null | undefined, cast: 'int' | 'numeric'): SQL[] {
  if (!r) return [];
  const c = sql.raw(cast);
  return [
    ...(r.min != null ? [sql`${expr} >= ${String(r.min)}::${c}`] : []),
    ...(r.max != null ? [sql`${expr} <= ${String(r.max)}::${c}`] : []),
  ];
}

/** True when a customer with no rows (count 0, sum 0) satisfies the range (or there is none). */
export const admitsZero = (r: IntRange | null | undefined): boolean => !r || ((r.min ?? 0) <= 0 && (r.max ?? 0) >= 0);
export const admitsZeroDecimal = (r: DecimalRange | null | undefined): boolean =>
  !r || ((r.min == null || Number(r.min) <= 0) && (r.max == null || Number(r.max) >= 0));

/** `%`, `_` and `\` in user text are literals, not wildcards. */
export const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);
