import path from 'node:path';
import { defineModule } from '../../lib/module';
import type { LoadersOf } from '../../loaders';
import { ingestLoaders } from './ingest.loaders';
import { ingestFilters } from './ingest.filters';
import { ingestResolvers } from './ingest.resolvers';
import { ingestRules } from './ingest.rules';
import { REPO_ROOT } from '../../lib/paths';

const loaders = ingestLoaders;

declare module '../../loaders' {
  interface Loaders extends LoadersOf<typeof loaders> {}
}

/** What the ingest domain contributes (src/lib/module.ts). */
export const ingestModule = defineModule({
  name: 'ingest',
  sdl: [path.join(REPO_ROOT, 'src/modules/ingest/ingest.graphql')],
  resolvers: ingestResolvers,
  rules: ingestRules,
  loaders,
  filters: ingestFilters,
  mappers: { CustomerMerge: 'CustomerMergeMapper', DuplicateCandidate: 'DuplicateCandidateMapper', MergePreview: 'MergePreviewMapper', FieldSource: 'FieldSourceMapper', MergeCustomersPayload: 'MergeCustomersPayloadMapper', UnmergeCustomersPayload: 'UnmergeCustomersPayloadMapper' },
});
