import path from 'node:path';
import { defineModule, type NodeReader } from '../../lib/module';
import type { LoadersOf } from '../../loaders';
import { segmentLoaders } from './segments.loaders';
import { segmentFilters } from './segments.filters';
import { segmentResolvers } from './segments.resolvers';
import { segmentRules } from './segments.rules';
import { REPO_ROOT } from '../../lib/paths';

const loaders = segmentLoaders;

const nodeTypes = {
  Segment: null, // read through segment(id) (ADMIN, MARKETER, ANALYST); node is open to more roles
} satisfies Record<string, NodeReader>;

declare module '../../loaders' {
  interface Loaders extends LoadersOf<typeof loaders> {}
}
declare module '../../lib/global-id' {
  interface NodeTypes extends Record<keyof typeof nodeTypes, true> {}
}

/** What the segments domain contributes (src/lib/module.ts). */
export const segmentsModule = defineModule({
  name: 'segments',
  sdl: [path.join(REPO_ROOT, 'src/modules/segments/segments.graphql')],
  resolvers: segmentResolvers,
  rules: segmentRules,
  loaders,
  filters: segmentFilters,
  nodeTypes,
  mappers: { Segment: 'SegmentMapper', SegmentEdge: 'SegmentEdgeMapper', SegmentConnection: 'SegmentConnectionMapper', SegmentMembershipChange: 'SegmentMembershipChangeMapper', SegmentMembershipChangeEdge: 'SegmentMembershipChangeEdgeMapper', SegmentMembershipChangeConnection: 'SegmentMembershipChangeConnectionMapper' },
});
