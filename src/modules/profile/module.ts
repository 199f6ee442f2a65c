import path from 'node:path';
import type { SQL } from 'drizzle-orm';
import type { Context } from '../../context';
import type { Db } from '../../db/client';
import type { Loaders, LoadersOf } from '../../loaders';
import { defineModule, type NodeReader } from '../../lib/module';
import { createCustomer360Loader } from './customer360.service';
import { profileLoaders, profileRelations } from './profile.loaders';
import { profileFilters } from './profile.filters';
import { profileResolvers } from './profile.resolvers';
import { profileRules, profilePrivacy } from './profile.rules';
import { REPO_ROOT } from '../../lib/paths';

const loaders = {
  ...profileLoaders,
  customer360: (db: Db, rowScope: SQL | undefined, self: Loaders) => createCustomer360Loader(db, rowScope, () => self),
};

const nodeTypes = {
  Customer: (id: string, ctx: Context): Promise<object | null> => ctx.loaders.customerById.load(id),
} satisfies Record<string, NodeReader>;

declare module '../../loaders' {
  interface Loaders extends LoadersOf<typeof loaders> {}
}
declare module '../../lib/global-id' {
  interface NodeTypes extends Record<keyof typeof nodeTypes, true> {}
}

/** What the profile domain contributes (src/lib/module.ts). */
export const profileModule = defineModule({
  name: 'profile',
  sdl: [path.join(REPO_ROOT, 'src/modules/profile/profile.graphql')],
  resolvers: profileResolvers,
  rules: profileRules,
  privacy: profilePrivacy,
  loaders,
  relations: profileRelations,
  filters: profileFilters,
  nodeTypes,
  mappers: { Customer: 'CustomerMapper', CustomerEdge: 'CustomerEdgeMapper', CustomerConnection: 'CustomerConnectionMapper', Consent: 'ConsentMapper', ConsentRecord: 'ConsentMapper' },
});
