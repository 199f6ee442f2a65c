import { sql, type SQL } from 'drizzle-orm';
import { badUserInput } from '../../errors';
import { filterCondition } from '../../lib/filter';
import { completenessSql, validitySql } from './quality';

/** The ingest domain's condition of `CustomerFilter`: `quality` (completeness and validity of the profile). */
export const ingestFilters = [
  filterCondition({
    field: 'quality', behavioural: false,
    compile: (quality, { path, opts, add }) => {
      const ratio = (expr: SQL, r: { min?: number | null; max?: number | null } | null | undefined, field: string) => {
        if (!r) return;
        for (const v of [r.min, r.max]) if (v != null && !(v >= 0 && v <= 1)) throw badUserInput(`${path}.quality.${field} bounds must be between 0 and 1`, `${path}.quality.${field}`);
        if (r.min != null) add(sql`${expr}::float8 >= ${r.min}::float8`);
        if (r.max != null) add(sql`${expr}::float8 <= ${r.max}::float8`);
      };
      ratio(completenessSql(), quality.completeness, 'completeness');
      ratio(validitySql(opts.ingest?.blockedValues ?? []), quality.validity, 'validity');
    },
  }),
];
