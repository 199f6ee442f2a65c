import type {
  CustomerResolvers, InteractionChannel, InteractionType, QueryResolvers, Resolvers, Sentiment,
} from '../../__generated__/resolvers-types';
import * as stats from './analytics.service';
import { toConnection } from '../../lib/pagination';
import { timelinePageRequest } from './analytics.loaders';

const Customer: CustomerResolvers = {
  metrics: async (c, _a, ctx) =>
    (await ctx.loaders.metricsByCustomerId.load(c.id)) ?? {
      customerId: c.id, orderCount: 0, totalSpent: '0.0000', averageOrderValue: '0.0000', firstPurchaseAt: null, lastPurchaseAt: null,
    },
  timeline: async (c, a, ctx) => {
    const { page, args, argsKey } = timelinePageRequest(c.id, a);
    const rows = await ctx.loaders.timelinePage.load({ customerId: c.id, args, argsKey });
    const { edges, pageInfo } = toConnection(rows, page.limit, a.after, page.cursorOf, 0);
    return { edges, pageInfo };
  },
};

const Query: QueryResolvers = {
  customerStats: (_p, { filter, groupBy }, ctx) => stats.customerStats(ctx.db, ctx.config, ctx.viewer, ctx.rowScope, filter, groupBy),
  salesSeries: (_p, { filter, interval, from, to }, ctx) => stats.salesSeries(ctx.db, ctx.config, ctx.viewer, ctx.rowScope, filter, interval, from, to),
  cohortRetention: (_p, { by, from, to, filter }, ctx) => stats.cohortRetention(ctx.db, ctx.config, ctx.viewer, ctx.rowScope, by, from, to, filter),
  interactionStats: async (_p, { filter, groupBy, interval, from, to }, ctx) =>
    (await stats.interactionStats(ctx.db, ctx.config, ctx.viewer, ctx.rowScope, filter, groupBy, interval, from, to)).map((r) => ({
      ...r, channel: r.channel as InteractionChannel | null, type: r.type as InteractionType | null, sentiment: r.sentiment as Sentiment | null,
    })),
  categoryAffinity: (_p, { filter, top, from, to }, ctx) => stats.categoryAffinity(ctx.db, ctx.config, ctx.viewer, ctx.rowScope, filter, top, from, to),
};

export const analyticsResolvers: Resolvers = {
  Query,
  Customer,
  CustomerMetrics: {
    totalSpent: (m, _a, ctx) => ({ amount: m.totalSpent, currency: ctx.config.baseCurrency }),
    averageOrderValue: (m, _a, ctx) => ({ amount: m.averageOrderValue, currency: ctx.config.baseCurrency }),
  },
  TimelineEvent: {
    __resolveType: (e) => e.__typename ?? null,
  },
};
