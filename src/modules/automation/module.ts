import path from 'node:path';
import { defineModule, type NodeReader } from '../../lib/module';
import { automationResolvers } from './automation.resolvers';
import { automationRules } from './automation.rules';
import { REPO_ROOT } from '../../lib/paths';

const nodeTypes = {
  Webhook: null, // webhooks and their deliveries are ADMIN-only (webhooks, webhookDeliveries)
  WebhookDelivery: null,
} satisfies Record<string, NodeReader>;

declare module '../../lib/global-id' {
  interface NodeTypes extends Record<keyof typeof nodeTypes, true> {}
}

/** What the automation domain contributes (src/lib/module.ts). */
export const automationModule = defineModule({
  name: 'automation',
  sdl: [path.join(REPO_ROOT, 'src/modules/automation/automation.graphql')],
  resolvers: automationResolvers,
  rules: automationRules,
  nodeTypes,
  mappers: { CustomerEvent: 'CustomerEventMapper', Webhook: 'WebhookMapper', WebhookDelivery: 'WebhookDeliveryMapper', WebhookDeliveryEdge: 'WebhookDeliveryEdgeMapper', WebhookDeliveryConnection: 'WebhookDeliveryConnectionMapper' },
});
