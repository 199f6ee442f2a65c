import { buildSubgraphSchema } from '@apollo/subgraph';
import { mergeResolvers } from '@graphql-tools/merge';
import { addResolversToSchema } from '@graphql-tools/schema';
import { parse, type GraphQLSchema } from 'graphql';
import type { Context } from '../context';
import { parseGlobalId } from '../lib/global-id';

/**
 * Apollo Federation 2 subgraph: the same SDL and resolvers, plus `Customer @key(fields: "id")`,
 * `_service { sdl }` and `_entities`. A reference is resolved through the request's customer loader
 * (so N references are one statement, and the row scope of API keys applies); shield and privacy are
 * applied afterwards by src/schema.ts exactly as for the plain schema.
 */
export const FEDERATION_TYPEDEFS = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])

extend type Customer @key(fields: "id")
`;

export function buildFederatedBareSchema(typeDefs: string[], resolvers: object[]): GraphQLSchema {
  const schema = buildSubgraphSchema(parse([...typeDefs, FEDERATION_TYPEDEFS].join('\n')));
  // In place: keeps the `_entities` / `_service` resolvers buildSubgraphSchema installed.
  addResolversToSchema({ schema, resolvers: mergeResolvers(resolvers as never), inheritResolversFromInterfaces: true, updateResolversInPlace: true });
  const customer = schema.getType('Customer');
  if (!customer) throw new Error('federation: no Customer type');
  const resolveReference = async (ref: { id?: unknown }, ctx: Context) => {
    const parsed = typeof ref.id === 'string' ? parseGlobalId(ref.id) : null;
    if (parsed?.type !== 'Customer') return null;
    return ctx.loaders.customerById.load(parsed.id);
  };
  const ext = customer.extensions as Record<string, unknown>;
  customer.extensions = { ...ext, apollo: { subgraph: { resolveReference } } } as typeof customer.extensions;
  return schema;
}
