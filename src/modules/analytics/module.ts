import path from 'node:path';
import { defineModule } from '../../lib/module';
import type { LoadersOf } from '../../loaders';
import { analyticsLoaders, analyticsRelations } from './analytics.loaders';
import { analyticsResolvers } from './analytics.resolvers';
import { analyticsRules } from './analytics.rules';
import { REPO_ROOT } from '../../lib/paths';

const loaders = analyticsLoaders;

declare module '../../loaders' {
  interface Loaders extends LoadersOf<typeof loaders> {}
}

/** What the analytics domain contributes (src/lib/module.ts). */
export const analyticsModule = defineModule({
  name: 'analytics',
  sdl: [path.join(REPO_ROOT, 'src/modules/analytics/analytics.graphql')],
  resolvers: analyticsResolvers,
  rules: analyticsRules,
  loaders,
  relations: analyticsRelations,
  mappers: { CustomerMetrics: 'CustomerMetricsMapper', TimelineEdge: 'TimelineEdgeMapper', TimelineConnection: 'TimelineConnectionMapper' },
});
