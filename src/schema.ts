import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { Resolvers } from './__generated__/resolvers-types';
import { buildRuleTree, permissionsFor, type RuleTree } from './auth/permissions';
import { can, isAuthenticated, READERS, reachable } from './auth/rules';
import { buildPrivacyPolicy, privacyMiddleware, type PrivacyPolicy } from './auth/privacy';
import { modules } from './modules/index';

export { auditedAdminFields } from './modules/index';
import { buildFederatedBareSchema } from './ops/federation';

/**
 * Every module's SDL files: the first module's (the base: Node, scalars, directives) first, the
 * others by file name, so that the schema's type order does not depend on the registry's order.
 */
export function sdlFiles(): string[] {
  const [first, ...rest] = modules.map((m) => m.sdl);
  return [...(first ?? []), ...rest.flat().sort((a, b) => path.basename(a).localeCompare(path.basename(b)))];
}

/** The SDL of every module (each domain's `extend type Customer` etc.). */
export function loadTypeDefs(): string[] {
  return sdlFiles().map((f) => readFileSync(f, 'utf8'));
}

/** Every module's resolvers (read when a schema is built: modules import this file too). */
const resolvers = (): Resolvers[] => modules.flatMap((m) => ('resolvers' in m ? [m.resolvers] : []));

/** The shield tree: the union of every module's rule fragment. */
export const ruleTree = (): RuleTree => buildRuleTree(modules.flatMap((m) => ('rules' in m ? [m.rules] : [])));

/** The privacy table: the union of every module's policy rows. */
export const privacyPolicy = (): PrivacyPolicy => buildPrivacyPolicy(modules.flatMap((m) => ('privacy' in m ? [m.privacy] : [])));

/**
 * The executable schema without authorization (tests of the rule tree and the privacy-off benchmark).
 * `federation`: the same schema as an Apollo Federation 2 subgraph (src/ops/federation.ts).
 */
export function buildBareSchema(opts: { federation?: boolean } = {}): GraphQLSchema {
  if (opts.federation) return buildFederatedBareSchema(loadTypeDefs(), resolvers());
  return makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers: resolvers(), inheritResolversFromInterfaces: true });
}

/**
 * Shield rules of the federation fields: `_entities` reads customers, so it needs what
 * `Query.customer` needs (references are resolved through the same row-scoped loader, and every
 * Customer field keeps its own rule and privacy policy); `_service` (the SDL, for composition) needs
 * an authenticated viewer.
 */
function federationRuleTree() {
  const tree = ruleTree();
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
    ...(opts.shield === false ? [] : [permissionsFor(bare, opts.federation ? federationRuleTree() : ruleTree())]),
    ...(opts.privacy === false ? [] : [privacyMiddleware(bare, opts.hashKey, privacyPolicy())]),
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
