import type {
  CustomerResolvers, LifecycleStage, MutationResolvers, QueryResolvers, Resolvers, RfmSegment, TagCardinality, TagCategory,
  TagChangeAction, TagRuleMetric, TagRuleTrigger, TagSource, TagStatus, TagValueType,
} from '../../__generated__/resolvers-types';
import type { Context } from '../../context';
import { internal } from '../../errors';
import { expectGlobalId, toGlobalId } from '../../lib/global-id';
import type { CustomerRow } from '../profile';
import type { TagRuleRow } from './tags.mappers';
import {
  assignTag, bulkAssignTag, bulkRemoveTag, createTagDefinition, deprecateTagDefinition, listTagDefinitions, mergeTagDefinitions,
  removeTag, renameTagDefinition, updateTagDefinition,
} from './tags.service';
import {
  createTagRule, disableTagRule, enableTagRule, previewTagRule, ruleValueOf, runTagRule, updateTagRule,
} from './tag-rules.service';
import { listRules } from './tag-read.service';

const HISTORY_DEFAULT = 50;
const HISTORY_MAX = 200;
const historyLimit = (first: number | null | undefined) => Math.min(Math.max(first ?? HISTORY_DEFAULT, 0), HISTORY_MAX);

const customersOf = async (ids: string[], ctx: Context): Promise<CustomerRow[]> =>
  (await Promise.all(ids.map((id) => ctx.loaders.customerById.load(id)))).filter((c): c is CustomerRow => c !== null);

const Query: QueryResolvers = {
  tagDefinitions: (_p, { category, status }, ctx) => listTagDefinitions(ctx.db, category ?? null, status ?? null),
  tagRules: (_p, { enabled }, ctx) => listRules(ctx.db, enabled ?? null),
  tagRule: (_p, { id }, ctx) => ctx.loaders.tagRuleById.load(expectGlobalId(id, 'TagRule')),
  previewTagRule: async (_p, { id, input, sampleSize }, ctx) => {
    const r = await previewTagRule(ctx.db, ctx.config, { id, input, sampleSize });
    return {
      ...r,
      gainSample: await customersOf(r.gainSample, ctx),
      loseSample: await customersOf(r.loseSample, ctx),
      changeSample: await customersOf(r.changeSample, ctx),
    };
  },
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
  bulkAssignTag: (_p, { input }, ctx) => bulkAssignTag(ctx.db, ctx.config, ctx.viewer.id, input, ctx.rowScope),
  bulkRemoveTag: (_p, { input }, ctx) => bulkRemoveTag(ctx.db, ctx.config, ctx.viewer.id, input, ctx.rowScope),
  createTagDefinition: (_p, { input }, ctx) => createTagDefinition(ctx.db, input),
  updateTagDefinition: (_p, { input }, ctx) => updateTagDefinition(ctx.db, input),
  renameTagDefinition: (_p, { input }, ctx) => renameTagDefinition(ctx.db, input),
  mergeTagDefinitions: (_p, { input }, ctx) => mergeTagDefinitions(ctx.db, ctx.viewer.id, input),
  deprecateTagDefinition: (_p, { input }, ctx) => deprecateTagDefinition(ctx.db, input),
  createTagRule: (_p, { input }, ctx) => createTagRule(ctx.db, ctx.config, ctx.viewer.id, input),
  updateTagRule: (_p, { input }, ctx) => updateTagRule(ctx.db, ctx.config, input),
  enableTagRule: (_p, { id }, ctx) => enableTagRule(ctx.db, ctx.config, id),
  disableTagRule: (_p, { id, removeAssignments }, ctx) => disableTagRule(ctx.db, id, removeAssignments ?? false),
  runTagRule: (_p, { id }, ctx) => runTagRule(ctx.db, ctx.config, id),
};

