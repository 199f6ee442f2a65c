import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRows } from '../../../src/db/client';
import { toGlobalId } from '../../../src/lib/global-id';
import { createLogger } from '../../../src/logger';
import { backoffMs, WebhookDispatcher } from '../../../src/modules/automation/webhook.dispatcher';
import { verifySignature } from '../../../src/modules/automation/signature';
import { createSeeder, type Seeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

interface Received { key: string; eventId: string; type: string; signatureOk: boolean; status: number; attempt: string }

/** A real HTTP receiver that answers 503 (or drops the connection) while `down`, 200 afterwards. */
function startReceiver(secret: string) {
  const state = { down: true, received: [] as Received[] };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const parsed = JSON.parse(body) as { id: string; type: string };
      const failed = state.down;
      state.received.push({
        key: String(req.headers['idempotency-key']), eventId: parsed.id, type: parsed.type, status: failed ? 503 : 200,
        signatureOk: verifySignature(secret, req.headers['x-c360-signature'] as string | undefined, body),
        attempt: String(req.headers['x-c360-delivery-attempt']),
      });
      if (failed && state.received.length % 3 === 0) { req.socket.destroy(); return; }
      res.writeHead(failed ? 503 : 200).end(failed ? 'maintenance' : 'ok');
    });
  });
  return {
    state,
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`))),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs = 45_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const SECRET = 'whsec_test_0123456789abcdefghijklmnop';
const CREATE = `mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) {
  webhook { id url eventTypes active } secret userErrors { field message code } } }`;
const DELIVERIES = `query ($id: ID!, $status: WebhookDeliveryStatus) { webhookDeliveries(webhookId: $id, status: $status, first: 100) {
  edges { node { id idempotencyKey status attempts lastStatusCode lastError event { id type customerId tagKey } } } } }`;
interface DeliveryShape { id: string; idempotencyKey: string; status: string; attempts: number; lastStatusCode: number | null; lastError: string | null; event: { id: string; type: string; customerId: string; tagKey: string | null } }

describe('webhooks', () => {
  let app: TestApp;
  let seed: Seeder;
  const receiver = startReceiver(SECRET);
  let url: string;
  const dispatchers: WebhookDispatcher[] = [];
  // The receivers listen on 127.0.0.1: allowed explicitly (webhooks go to public addresses only by default).
  const dispatcherConfig = { webhooks: { dispatchIntervalMs: 50, retryBaseMs: 60, retryMaxMs: 300, maxAttempts: 100, timeoutMs: 3000, batchSize: 5, allowPrivate: false, allowedHosts: ['127.0.0.1'] } };

  beforeAll(async () => {
    app = await startApp({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
    seed = createSeeder(app.db.db);
    await seed.tagDefinition('vip', { category: 'VALUE', valueType: 'BOOLEAN' });
    await seed.tagDefinition('colour', { category: 'INTEREST', valueType: 'TEXT' });
    url = await receiver.listen();
  }, 240_000);
  afterAll(async () => {
    await Promise.all(dispatchers.map((d) => d.stop()));
    await receiver.close();
    await app?.close();
  });

  const deliveries = async (webhookId: string, status?: string) => {
    const res = await app.gql<{ webhookDeliveries: { edges: { node: DeliveryShape }[] } }>(DELIVERIES, { id: webhookId, status });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.webhookDeliveries.edges.map((e) => e.node);
  };

  it('validates registrations and is for ADMIN only', async () => {
    const bad = await app.gql<{ createWebhook: { webhook: null; userErrors: { field: string[] }[] } }>(CREATE, { input: { url: 'ftp://example.com/x', secret: 'short' } });
    expect(bad.body.data!.createWebhook.userErrors.map((e) => e.field)).toEqual([['input', 'url'], ['input', 'secret']]);
    const marketer = await app.gql(CREATE, { input: { url } }, { role: 'MARKETER' });
    expect(marketer.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const list = await app.gql('{ webhooks { id } }', undefined, { role: 'MARKETER' });
    expect(list.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const generated = await app.gql<{ createWebhook: { secret: string; webhook: { id: string } } }>(CREATE, { input: { url, active: false } });
    expect(generated.body.data!.createWebhook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{40,}$/);
    const del = await app.gql<{ deleteWebhook: { deletedId: string } }>('mutation ($id: ID!) { deleteWebhook(id: $id) { deletedId userErrors { message } } }',
      { id: generated.body.data!.createWebhook.webhook.id });
    expect(del.body.data!.deleteWebhook.deletedId).toBe(generated.body.data!.createWebhook.webhook.id);
  });

  it('loses nothing while the receiver is down, delivers each event once per key with a valid signature, then replays', async () => {
    const created = await app.gql<{ createWebhook: { webhook: { id: string; eventTypes: string[] }; secret: string } }>(
      CREATE, { input: { url, secret: SECRET, eventTypes: ['TAG_ADDED', 'TAG_REMOVED'], description: 'CRM journeys' } });
    expect(created.body.errors).toBeUndefined();
    const webhookId = created.body.data!.createWebhook.webhook.id;
    expect(created.body.data!.createWebhook.secret).toBe(SECRET);
    const since = new Date(Date.now() - 1000);

    const customers = await Promise.all(Array.from({ length: 6 }, () => seed.customer().create()));
    for (const c of customers) {
      const id = toGlobalId('Customer', c.id);
      await app.gql('mutation ($i: AssignTagInput!) { assignTag(input: $i) { changed } }', { i: { customerId: id, tagKey: 'vip' } });
      await app.gql('mutation ($i: AssignTagInput!) { assignTag(input: $i) { changed } }', { i: { customerId: id, tagKey: 'colour', value: 'red' } });
      // TAG_CHANGED is not subscribed: no delivery.
      await app.gql('mutation ($i: AssignTagInput!) { assignTag(input: $i) { changed } }', { i: { customerId: id, tagKey: 'colour', value: 'blue' } });
    }
    await app.gql('mutation ($i: RemoveTagInput!) { removeTag(input: $i) { removed } }', { i: { customerId: toGlobalId('Customer', customers[0]!.id), tagKey: 'vip' } });
    const expectedEvents = await execRows<{ id: string }>(app.db.db, sql`
      SELECT id FROM automation_events WHERE type IN ('TAG_ADDED', 'TAG_REMOVED') AND customer_id = ANY(${sql.param(customers.map((c) => c.id))}::uuid[])`);
    expect(expectedEvents).toHaveLength(13);

    // Two dispatchers, as two gateway instances would run them.
    const logger = createLogger(app.config);
    dispatchers.push(new WebhookDispatcher(app.db.db, dispatcherConfig, logger), new WebhookDispatcher(app.db.db, dispatcherConfig, logger));
    dispatchers.forEach((d) => d.start());
    await waitFor(() => receiver.state.received.length >= 40);
    expect(receiver.state.received.every((r) => r.status === 503)).toBe(true);
    receiver.state.down = false;
    await waitFor(async () => (await deliveries(webhookId, 'PENDING')).length === 0);

    const accepted = receiver.state.received.filter((r) => r.status === 200);
    const keys = accepted.map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(accepted.map((r) => r.eventId).sort()).toEqual(expectedEvents.map((e) => e.id).sort());
    expect(receiver.state.received.every((r) => r.signatureOk)).toBe(true);
    expect(accepted.some((r) => Number(r.attempt) > 1)).toBe(true);

    const log = await deliveries(webhookId);
    expect(log).toHaveLength(13);
    expect(log.every((d) => d.status === 'DELIVERED' && d.lastStatusCode === 200 && d.lastError === null)).toBe(true);
    expect(log.map((d) => d.idempotencyKey).sort()).toEqual([...keys].sort());
    expect(new Set(log.map((d) => d.event.type))).toEqual(new Set(['TAG_ADDED', 'TAG_REMOVED']));
    const attemptsLogged = await execRows<{ n: number }>(app.db.db, sql`SELECT count(*)::int AS n FROM webhook_delivery_attempts`);
    expect(attemptsLogged[0]!.n).toBe(receiver.state.received.length);

    // Replay one delivery: the same Idempotency-Key again, so the receiver can recognize it.
    const one = log[0]!;
    const before = receiver.state.received.length;
    const replay = await app.gql<{ replayWebhookDelivery: { delivery: { status: string; idempotencyKey: string } } }>(
      'mutation ($id: ID!) { replayWebhookDelivery(id: $id) { delivery { status idempotencyKey } userErrors { message } } }', { id: one.id });
    expect(replay.body.data!.replayWebhookDelivery.delivery).toEqual({ status: 'PENDING', idempotencyKey: one.idempotencyKey });
    await waitFor(() => receiver.state.received.length === before + 1);
    await waitFor(async () => (await deliveries(webhookId, 'PENDING')).length === 0);
    expect(receiver.state.received.at(-1)).toMatchObject({ key: one.idempotencyKey, eventId: one.event.id, status: 200, signatureOk: true });

    // Replay everything since a time: every matching event once more, each under its own key.
    const mark = receiver.state.received.length;
    const all = await app.gql<{ replayWebhookEvents: { queued: number } }>(
      'mutation ($id: ID!, $since: DateTime!) { replayWebhookEvents(webhookId: $id, since: $since) { queued userErrors { message } } }', { id: webhookId, since: since.toISOString() });
    expect(all.body.data!.replayWebhookEvents.queued).toBe(13);
    await waitFor(() => receiver.state.received.length === mark + 13);
    await waitFor(async () => (await deliveries(webhookId, 'PENDING')).length === 0);
    expect(receiver.state.received.slice(mark).map((r) => r.key).sort()).toEqual([...keys].sort());
    await Promise.all(dispatchers.map((x) => x.stop()));
  });

  it('gives up after the maximum attempts (FAILED) and replay queues it again', async () => {
    const dead = createServer();
    const deadUrl = await new Promise<string>((resolve) => dead.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(dead.address() as AddressInfo).port}/`)));
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const created = await app.gql<{ createWebhook: { webhook: { id: string } } }>(CREATE, { input: { url: deadUrl, eventTypes: ['TAG_ADDED'] } });
    const webhookId = created.body.data!.createWebhook.webhook.id;
    const c = await seed.customer().create();
    await app.gql('mutation ($i: AssignTagInput!) { assignTag(input: $i) { changed } }', { i: { customerId: toGlobalId('Customer', c.id), tagKey: 'vip' } });
    const d = new WebhookDispatcher(app.db.db, { webhooks: { ...dispatcherConfig.webhooks, maxAttempts: 2, retryBaseMs: 10, retryMaxMs: 10 } }, createLogger(app.config));
    await waitFor(async () => { await d.drain(); return (await deliveries(webhookId, 'FAILED')).length === 1; });
    const [failed] = await deliveries(webhookId, 'FAILED');
    expect(failed).toMatchObject({ attempts: 2, lastStatusCode: null, event: { type: 'TAG_ADDED', customerId: toGlobalId('Customer', c.id) } });
    expect(failed!.lastError).toBeTruthy();
    const replay = await app.gql<{ replayWebhookDelivery: { delivery: { status: string; attempts: number } } }>(
      'mutation ($id: ID!) { replayWebhookDelivery(id: $id) { delivery { status attempts } } }', { id: failed!.id });
    expect(replay.body.data!.replayWebhookDelivery.delivery).toEqual({ status: 'PENDING', attempts: 0 });
    await app.gql('mutation ($id: ID!) { deleteWebhook(id: $id) { deletedId } }', { id: webhookId });
  });

  it('backs off exponentially within the configured bounds', () => {
    expect([1, 2, 3, 4, 10].map((a) => backoffMs(a, 1000, 60_000, () => 1))).toEqual([1000, 2000, 4000, 8000, 60_000]);
    expect(backoffMs(3, 1000, 60_000, () => 0)).toBe(2000);
  });
});
