import { sql, type SQL, type AnyColumn } from 'drizzle-orm';

/**
 * A timestamptz rendered with microseconds in UTC. Cursors carry this text instead of a JS Date
 * (milliseconds only), so keyset comparisons are exact.
 */
export const tsKey = (col: AnyColumn | SQL): SQL<string> =>
  sql<string>`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
