import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { buildRuleTree, permissionsFor } from './auth/permissions';
import { can, isAuthenticated, READERS, reachable } from './auth/rules';
import { privacyMiddleware } from './auth/privacy';
import { adminResolvers } from './modules/admin/admin.resolvers';
import { analyticsResolvers } from './modules/analytics/analytics.resolvers';
import { baseResolvers } from './modules/base/base.resolvers';
import { commerceResolvers } from './modules/commerce/commerce.resolvers';
import { ingestResolvers } from './modules/ingest/ingest.resolvers';
import { profileResolvers } from './modules/profile/profile.resolvers';
import { serviceResolvers } from './modules/service/service.resolvers';
import { tagResolvers } from './modules/tags/tags.resolvers';
import { segmentResolvers } from './modules/segments/segments.resolvers';
import { automationResolvers } from './modules/automation/automation.resolvers';
import { buildFederatedBareSchema } from './ops/federation';
import { REPO_ROOT } from './lib/paths';

export const SCHEMA_DIR = path.join(REPO_ROOT, 'schema');

/** base.graphql first, then every domain's SDL (each `extend type Customer`). */
export function loadTypeDefs(): string[] {
  const files = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.graphql')).sort((a, b) =>
    (a === 'base.graphql' ? -1 : b === 'base.graphql' ? 1 : a.localeCompare(b)));
  return files.map((f) => readFileSync(path.join(SCHEMA_DIR, f), 'utf8'));
}

const RESOLVERS = [baseResolvers, profileResolvers, tagResolvers, commerceResolvers, serviceResolvers, analyticsResolvers, adminResolvers, segmentResolvers, automationResolvers, ingestResolvers];

/**
 * The executable schema without authorization (tests of the rule tree and the privacy-off benchmark).
 * `federation`: the same schema as an Apollo Federation 2 subgraph (src/ops/federation.ts).
 */
export function buildBareSchema(opts: { federation?: boolean } = {}): GraphQLSchema {
  if (opts.federation) return buildFederatedBareSchema(loadTypeDefs(), RESOLVERS);
  return makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers: RESOLVERS, inheritResolversFromInterfaces: true });
}

/**
 * Shield rules of the federation fields: `_entities` reads customers, so it needs what
 * `Query.customer` needs (references are resolved through the same row-scoped loader, and every
 * Customer field keeps its own rule and privacy policy); `_service` (the SDL, for composition) needs
 * an authenticated viewer.
 */
function federationRuleTree() {
  const tree = buildRuleTree();
  const query = tree.Query;
  if (!query || typeof query !== 'object' || 'resolve' in query) throw new Error('shield: Query must have per-field rules');
  return { ...tree, Query: { ...query, _entities: can(READERS, 'customers:read'), _service: isAuthenticated }, _Service: reachable };
}

/**
 * The served schema: resolvers, the shield tree (deny by default) outside, and the field privacy
 * policy (mask / hash / null / deny per role) around the resolvers of @pii fields.
 * `privacy: false` exists for the benchmark that measures what privacy costs.
 */
export function buildSchema(opts: { hashKey: string; shield?: boolean; privacy?: boolean; federation?: boolean }): GraphQLSchema {
  const bare = buildBareSchema({ federation: opts.federation });
  // Both produce (resolve, parent, args, ctx, info) field middleware; authorization runs outermost.
  const layers = [
    ...(opts.shield === false ? [] : [permissionsFor(bare, opts.federation ? federationRuleTree() : undefined)]),
    ...(opts.privacy === false ? [] : [privacyMiddleware(bare, opts.hashKey)]),
  ] as unknown as MiddlewareMap[];
  return applyFieldMiddleware(bare, layers);
}

type FieldMiddlewareFn = (resolve: GraphQLFieldResolver<unknown, unknown>, ...rest: Parameters<GraphQLFieldResolver<unknown, unknown>>) => unknown;
type MiddlewareMap = Record<string, Record<string, FieldMiddlewareFn | { resolve: FieldMiddlewareFn }>>;

/**
 * Wraps the resolvers of the fields named in each map, in place; the first map is outermost (as in
 * graphql-middleware's applyMiddleware). graphql-middleware itself rebuilds the schema in a way that
 * halved throughput even with an empty map (measured on the full 360 query: 343 -> 194 req/s); fields
 * without middleware must keep graphql-js's plain execution path.
 */
function applyFieldMiddleware(schema: GraphQLSchema, maps: MiddlewareMap[]): GraphQLSchema {
  for (const map of [...maps].reverse()) {
    for (const [typeName, fields] of Object.entries(map)) {
      const type = schema.getType(typeName);
      if (!isObjectType(type)) throw new Error(`middleware for unknown type ${typeName}`);
      const defs = type.getFields();
      for (const [fieldName, mw] of Object.entries(fields)) {
        const field = defs[fieldName];
        if (!field) throw new Error(`middleware for unknown field ${typeName}.${fieldName}`);
        const fn = typeof mw === 'function' ? mw : mw.resolve;
        const inner = field.resolve ?? defaultFieldResolver;
        field.resolve = (parent, args, ctx, info) => fn(inner, parent, args, ctx, info);
      }
    }
  }
  return schema;
}
