import { promises as dns } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { toGlobalId } from '../../src/lib/global-id';
import { createLogger } from '../../src/logger';
import { insertWebhook } from '../../src/modules/automation/automation.repository';
import { WebhookDispatcher } from '../../src/modules/automation/webhook.dispatcher';
import { createSeeder, type Seeder } from '../factories/index';
import { startApp, type TestApp } from '../helpers/app';

/**
 * Webhooks may not target the gateway's own network (SSRF): refused at createWebhook / updateWebhook
 * (userErrors), and again at delivery on the address actually connected to (DNS rebinding, rows stored
 * before the policy). The names are real ones that resolve to this machine: `localhost`, the machine's own
 * host name, and the IPv4 spellings the URL parser folds into 127.0.0.1.
 */
const CREATE = `mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) {
  webhook { id url } userErrors { field message code } } }`;
const UPDATE = `mutation ($input: UpdateWebhookInput!) { updateWebhook(input: $input) {
  webhook { id url } userErrors { field message code } } }`;
interface CreateData { createWebhook: { webhook: { id: string; url: string } | null; userErrors: { field: string[]; message: string; code: string }[] } }

const LOOPBACK_OR_PRIVATE = /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|::1$|f[cd][0-9a-f]{2}:)/i;

const REFUSED = [
  'http://127.0.0.1:4450/hooks', 'http://localhost/hooks', 'http://localhost./hooks', 'http://LOCALHOST:8080/', 'http://api.localhost/',
  'http://[::1]/hooks', 'http://0x7f.1/', 'http://2130706433/', 'http://127.1/', 'http://0/', 'http://[::ffff:127.0.0.1]/',
  'http://10.1.2.3/', 'http://172.16.0.1/', 'http://192.168.1.1/', 'http://100.64.0.1/', 'http://[fc00::1]/', 'http://[fd12:3456::1]/',
  'http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/latest/meta-data/', 'http://[fe80::1]/', 'http://169.254.10.10/',
  'http://224.0.0.1/', 'http://[64:ff9b::7f00:1]/', 'http://[2002:7f00:1::]/',
];

