import type {
  ConsentStatus, CustomerResolvers, Gender, LifecycleStage, MutationResolvers, QueryResolvers, Resolvers,
} from '../../__generated__/resolvers-types';
import { notFound } from '../../errors';
import { expectGlobalId, toGlobalId } from '../../lib/global-id';
import { rootConnection } from '../../lib/pagination';
import { connectionSelection } from '../../lib/selection';
import { loadCustomer360, prefetchCustomerRelations } from './customer360.service';
import { explainCustomerFilter, listCustomers, recordConsent, upsertCustomer } from './profile.service';
import { afterCustomerWrite } from '../tags';
import { PROFILING_PURPOSE } from '../tags';
import { afterProfilingDecision } from '../tags';

const Query: QueryResolvers = {
  customer: async (_p, { id }, ctx, info) => {
    const row = await loadCustomer360(ctx, info, expectGlobalId(id, 'Customer'));
    if (!row) throw notFound('Customer');
    return row;
  },
  customerByExternalId: (_p, { source, externalId }, ctx) =>
    ctx.loaders.customerByExternalId.load({ source, externalId: externalId.trim() }),
  explainCustomerFilter: (_p, { filter }, ctx) => explainCustomerFilter(ctx.db, ctx.config, filter, ctx.rowScope),
  customers: (_p, args, ctx, info) => rootConnection(info, async () => {
    const page = await listCustomers(ctx.db, ctx.config, { ...args, ...connectionSelection(info), rowScope: ctx.rowScope });
    await prefetchCustomerRelations(ctx, info, ['edges', 'node'], page.edges.map((e) => e.node.id));
    return page;
  }),
};

const Mutation: MutationResolvers = {
  upsertCustomer: async (_p, { input }, ctx) => {
    const r = await upsertCustomer(ctx.db, ctx.config, input);
    if (r.customer) {
      ctx.audit.noteAction('WRITE', r.customer.id, ['upsertCustomer']);
      // An explicit lifecycleStage is an override: only the rules follow, not the derived stage.
      await afterCustomerWrite(ctx.db, ctx.config, [r.customer.id], { lifecycle: input.lifecycleStage == null });
    }
    return r;
  },
  recordConsent: async (_p, { input }, ctx) => {
    const r = await recordConsent(ctx.db, input);
    if (r.customerId) ctx.audit.noteAction('WRITE', r.customerId, ['recordConsent']);
    // An objection to profiling removes derived tags, scores and dynamic memberships at once; a grant re-runs the rules.
    if (r.customerId && input.purpose.trim() === PROFILING_PURPOSE) await afterProfilingDecision(ctx.db, ctx.config, r.customerId);
    return { customer: r.customerId ? await ctx.loaders.customerById.load(r.customerId) : null, userErrors: r.userErrors };
  },
};

// Enum-typed columns are text in the database, constrained by CHECKs to the SDL's values.
const Customer: CustomerResolvers = {
  id: (c) => toGlobalId('Customer', c.id),
  externalIds: async (c, _a, ctx) =>
    // customerId rides along (not in the schema) so the audit knows whose identifier was read.
    (await ctx.loaders.identitiesByCustomerId.load(c.id)).map(({ customerId, source, externalId }) => ({ customerId, source, externalId })),
  phone: (c) => c.phoneE164 ?? c.phone,
  gender: (c) => c.gender as Gender | null,
  lifecycleStage: (c) => c.lifecycleStage as LifecycleStage,
  address: (c) =>
    c.addressLine1 || c.addressLine2 || c.city || c.region || c.postalCode || c.country
      ? { line1: c.addressLine1, line2: c.addressLine2, city: c.city, region: c.region, postalCode: c.postalCode, country: c.country }
      : null,
  consents: (c, _a, ctx) => ctx.loaders.consentsByCustomerId.load(c.id),
  consentHistory: async (c, { purpose }, ctx) => {
    const all = await ctx.loaders.consentHistoryByCustomerId.load(c.id);
    return purpose ? all.filter((r) => r.purpose === purpose) : all;
  },
};


export const profileResolvers: Resolvers = {
  Query,
  Mutation,
  Customer,
  Consent: { status: (c) => c.status as ConsentStatus },
  ConsentRecord: { status: (c) => c.status as ConsentStatus },
};
