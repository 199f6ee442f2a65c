import { hasRole, reachable } from '../../auth/rules';
import type { RuleTree } from '../../auth/permissions';

/** Webhooks hold signing secrets and reach out to the network: ADMIN users only. Live events: ADMIN, MARKETER. */
const admin = hasRole('ADMIN');

export const automationRules: RuleTree = {
  Query: { webhooks: admin, webhookDeliveries: admin },
  Mutation: { createWebhook: admin, updateWebhook: admin, deleteWebhook: admin, replayWebhookDelivery: admin, replayWebhookEvents: admin },
  Subscription: { customerEvents: hasRole('ADMIN', 'MARKETER') },
  CustomerEvent: reachable,
  Webhook: reachable,
  WebhookDelivery: reachable,
  WebhookDeliveryConnection: reachable,
  WebhookDeliveryEdge: reachable,
  WebhookPayload: reachable,
  DeleteWebhookPayload: reachable,
  ReplayWebhookDeliveryPayload: reachable,
  ReplayWebhookEventsPayload: reachable,
};
