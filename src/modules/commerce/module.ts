import path from 'node:path';
import type { Context } from '../../context';
import { defineModule, type NodeReader } from '../../lib/module';
import type { LoadersOf } from '../../loaders';
import { commerceLoaders, commerceRelations } from './commerce.loaders';
import { commerceFilters } from './commerce.filters';
import { commerceResolvers } from './commerce.resolvers';
import { commerceRules } from './commerce.rules';
import { REPO_ROOT } from '../../lib/paths';

const loaders = commerceLoaders;

const nodeTypes = {
  Transaction: (id: string, ctx: Context): Promise<object | null> => ctx.loaders.transactionById.load(id),
} satisfies Record<string, NodeReader>;

declare module '../../loaders' {
  interface Loaders extends LoadersOf<typeof loaders> {}
}
declare module '../../lib/global-id' {
  interface NodeTypes extends Record<keyof typeof nodeTypes, true> {}
}

/** What the commerce domain contributes (src/lib/module.ts). */
export const commerceModule = defineModule({
  name: 'commerce',
  sdl: [path.join(REPO_ROOT, 'src/modules/commerce/commerce.graphql')],
  resolvers: commerceResolvers,
  rules: commerceRules,
  loaders,
  relations: commerceRelations,
  filters: commerceFilters,
  nodeTypes,
  mappers: { Transaction: 'TransactionMapper', TransactionItem: 'TransactionItemMapper', TransactionEdge: 'TransactionEdgeMapper', TransactionConnection: 'TransactionConnectionMapper' },
});
