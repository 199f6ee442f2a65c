import type {
  CustomerResolvers, InteractionChannel, InteractionDirection, InteractionStatus, InteractionType, MutationResolvers, Resolvers, Sentiment,
} from '../../__generated__/resolvers-types';
import { toGlobalId } from '../../lib/global-id';
import { timePage, toConnection } from '../../lib/pagination';
import { recordInteraction } from './service.service';
import { afterCustomerWrite } from '../tags/tag-jobs.service';

const CURSOR = 'ix';

const Customer: CustomerResolvers = {
  interactions: async (c, { first, after, channel, from, to }, ctx) => {
    const page = timePage(CURSOR, first, after);
    const args = { limit: page.fetch, after: page.after, channel: channel ?? null, from: from ?? null, to: to ?? null };
    const rows = await ctx.loaders.interactionPage.load({ customerId: c.id, args, argsKey: JSON.stringify(args) });
    return toConnection(rows.rows, page.limit, after, page.cursorOf, rows.totalCount);
  },
};

const Mutation: MutationResolvers = {
  recordInteraction: async (_p, { input }, ctx) => {
    const r = await recordInteraction(ctx.db, input);
    if (r.interaction) {
      ctx.audit.noteAction('WRITE', r.interaction.customerId, ['recordInteraction']);
      await afterCustomerWrite(ctx.db, ctx.config, [r.interaction.customerId]);
    }
    return r;
  },
};

export const serviceResolvers: Resolvers = {
  Customer,
  Mutation,
  Interaction: {
    id: (i) => toGlobalId('Interaction', i.id),
    channel: (i) => i.channel as InteractionChannel,
    type: (i) => i.type as InteractionType,
    direction: (i) => i.direction as InteractionDirection,
    sentiment: (i) => i.sentiment as Sentiment | null,
    status: (i) => i.status as InteractionStatus,
  },
};