describe('webhook address policy', () => {
  let app: TestApp;
  let seed: Seeder;
  let self: string;
  beforeAll(async () => {
    app = await startApp();
    seed = createSeeder(app.db.db);
    await seed.tagDefinition('ssrf_vip', { category: 'VALUE', valueType: 'BOOLEAN' });
    self = hostname().toLowerCase();
    // The machine's own name resolves to a loopback or private address (/etc/hosts, a container's own address).
    const addresses = await dns.lookup(self, { all: true });
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.map((a) => a.address).filter((a) => !LOOPBACK_OR_PRIVATE.test(a))).toEqual([]);
  });
  afterAll(async () => { await app?.close(); });

  const create = (url: string) => app.gql<CreateData>(CREATE, { input: { url, eventTypes: ['TAG_ADDED'] } });

  it.each(REFUSED)('refuses %s at createWebhook with a userError on the url', async (url) => {
    const res = await create(url);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.createWebhook.webhook).toBeNull();
    expect(res.body.data!.createWebhook.userErrors).toEqual([
      { field: ['input', 'url'], code: 'BAD_USER_INPUT', message: expect.stringMatching(/^url refused: .*(loopback|private|carrier-grade NAT|unique-local|link-local|metadata|unspecified|multicast|non-public).*WEBHOOK_ALLOWED_HOSTS/) },
    ]);
  });

  it('refuses a host name that resolves to this machine (its own name), naming the address', async () => {
    const res = await create(`http://${self}:4450/hooks`);
    expect(res.body.data!.createWebhook.webhook).toBeNull();
    expect(res.body.data!.createWebhook.userErrors[0]?.message).toMatch(new RegExp(`^url refused: ${self} resolves to \\S+, a (loopback|private|unique-local) address`));
  });

  it.each(['file:///etc/passwd', 'gopher://127.0.0.1:6379/_SET', 'ftp://example.com/x', 'ws://example.com/'])('refuses the non-http(s) scheme of %s', async (url) => {
    const res = await create(url);
    expect(res.body.data!.createWebhook.webhook).toBeNull();
    expect(res.body.data!.createWebhook.userErrors.map((e) => [e.field, e.code])).toEqual([[['input', 'url'], 'BAD_USER_INPUT']]);
  });

  it('accepts public receivers, and names that do not resolve yet (checked again at each delivery)', async () => {
    for (const url of ['https://93.184.215.14/hooks', 'http://[2606:4700::6810:84e5]/hooks', 'https://hooks.example.invalid/c360']) {
      const res = await create(url);
      expect(res.body.data!.createWebhook.userErrors).toEqual([]);
      expect(res.body.data!.createWebhook.webhook?.url).toBe(url);
    }
  });

  it('refuses a private url at updateWebhook', async () => {
    const ok = await create('https://93.184.215.14/other');
    const id = ok.body.data!.createWebhook.webhook!.id;
    const res = await app.gql<{ updateWebhook: CreateData['createWebhook'] }>(UPDATE, { input: { id, url: 'http://[::1]:9000/' } });
    expect(res.body.data!.updateWebhook.webhook).toBeNull();
    expect(res.body.data!.updateWebhook.userErrors.map((e) => e.field)).toEqual([['input', 'url']]);
  });

  describe('at delivery time', () => {
    let receiver: Server;
    let port = 0;
    const received: string[] = [];
    beforeAll(async () => {
      // Listen where the machine's own name points, so that a delivery that were let through would arrive.
      const { address } = await dns.lookup(self);
      receiver = createServer((req, res) => { received.push(String(req.headers['idempotency-key'])); res.writeHead(200).end('ok'); });
      await new Promise<void>((resolve) => receiver.listen(0, address, () => resolve()));
      port = (receiver.address() as AddressInfo).port;
    });
    afterAll(async () => { receiver.closeAllConnections(); await new Promise<void>((resolve) => receiver.close(() => resolve())); });

    const base = { dispatchIntervalMs: 0, retryBaseMs: 10, retryMaxMs: 10, maxAttempts: 1, timeoutMs: 3000, batchSize: 50 };
    const deliveriesOf = async (webhookId: string) => {
      const res = await app.gql<{ webhookDeliveries: { edges: { node: { status: string; attempts: number; lastError: string | null; lastStatusCode: number | null } }[] } }>(
        'query ($id: ID!) { webhookDeliveries(webhookId: $id, first: 10) { edges { node { status attempts lastError lastStatusCode } } } }', { id: webhookId });
      expect(res.body.errors).toBeUndefined();
      return res.body.data!.webhookDeliveries.edges.map((e) => e.node);
    };

    it('refuses to connect when the stored host now resolves to an internal address (rebinding), and delivers once the host is allowed', async () => {
      // A webhook stored while its name pointed elsewhere (or before this policy existed): the check at
      // creation cannot help, the one at delivery must.
      const rebound = await insertWebhook(app.db.db, { url: `http://${self}:${port}/hooks`, description: 'rebound', secret: 'whsec_ssrf_0123456789abcdefghij', eventTypes: ['TAG_ADDED'], active: true, createdBy: 'test' });
      const literal = await insertWebhook(app.db.db, { url: `http://127.0.0.1:${port}/hooks`, description: 'literal', secret: 'whsec_ssrf_0123456789abcdefghij', eventTypes: ['TAG_ADDED'], active: true, createdBy: 'test' });
      const c = await seed.customer().create();
      const assigned = await app.gql('mutation ($i: AssignTagInput!) { assignTag(input: $i) { changed } }', { i: { customerId: toGlobalId('Customer', c.id), tagKey: 'ssrf_vip' } });
      expect(assigned.body.errors).toBeUndefined();

      const logger = createLogger(app.config);
      await new WebhookDispatcher(app.db.db, { webhooks: { ...base, allowPrivate: false, allowedHosts: [] } }, logger).drain();
      expect(received).toEqual([]);
      for (const [w, host] of [[rebound, self], [literal, '127.0.0.1']] as const) {
        const [d] = await deliveriesOf(toGlobalId('Webhook', w.id));
        expect(d).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: null });
        expect(d!.lastError).toMatch(new RegExp(`^${host.replace(/\./g, '\\.')} (resolves to \\S+,|is) a (loopback|private|unique-local) address: webhooks go to public addresses only`));
      }

      // The same deliveries, replayed with the host allowed: they arrive (the checked address is the one connected to).
      for (const w of [rebound, literal]) {
        const [d] = (await app.gql<{ webhookDeliveries: { edges: { node: { id: string } }[] } }>(
          'query ($id: ID!) { webhookDeliveries(webhookId: $id, first: 1) { edges { node { id } } } }', { id: toGlobalId('Webhook', w.id) })).body.data!.webhookDeliveries.edges;
        await app.gql('mutation ($id: ID!) { replayWebhookDelivery(id: $id) { delivery { status } } }', { id: d!.node.id });
      }
      await new WebhookDispatcher(app.db.db, { webhooks: { ...base, allowPrivate: false, allowedHosts: [self, '127.0.0.0/8'] } }, logger).drain();
      expect(received).toHaveLength(2);
      expect((await deliveriesOf(toGlobalId('Webhook', rebound.id)))[0]).toMatchObject({ status: 'DELIVERED', lastStatusCode: 200 });
    });
  });
});

