import type {
  CustomerEventType, MutationResolvers, QueryResolvers, Resolvers, SubscriptionResolvers, WebhookDeliveryStatus,
} from '../../__generated__/resolvers-types';
import { toGlobalId } from '../../lib/global-id';
import { rootConnection } from '../../lib/pagination';
import type { CustomerEventRow } from './automation.mappers';
import {
  createWebhook, deleteWebhook, listDeliveries, listWebhooks, replayDelivery, replayEventsSince, subscribeToEvents, updateWebhook,
} from './automation.service';
import { eventView } from './event-view';

const Query: QueryResolvers = {
  webhooks: (_p, _a, ctx) => listWebhooks(ctx.db),
  webhookDeliveries: (_p, { webhookId, status, first, after }, ctx, info) => rootConnection(info, () => listDeliveries(ctx.db, webhookId, status, first, after)),
};

const Mutation: MutationResolvers = {
  createWebhook: (_p, { input }, ctx) => createWebhook(ctx.db, ctx.viewer.id, input, ctx.config.webhooks),
  updateWebhook: (_p, { input }, ctx) => updateWebhook(ctx.db, input, ctx.config.webhooks),
  deleteWebhook: (_p, { id }, ctx) => deleteWebhook(ctx.db, id),
  replayWebhookDelivery: (_p, { id }, ctx) => replayDelivery(ctx.db, id),
  replayWebhookEvents: (_p, { webhookId, since }, ctx) => replayEventsSince(ctx.db, webhookId, since),
};

const Subscription: SubscriptionResolvers = {
  customerEvents: {
    subscribe: (_p, { types }, ctx) => subscribeToEvents(ctx, types),
    resolve: (event: CustomerEventRow) => event,
  },
};

export const automationResolvers: Resolvers = {
  Query,
  Mutation,
  Subscription,
  CustomerEvent: {
    customerId: (e) => eventView(e).customerId,
    tagKey: (e) => eventView(e).tagKey,
    tagCategory: (e) => eventView(e).tagCategory,
    value: (e) => eventView(e).value,
    previousValue: (e) => eventView(e).previousValue,
    source: (e) => eventView(e).source,
    segmentId: (e) => eventView(e).segmentId,
    segmentName: (e) => eventView(e).segmentName,
    segmentVersion: (e) => eventView(e).segmentVersion,
  },
  Webhook: {
    id: (w) => toGlobalId('Webhook', w.id),
    eventTypes: (w) => w.eventTypes as CustomerEventType[],
  },
  WebhookDelivery: {
    id: (d) => toGlobalId('WebhookDelivery', d.id),
    idempotencyKey: (d) => d.id,
    status: (d) => d.status as WebhookDeliveryStatus,
    nextAttemptAt: (d) => (d.status === 'PENDING' ? d.nextAttemptAt : null),
  },
};