const Customer: CustomerResolvers = {
  tags: async (c, { category }, ctx) => {
    const tags = await ctx.loaders.tagsByCustomerId.load(c.id);
    return category ? tags.filter((t) => t.tag.category === category) : tags;
  },
  tagHistory: (c, { tagKey, first }, ctx) => {
    const args = { limit: historyLimit(first), tagKey: tagKey?.trim() || null };
    return ctx.loaders.tagHistoryPage.load({ customerId: c.id, args, argsKey: JSON.stringify(args) });
  },
  lifecycleHistory: (c, { first }, ctx) => {
    const args = { limit: historyLimit(first) };
    return ctx.loaders.lifecycleHistoryPage.load({ customerId: c.id, args, argsKey: JSON.stringify(args) });
  },
};

const ruleOf = async (id: string | null | undefined, ctx: Context): Promise<TagRuleRow | null> => (id ? ctx.loaders.tagRuleById.load(id) : null);

export const tagResolvers: Resolvers = {
  Query,
  Mutation,
  Customer,
  CustomerMetrics: {
    rfm: (m, _a, ctx) => ctx.loaders.rfmByCustomerId.load(m.customerId),
  },
  TagDefinition: {
    id: (t) => toGlobalId('TagDefinition', t.id),
    category: (t) => t.category as TagCategory,
    valueType: (t) => t.valueType as TagValueType,
    cardinality: (t) => t.cardinality as TagCardinality,
    status: (t) => t.status as TagStatus,
    mergedInto: (t, _a, ctx) => (t.mergedInto ? ctx.loaders.tagDefinitionById.load(t.mergedInto) : null),
    customerCount: (t, _a, ctx) => ctx.loaders.tagCustomerCount.load(t.id),
    usedBy: async (t, _a, ctx) => (await ctx.loaders.tagUsagesByTagId.load(t.id))
      .map((u) => ({ relation: u.relation, consumer: { ...u.rule, __typename: 'TagRule' as const } })),
  },
  TagConsumer: {
    __resolveType: (c) => c.__typename ?? 'TagRule',
  },
  CustomerTag: {
    source: (t) => t.source as TagSource,
    confidence: (t) => (t.confidence === null ? null : Number(t.confidence)),
    rule: (t, _a, ctx) => ruleOf(t.ruleId, ctx),
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
    rule: (t, _a, ctx) => ruleOf(t.ruleId, ctx),
    confidence: (t) => (t.confidence == null ? null : Number(t.confidence)),
  },
  LifecycleChange: {
    fromStage: (l) => l.fromStage as LifecycleStage | null,
    toStage: (l) => l.toStage as LifecycleStage,
  },
  Rfm: {
    recency: (r) => r.rScore,
    frequency: (r) => r.fScore,
    monetary: (r) => r.mScore,
    score: (r) => `${r.rScore}${r.fScore}${r.mScore}`,
    segment: (r) => r.segment as RfmSegment,
    orderCount: (r) => r.frequency,
    spent: (r, _a, ctx) => ({ amount: r.monetary, currency: ctx.config.baseCurrency }),
  },
  TagRule: {
    id: (r) => toGlobalId('TagRule', r.id),
    tag: async (r, _a, ctx) => {
      const def = await ctx.loaders.tagDefinitionById.load(r.tagId);
      if (!def) throw internal();
      return def;
    },
    valueFrom: (r) => {
      const v = ruleValueOf(r);
      return v.kind === 'METRIC' ? { metric: v.metric as TagRuleMetric, bands: v.bands } : null;
    },
    confidence: (r) => (r.confidence === null ? null : Number(r.confidence)),
    customerCount: (r, _a, ctx) => ctx.loaders.ruleCustomerCount.load(r.id),
    runs: (r, { first }, ctx) => ctx.loaders.ruleRuns.load({ ruleId: r.id, limit: Math.min(Math.max(first ?? 10, 0), 100) }),
  },
  TagRuleRun: {
    id: (r) => toGlobalId('TagRuleRun', r.id),
    trigger: (r) => r.trigger as TagRuleTrigger,
  },
};
