import path from 'node:path';
import type { Context } from '../../context';
import { defineModule, type NodeReader } from '../../lib/module';
import type { LoadersOf } from '../../loaders';
import { tagLoaders, tagRelations } from './tags.loaders';
import { tagFilters } from './tags.filters';
import { tagResolvers } from './tags.resolvers';
import { tagRules, tagPrivacy } from './tags.rules';
import { REPO_ROOT } from '../../lib/paths';

const loaders = tagLoaders;

const nodeTypes = {
  TagDefinition: (id: string, ctx: Context): Promise<object | null> => ctx.loaders.tagDefinitionById.load(id),
  TagChange: null, // opaque but not Node-resolvable: a change is read through its customer
  TagRule: null, // rules are for ADMIN and MARKETER (tagRule, tagRules); node is open to every reader
  TagRuleRun: null,
} satisfies Record<string, NodeReader>;

declare module '../../loaders' {
  interface Loaders extends LoadersOf<typeof loaders> {}
}
declare module '../../lib/global-id' {
  interface NodeTypes extends Record<keyof typeof nodeTypes, true> {}
}

/** What the tags domain contributes (src/lib/module.ts). */
export const tagsModule = defineModule({
  name: 'tags',
  sdl: [path.join(REPO_ROOT, 'src/modules/tags/tags.graphql')],
  resolvers: tagResolvers,
  rules: tagRules,
  privacy: tagPrivacy,
  loaders,
  relations: tagRelations,
  filters: tagFilters,
  nodeTypes,
  mappers: { TagDefinition: 'TagDefinitionMapper', CustomerTag: 'CustomerTagMapper', TagChange: 'TagChangeMapper', TagRule: 'TagRuleMapper', TagRuleRun: 'TagRuleRunMapper', Rfm: 'RfmMapper', LifecycleChange: 'LifecycleChangeMapper' },
});
