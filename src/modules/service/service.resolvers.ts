import type {
  CustomerResolvers, InteractionChannel, InteractionDirection, InteractionStatus, InteractionType, MutationResolvers, Resolvers, Sentiment,
} from '../../__generated__/resolvers-types';
import { toGlobalId } from '../../lib/global-id';
import { toConnection } from '../../lib/pagination';
import { interactionPageRequest } from './service.loaders';
import { recordInteraction } from './service.service';
import { afterCustomerWrite } from '../tags';

const Customer: CustomerResolvers = {
  interactions: async (c, a, ctx) => {
    const { page, args, argsKey } = interactionPageRequest(c.id, a);
    const rows = await ctx.loaders.interactionPage.load({ customerId: c.id, args, argsKey });
    return toConnection(rows.rows, page.limit, a.after, page.cursorOf, rows.totalCount);
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
