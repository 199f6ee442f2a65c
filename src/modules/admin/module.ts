import path from 'node:path';
import { defineModule, type NodeReader } from '../../lib/module';
import { adminResolvers } from './admin.resolvers';
import { adminRules } from './admin.rules';
import { REPO_ROOT } from '../../lib/paths';

const nodeTypes = {
  ApiKey: null, // keys are listed by apiKeys (ADMIN), not resolvable through node
} satisfies Record<string, NodeReader>;

declare module '../../lib/global-id' {
  interface NodeTypes extends Record<keyof typeof nodeTypes, true> {}
}

/** What the admin domain contributes (src/lib/module.ts). */
export const adminModule = defineModule({
  name: 'admin',
  sdl: [path.join(REPO_ROOT, 'src/modules/admin/admin.graphql')],
  resolvers: adminResolvers,
  rules: adminRules,
  nodeTypes,
  adminFields: ['createApiKey', 'revokeApiKey', 'eraseCustomer', 'exportCustomerData', 'apiKeys', 'auditLog'],
  mappers: { ApiKey: 'ApiKeyMapper', AuditEntry: 'AuditEntryMapper' },
});
