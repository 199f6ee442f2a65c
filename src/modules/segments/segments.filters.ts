import { and, not, sql, type SQL } from 'drizzle-orm';
import type { SegmentCondition } from '../../__generated__/resolvers-types';
import { customers } from '../../db/schema/index';
import { badUserInput } from '../../errors';
import { tryGlobalId } from '../../lib/global-id';
import { filterCondition, MAX_LIST } from '../../lib/filter';

/** The segments domain's condition of `CustomerFilter`: `segment` (membership). */
export const segmentFilters = [
  filterCondition({ field: 'segment', behavioural: false, compile: (c, at) => at.add(segmentCondition(c, `${at.path}.segment`)) }),
];

/**
 * Membership of the materialized segments (segment_memberships, keyed by customer): `in` = member of
 * at least one, `notIn` = member of none. Archived segments have no members for the filter.
 */
function segmentCondition(c: SegmentCondition, field: string): SQL {
  const ids = (list: readonly string[], key: string): string[] => {
    if (list.length > MAX_LIST) throw badUserInput(`${field}.${key}: at most ${MAX_LIST} values`, `${field}.${key}`);
    return list.map((g) => {
      const id = tryGlobalId(g, 'Segment');
      if (!id) throw badUserInput(`${field}.${key}: ${g} is not a valid Segment id`, `${field}.${key}`);
      return id;
    });
  };
  if (c.in == null && c.notIn == null) throw badUserInput(`${field}: give in or notIn`, field);
  const member = (segmentIds: string[]) => sql`EXISTS (SELECT 1 FROM segment_memberships sm JOIN segments sg ON sg.id = sm.segment_id
    WHERE sm.customer_id = ${customers.id} AND sm.segment_id = ANY(${sql.param(segmentIds)}::uuid[]) AND sg.archived_at IS NULL)`;
  return and(
    c.in ? (c.in.length ? member(ids(c.in, 'in')) : sql`false`) : undefined,
    c.notIn?.length ? not(member(ids(c.notIn, 'notIn'))) : undefined,
  ) ?? sql`true`;
}
