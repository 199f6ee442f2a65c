import type { NodeResolvers, QueryResolvers, Resolvers } from '../../__generated__/resolvers-types';
import { parseGlobalId, type NodeType } from '../../lib/global-id';
import { scalarResolvers } from '../../lib/scalars';
import type { Context } from '../../context';

/** `node(id)`: any Node by global id through the same loaders as everything else. Malformed ids are null. */
async function loadNode(globalId: string, ctx: Context) {
  const parsed = parseGlobalId(globalId);
  if (!parsed) return null;
  const tag = <T extends object>(row: T | null, type: NodeType) => (row ? Object.assign(row, { __typename: type }) : null);
  switch (parsed.type) {
    case 'Customer': return tag(await ctx.loaders.customerById.load(parsed.id), 'Customer');
    case 'Transaction': return tag(await ctx.loaders.transactionById.load(parsed.id), 'Transaction');
    case 'Interaction': return tag(await ctx.loaders.interactionById.load(parsed.id), 'Interaction');
    case 'TagDefinition': return tag(await ctx.loaders.tagDefinitionById.load(parsed.id), 'TagDefinition');
    // TagChange ids are opaque but not Node-resolvable: a change is read through its customer.
    case 'TagChange': return null;
    // Keys are listed by apiKeys (ADMIN), not resolvable through node.
    case 'ApiKey': return null;
    // Rules are for ADMIN and MARKETER (tagRule, tagRules); node is open to every reader.
    case 'TagRule': return null;
    case 'TagRuleRun': return null;
    // Segments are read through `segment(id)` (ADMIN, MARKETER, ANALYST); `node` is open to more roles.
    case 'Segment': return null;
    // Webhooks and their deliveries are ADMIN-only (`webhooks`, `webhookDeliveries`).
    case 'Webhook': return null;
    case 'WebhookDelivery': return null;
  }
}

const Query: QueryResolvers = {
  node: (_p, { id }, ctx) => loadNode(id, ctx),
  viewer: (_p, _a, ctx) => ({ id: ctx.viewer.id, role: ctx.viewer.role, kind: ctx.viewer.kind === 'apiKey' ? 'API_KEY' : 'USER', scopes: [...ctx.viewer.scopes] }),
};

const Node: NodeResolvers = {
  __resolveType: (obj) => {
    const t = (obj as { __typename?: unknown }).__typename;
    if (t === 'Customer' || t === 'Transaction' || t === 'Interaction' || t === 'TagDefinition') return t;
    throw new TypeError('node without __typename');
  },
};

export const baseResolvers: Resolvers = { ...scalarResolvers, Query, Node };
