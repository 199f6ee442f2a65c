import path from 'node:path';
import type { Context } from '../../context';
import { defineModule, type NodeReader } from '../../lib/module';
import type { LoadersOf } from '../../loaders';
import { serviceLoaders, serviceRelations } from './service.loaders';
import { serviceFilters } from './service.filters';
import { serviceResolvers } from './service.resolvers';
import { serviceRules, servicePrivacy } from './service.rules';
import { REPO_ROOT } from '../../lib/paths';

const loaders = serviceLoaders;

const nodeTypes = {
  Interaction: (id: string, ctx: Context): Promise<object | null> => ctx.loaders.interactionById.load(id),
} satisfies Record<string, NodeReader>;

declare module '../../loaders' {
  interface Loaders extends LoadersOf<typeof loaders> {}
}
declare module '../../lib/global-id' {
  interface NodeTypes extends Record<keyof typeof nodeTypes, true> {}
}

/** What the service domain contributes (src/lib/module.ts). */
export const serviceModule = defineModule({
  name: 'service',
  sdl: [path.join(REPO_ROOT, 'src/modules/service/service.graphql')],
  resolvers: serviceResolvers,
  rules: serviceRules,
  privacy: servicePrivacy,
  loaders,
  relations: serviceRelations,
  filters: serviceFilters,
  nodeTypes,
  mappers: { Interaction: 'InteractionMapper', InteractionEdge: 'InteractionEdgeMapper', InteractionConnection: 'InteractionConnectionMapper' },
});
