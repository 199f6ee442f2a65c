import { can, reachable, scoped } from '../../auth/rules';
import type { RuleTree } from '../../auth/permissions';

const bi = can(['ADMIN', 'MARKETER', 'ANALYST'], 'aggregates:read');

export const analyticsRules: RuleTree = {
  Query: {
    customerStats: bi,
    salesSeries: bi,
    cohortRetention: bi,
    interactionStats: bi,
    categoryAffinity: bi,
  },
  // The timeline shows all three kinds of event: a key needs every one of their scopes.
  Customer: { metrics: scoped('transactions:read'), timeline: scoped('transactions:read', 'interactions:read', 'tags:read') },
  CustomerStats: reachable,
  CustomerStatsGroup: reachable,
  DimensionValue: reachable,
  SalesPoint: reachable,
  Cohort: reachable,
  RetentionCell: reachable,
  InteractionStatsGroup: reachable,
  CategoryPair: reachable,
  CustomerMetrics: reachable,
  TimelineEdge: reachable,
  TimelineConnection: reachable,
};
