import type {
  CustomerResolvers, MutationResolvers, QueryResolvers, Resolvers, TagCategory, TagChangeAction, TagSource, TagValueType,
} from '../../__generated__/resolvers-types';
import { internal } from '../../errors';
import { toGlobalId } from '../../lib/global-id';
import { assignTag, listTagDefinitions, removeTag } from './tags.service';


const Query: QueryResolvers = {
  tagDefinitions: (_p, { category }, ctx) => listTagDefinitions(ctx.db, category ?? null),
};

const Mutation: MutationResolvers = {
  assignTag: async (_p, { input }, ctx) => {
    const r = await assignTag(ctx.db, ctx.viewer.id, input);
    if (r.customerId && r.changed) ctx.audit.noteAction('WRITE', r.customerId, ['assignTag']);
    return {
      customerTag: r.customerTag,
      customer: r.customerId ? await ctx.loaders.customerById.load(r.customerId) : null,
      changed: r.changed,
      userErrors: r.userErrors,
    };
  },
  removeTag: async (_p, { input }, ctx) => {
    const r = await removeTag(ctx.db, ctx.viewer.id, input);
    if (r.customerId && r.removed) ctx.audit.noteAction('WRITE', r.customerId, ['removeTag']);
    return {
      customer: r.customerId ? await ctx.loaders.customerById.load(r.customerId) : null,
      removed: r.removed,
      userErrors: r.userErrors,
    };
  },
};

const Customer: CustomerResolvers = {
  tags: async (c, { category }, ctx) => {
    const tags = await ctx.loaders.tagsByCustomerId.load(c.id);
    return category ? tags.filter((t) => t.tag.category === category) : tags;
  },
};

export const tagResolvers: Resolvers = {
  Query,
  Mutation,
  Customer,
  TagDefinition: {
    id: (t) => toGlobalId('TagDefinition', t.id),
    category: (t) => t.category as TagCategory,
    valueType: (t) => t.valueType as TagValueType,
  },
  CustomerTag: {
    source: (t) => t.source as TagSource,
    confidence: (t) => (t.confidence === null ? null : Number(t.confidence)),
  },
  TagChange: {
    id: (t) => toGlobalId('TagChange', t.id),
    action: (t) => t.action as TagChangeAction,
    source: (t) => t.source as TagSource,
    tag: async (t, _a, ctx) => {
      const def = await ctx.loaders.tagDefinitionById.load(t.tagId);
      if (!def) throw internal();
      return def;
    },
  },
};
