import path from 'node:path';
import { defineModule } from '../../lib/module';
import { baseResolvers } from './base.resolvers';
import { baseRules } from './base.rules';
import { REPO_ROOT } from '../../lib/paths';

/** What the base domain contributes (src/lib/module.ts). */
export const baseModule = defineModule({
  name: 'base',
  sdl: [path.join(REPO_ROOT, 'src/modules/base/base.graphql')],
  resolvers: baseResolvers,
  rules: baseRules,
});
