/**
 * What the automation domain offers the rest of the gateway. Other code imports this file, never the
 * domain's repositories or other files (an ESLint rule holds it); the registry reads module.ts.
 */
export { attachSubscriptions } from './subscriptions';
export { WebhookDispatcher } from './webhook.dispatcher';
export { startBackgroundJobs } from './workers';
