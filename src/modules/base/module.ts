import path from 'node:path';
import { defineModule } from '../../lib/module';
import { baseResolvers } from './base.resolvers';
import { baseRules } from './base.rules';

/** What the base domain contributes (src/lib/module.ts). */
export const baseModule = defineModule({
  name: 'base',
  sdl: [path.join(import.meta.dirname, 'base.graphql')],
  resolvers: baseResolvers,
  rules: baseRules,
});
