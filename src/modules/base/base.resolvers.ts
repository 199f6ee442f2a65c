import type { NodeResolvers, QueryResolvers, Resolvers, ResolversInterfaceTypes, ResolversTypes } from '../../__generated__/resolvers-types';
import { parseGlobalId } from '../../lib/global-id';
import { scalarResolvers } from '../../lib/scalars';
import type { Context } from '../../context';
import { nodeReaders } from '../index';

/**
 * `node(id)`: any Node by global id through the same loaders as everything else, as its module
 * declares (`nodeTypes`); types declared null are not readable through `node`. Malformed ids are null.
 */
async function loadNode(globalId: string, ctx: Context): Promise<NodeRow | null> {
  const parsed = parseGlobalId(globalId);
  const read = parsed ? nodeReaders().get(parsed.type) : undefined;
  if (!parsed || !read) return null;
  const row = await read(parsed.id, ctx);
  // The reader returns its module's mapper row of that type.
  return row ? (Object.assign(row, { __typename: parsed.type }) as NodeRow) : null;
}

type NodeRow = ResolversInterfaceTypes<ResolversTypes>['Node'];
type NodeTypeName = NonNullable<Awaited<ReturnType<NodeResolvers['__resolveType']>>>;

const Query: QueryResolvers = {
  node: (_p, { id }, ctx) => loadNode(id, ctx),
  viewer: (_p, _a, ctx) => ({ id: ctx.viewer.id, role: ctx.viewer.role, kind: ctx.viewer.kind === 'apiKey' ? 'API_KEY' : 'USER', scopes: [...ctx.viewer.scopes] }),
};

const Node: NodeResolvers = {
  __resolveType: (obj) => {
    const t = (obj as { __typename?: unknown }).__typename;
    if (typeof t === 'string' && nodeReaders().get(t)) return t as NodeTypeName;
    throw new TypeError('node without __typename');
  },
};

export const baseResolvers: Resolvers = { ...scalarResolvers, Query, Node };
