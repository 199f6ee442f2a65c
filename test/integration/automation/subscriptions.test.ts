import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { toGlobalId } from '../../../src/lib/global-id';
import { createSeeder, type Seeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

interface EventShape { type: string; customerId: string; tagKey: string | null; value: string | null; segmentName: string | null }
const SUB = 'subscription ($types: [CustomerEventType!]) { customerEvents(types: $types) { id type customerId tagKey value segmentName } }';

describe('customerEvents subscription (graphql-ws)', () => {
  let app: TestApp;
  let seed: Seeder;
  const clients: Client[] = [];
  beforeAll(async () => {
    app = await startApp({ SUBSCRIPTION_POLL_INTERVAL_MS: '50', SUBSCRIPTION_MAX_LAG_MS: '300' });
    seed = createSeeder(app.db.db);
    await seed.tagDefinition('vip', { category: 'VALUE', valueType: 'BOOLEAN' });
  }, 240_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await app?.close();
  });

  const client = (authorization: string | null) => {
    const c = createClient({
      url: app.url.replace('http://', 'ws://'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true,
      connectionParams: authorization ? { authorization } : {},
    });
    clients.push(c);
    return c;
  };

  /** Collects events of one subscription; resolves `ready` once the server has accepted it. */
  const subscribe = (c: Client, variables: Record<string, unknown>) => {
    const events: EventShape[] = [];
    const errors: unknown[] = [];
    let ended = false;
    const it = c.iterate<{ customerEvents: EventShape }>({ query: SUB, variables });
    const done = (async () => {
      try {
        for await (const r of it) {
          if (r.errors) errors.push(...r.errors);
          if (r.data) events.push(r.data.customerEvents);
        }
      } catch (e) { errors.push(e); }
      ended = true;
    })();
    return { events, errors, done, isEnded: () => ended, stop: () => it.return?.() };
  };

  const waitFor = async (cond: () => boolean, timeoutMs = 20_000) => {
    const until = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > until) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  it('streams a tag event committed after subscribing, filtered by type, to a MARKETER', async () => {
    const c = client(`Bearer ${await app.token('MARKETER')}`);
    const added = subscribe(c, { types: ['TAG_ADDED'] });
    const all = subscribe(c, {});
    // The subscription is live once the server has read its feed position; give it a moment.
    await new Promise((r) => setTimeout(r, 500));
    const customer = await seed.customer().create();
    const id = toGlobalId('Customer', customer.id);
    await app.gql('mutation ($i: AssignTagInput!) { assignTag(input: $i) { changed } }', { i: { customerId: id, tagKey: 'vip' } });
    await app.gql('mutation ($i: RemoveTagInput!) { removeTag(input: $i) { removed } }', { i: { customerId: id, tagKey: 'vip' } });
    await waitFor(() => all.events.length >= 2);
    await waitFor(() => added.events.length >= 1);
    expect(added.errors).toEqual([]);
    expect(added.events).toEqual([{ id: expect.any(String), type: 'TAG_ADDED', customerId: id, tagKey: 'vip', value: null, segmentName: null }]);
    expect(all.events.map((e) => e.type)).toEqual(['TAG_ADDED', 'TAG_REMOVED']);
    await added.stop();
    await all.stop();
  });

  it('refuses connections without a valid token, and AGENT subscriptions', async () => {
    const anonymous = subscribe(client(null), {});
    await anonymous.done;
    expect(anonymous.events).toEqual([]);
    expect(String((anonymous.errors[0] as { code?: number; reason?: string }).code ?? anonymous.errors[0])).toMatch(/4403|Forbidden/);

    const forged = subscribe(client('Bearer not-a-jwt'), {});
    await forged.done;
    expect(forged.errors).toHaveLength(1);

    const agent = subscribe(client(`Bearer ${await app.token('AGENT')}`), {});
    await agent.done;
    expect(agent.events).toEqual([]);
    expect(agent.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/ADMIN and MARKETER/) })]);
  });
});
