import type {
  CustomerMergeResolvers, CustomerResolvers, DuplicateCandidateResolvers, DuplicateReason, FieldSourceResolvers, MergeCustomersPayloadResolvers,
  MergePreviewResolvers, MutationResolvers, QueryResolvers, Resolvers, SurvivorshipRule, UnmergeCustomersPayloadResolvers,
} from '../../__generated__/resolvers-types';
import { toGlobalId } from '../../lib/global-id';
import type { Context } from '../../context';
import type { CustomerRow } from '../profile';
import { duplicateCandidates, mergeCustomers, previewMerge, toMergeId, unmergeCustomers } from './merge.service';
import { customerQuality } from './quality';

const actor = (ctx: Context) => `${ctx.viewer.kind}:${ctx.viewer.id}`;
const load = async (ctx: Context, ids: readonly string[]): Promise<CustomerRow[]> =>
  (await ctx.loaders.customerById.loadMany(ids)).filter((c): c is CustomerRow => c !== null && !(c instanceof Error));

const Query: QueryResolvers = {
  duplicateCandidates: (_p, args, ctx) => duplicateCandidates(ctx.db, ctx.config, args),
  previewMerge: async (_p, { survivorId, mergedIds }, ctx) => {
    const { plan, userErrors } = await previewMerge(ctx.db, ctx.config, survivorId, mergedIds);
    return {
      survivorId: plan?.survivor.id ?? null, mergedIds: plan?.merged.map((m) => m.id) ?? [], result: plan?.result ?? null,
      fieldSources: (plan?.sources ?? []).map((s) => ({ customerId: plan!.survivor.id, field: s.field, source: s.source, updatedAt: new Date(s.updatedAt), rule: s.rule })),
      userErrors,
    };
  },
};

const Mutation: MutationResolvers = {
  mergeCustomers: async (_p, { input }, ctx) => {
    const r = await mergeCustomers(ctx.db, ctx.config, input.survivorId, input.mergedIds, actor(ctx));
    if (r.survivorId) ctx.audit.noteAction('WRITE', r.survivorId, ['mergeCustomers']);
    return r;
  },
  unmergeCustomers: async (_p, { mergeId }, ctx) => {
    const r = await unmergeCustomers(ctx.db, mergeId, actor(ctx));
    for (const id of r.customerIds) ctx.audit.noteAction('WRITE', id, ['unmergeCustomers']);
    return r;
  },
};

const Customer: CustomerResolvers = {
  fieldSources: (c, _a, ctx) => ctx.loaders.fieldSourcesByCustomerId.load(c.id),
  quality: (c, _a, ctx) => customerQuality(c, ctx.config.ingest.blockedValues),
};

const FieldSource: FieldSourceResolvers = { rule: (f) => f.rule as SurvivorshipRule };

const DuplicateCandidate: DuplicateCandidateResolvers = {
  customers: (d, _a, ctx) => load(ctx, d.customerIds),
  reasons: (d) => d.reasons as DuplicateReason[],
};

const MergePreview: MergePreviewResolvers = {
  survivor: (p, _a, ctx) => (p.survivorId ? ctx.loaders.customerById.load(p.survivorId) : null),
  merged: (p, _a, ctx) => load(ctx, p.mergedIds),
  result: (p) => p.result,
};

const CustomerMerge: CustomerMergeResolvers = {
  id: (m) => toMergeId(m.id),
  survivor: (m, _a, ctx) => ctx.loaders.customerById.load(m.survivorId),
  mergedCustomerIds: (m) => m.mergedIds.map((id) => toGlobalId('Customer', id)),
};

const MergeCustomersPayload: MergeCustomersPayloadResolvers = {
  merge: (p, _a, ctx) => (p.mergeId ? ctx.loaders.mergeById.load(p.mergeId) : null),
  customer: (p, _a, ctx) => (p.survivorId ? ctx.loaders.customerById.load(p.survivorId) : null),
};

const UnmergeCustomersPayload: UnmergeCustomersPayloadResolvers = {
  customers: (p, _a, ctx) => load(ctx, p.customerIds),
};

export const ingestResolvers: Resolvers = {
  Query, Mutation, Customer, FieldSource, DuplicateCandidate, MergePreview, CustomerMerge, MergeCustomersPayload, UnmergeCustomersPayload,
};
