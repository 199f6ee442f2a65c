import type { AuditAction, MutationResolvers, QueryResolvers, Resolvers, Role } from '../../__generated__/resolvers-types';
import type { GraphQLSchema } from 'graphql';
import { privacyPolicy } from '../../schema';
import { allowListableFields, resolvePrivacyHashKey } from '../../auth/privacy';
import { badUserInput, notFound, userError } from '../../errors';
import { expectGlobalId, toGlobalId, tryGlobalId } from '../../lib/global-id';
import { auditLogFor, eraseCustomer, exportCustomerData } from './gdpr.service';
import { createApiKey, listApiKeys, revokeApiKey } from './admin.service';

const Query: QueryResolvers = {
  apiKeys: (_p, _a, ctx) => listApiKeys(ctx.db),
  auditLog: (_p, { customerId, from, to, first }, ctx) => {
    const limit = first ?? 100;
    if (limit < 1 || limit > 1000) throw badUserInput('first must be between 1 and 1000', 'first');
    return auditLogFor(ctx.db, expectGlobalId(customerId, 'Customer'), from ?? null, to ?? null, limit);
  },
  exportCustomerData: async (_p, { id }, ctx) => {
    const customerId = expectGlobalId(id, 'Customer');
    const data = await exportCustomerData(ctx.db, customerId);
    if (data === null) throw notFound('Customer');
    ctx.audit.noteAction('ADMIN', customerId, ['exportCustomerData']);
    return { generatedAt: new Date(), data };
  },
};

const Mutation: MutationResolvers = {
  createApiKey: async (_p, { input }, ctx, info) => {
    const { created, userErrors } = await createApiKey(ctx.db, ctx.viewer.id, input, piiFieldNames(info.schema));
    return { apiKey: created?.apiKey ?? null, secret: created?.secret ?? null, userErrors };
  },
  eraseCustomer: async (_p, { input }, ctx) => {
    const id = tryGlobalId(input.customerId, 'Customer');
    const reason = input.reason.trim();
    if (!id) return { erased: false, userErrors: [userError(['input', 'customerId'], 'customerId is not a valid Customer id')] };
    if (!reason) return { erased: false, userErrors: [userError(['input', 'reason'], 'give the reason (e.g. the request ticket)')] };
    const result = await eraseCustomer(ctx.db, resolvePrivacyHashKey(ctx.config), id, ctx.viewer.id, reason);
    if (result === 'erased') ctx.audit.noteAction('ADMIN', id, ['eraseCustomer']);
    if (result === 'not-found') return { erased: false, userErrors: [userError(['input', 'customerId'], 'customer not found', 'NOT_FOUND')] };
    return { erased: result === 'erased', userErrors: [] };
  },
  revokeApiKey: async (_p, { id }, ctx) => {
    const keyId = tryGlobalId(id, 'ApiKey');
    const row = keyId ? await revokeApiKey(ctx.db, keyId) : null;
    return row ? { apiKey: row, userErrors: [] } : { apiKey: null, userErrors: [userError(['id'], 'no such API key', 'NOT_FOUND')] };
  },
};

/** Names an allow-list may use: the schema's @pii fields, except those never shown to partners. */
const piiFieldNames = (schema: GraphQLSchema): ReadonlySet<string> => allowListableFields(schema, privacyPolicy());

export const adminResolvers: Resolvers = {
  Query,
  Mutation,
  ApiKey: {
    id: (k) => toGlobalId('ApiKey', k.id),
    role: (k) => k.role as Role,
    segmentIds: (k) => k.segmentIds?.map((id) => toGlobalId('Segment', id)) ?? null,
  },
  AuditEntry: {
    action: (e) => e.action as AuditAction,
    actorKind: (e) => (e.actorKind === 'apiKey' ? 'API_KEY' : 'USER'),
    role: (e) => e.role as Role,
  },
};