describe('webhook address settings', () => {
  const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent' };
  it('reads WEBHOOK_ALLOWED_HOSTS (names, addresses, CIDR ranges) and WEBHOOK_ALLOW_PRIVATE', () => {
    const c = loadConfig({ ...env, WEBHOOK_ALLOWED_HOSTS: 'hooks.internal, 10.0.0.7,192.168.0.0/16,[fd00::1]', WEBHOOK_ALLOW_PRIVATE: 'true' });
    expect(c.webhooks).toMatchObject({ allowPrivate: true, allowedHosts: ['hooks.internal', '10.0.0.7', '192.168.0.0/16', '[fd00::1]'] });
    expect(loadConfig(env).webhooks).toMatchObject({ allowPrivate: false, allowedHosts: [] });
  });
  it('refuses an entry that is not a host, address or range', () => {
    expect(() => loadConfig({ ...env, WEBHOOK_ALLOWED_HOSTS: 'ok.example,http://x/y' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, WEBHOOK_ALLOWED_HOSTS: 'ok.example,http://x/y' })).toThrow(/WEBHOOK_ALLOWED_HOSTS: http:\/\/x\/y is not a host name/);
  });
});

describe('webhook address policy with WEBHOOK_ALLOW_PRIVATE / WEBHOOK_ALLOWED_HOSTS', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_ALLOWED_HOSTS: '169.254.10.10' }); });
  afterAll(async () => { await app?.close(); });
  const create = (url: string) => app.gql<CreateData>(CREATE, { input: { url } });

  it('accepts on-premise receivers (loopback, private, unique-local) and listed hosts', async () => {
    for (const url of ['http://10.1.2.3/hooks', 'http://localhost:8080/hooks', 'http://[fd12:3456::1]/', 'http://169.254.10.10/']) {
      expect((await create(url)).body.data!.createWebhook.userErrors).toEqual([]);
    }
  });

  it('still refuses cloud metadata and other link-local addresses', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'http://[fe80::1]/']) {
      const res = await create(url);
      expect(res.body.data!.createWebhook.webhook).toBeNull();
      expect(res.body.data!.createWebhook.userErrors[0]?.message).toMatch(/metadata|link-local/);
    }
  });
});
