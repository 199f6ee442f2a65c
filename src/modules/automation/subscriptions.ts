import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { RequestAudit } from '../../auth/audit';
import { resolveAuthSettings } from '../../auth/token';
import { authenticate, type Viewer } from '../../auth/viewer';
import type { Config } from '../../config';
import type { Context } from '../../context';
import type { Db } from '../../db/client';
import { createLoaders } from '../../loaders';
import type { Logger } from '../../logger';
import { OutboxFeed } from './outbox-feed';

/** The feed of each database (one per process); resolvers reach it through their context's db. */
const feeds = new WeakMap<object, OutboxFeed>();
export const feedOf = (db: Db): OutboxFeed | undefined => feeds.get(db);

export interface SubscriptionServer { close(): Promise<void> }

/** Roles that may subscribe (users only; API keys get no live feed). */
export const SUBSCRIBER_ROLES = ['ADMIN', 'MARKETER'] as const;

/**
 * graphql-ws on the HTTP server's upgrade requests to /graphql. The connection authenticates once,
 * with the same JWT as HTTP (`connectionParams.authorization: "Bearer <token>"`); unauthenticated
 * connections are closed with 4403. Each operation gets a fresh context (its own loaders).
 */
export function attachSubscriptions(opts: { http: Server; schema: GraphQLSchema; db: Db; config: Config; logger: Logger }): SubscriptionServer {
  const { http, schema, db, config, logger } = opts;
  const auth = resolveAuthSettings(config);
  const feed = new OutboxFeed(db, config.subscriptionPollIntervalMs, config.subscriptionMaxLagMs, logger);
  feeds.set(db, feed);
  const wss = new WebSocketServer({ server: http, path: '/graphql', maxPayload: config.bodyLimitBytes });
  const disposable = useServer<Record<string, unknown>, { viewer: Viewer }>({
    schema,
    isProd: config.nodeEnv === 'production',
    onConnect: async (ctx) => {
      const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
      if (typeof raw !== 'string') return false;
      try {
        ctx.extra.viewer = await authenticate({ authorization: raw, apiKey: undefined }, auth, db);
        return true;
      } catch {
        return false;
      }
    },
    context: (ctx): Context => {
      const viewer = ctx.extra.viewer;
      if (!viewer) throw new Error('subscription context without viewer');
      return {
        viewer, loaders: createLoaders(db), db, config, logger, requestId: randomUUID(),
        deadline: Number.MAX_SAFE_INTEGER, rowScope: undefined, audit: new RequestAudit(),
      };
    },
    onError: (_ctx, _id, _payload, errors) => { logger.warn({ errors: errors.map((e) => e.message) }, 'subscription error'); },
  }, wss);
  return {
    async close() {
      feed.close();
      feeds.delete(db);
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
