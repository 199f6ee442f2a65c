import path from 'node:path';
import { defineModule } from '../../lib/module';
import { contactabilityResolvers } from './contactability.resolvers';
import { contactabilityRules } from './contactability.rules';
import { REPO_ROOT } from '../../lib/paths';

/** What the contactability domain contributes (src/lib/module.ts): `Customer.contactable(channel)`. */
export const contactabilityModule = defineModule({
  name: 'contactability',
  sdl: [path.join(REPO_ROOT, 'src/modules/contactability/contactability.graphql')],
  resolvers: contactabilityResolvers,
  rules: contactabilityRules,
});
