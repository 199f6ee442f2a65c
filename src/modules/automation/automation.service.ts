import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/client';
import { badUserInput, forbidden, serviceUnavailable, userError, type UserError } from '../../errors';
import { tryGlobalId } from '../../lib/global-id';
import { cursorScope, timePage, toConnection, type Connection } from '../../lib/pagination';
import type { Context } from '../../context';
import type { CreateWebhookInput, UpdateWebhookInput, WebhookDeliveryStatus } from '../../__generated__/resolvers-types';
import type { CustomerEventRow, CustomerEventType, WebhookDeliveryRow, WebhookRow } from './automation.mappers';
import * as repo from './automation.repository';
import { feedOf, SUBSCRIBER_ROLES } from './subscriptions';
import { refusedTarget, type WebhookAddressPolicy } from './webhook-address';

export interface WebhookResult { webhook: WebhookRow | null; secret: string | null; userErrors: UserError[] }

const MIN_SECRET = 24;
const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

/** The receiver URL: http(s), no credentials, and an address the policy allows (src/modules/automation/webhook-address.ts). */
async function cleanUrl(url: string, policy: WebhookAddressPolicy, errors: UserError[]): Promise<string> {
  const u = url.trim();
  let parsed: URL | null = null;
  try { parsed = new URL(u); } catch { /* reported below */ }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || u.length > 2000) {
    errors.push(userError(['input', 'url'], 'url must be an http(s) URL of at most 2000 characters'));
  } else if (parsed.username || parsed.password) {
    errors.push(userError(['input', 'url'], 'url must not carry credentials; deliveries are authenticated by their signature'));
  } else {
    const refused = await refusedTarget(parsed, policy);
    if (refused) errors.push(userError(['input', 'url'], `url refused: ${refused}`));
  }
  return u;
}

function cleanDescription(d: string | null | undefined, errors: UserError[]): string | undefined {
  if (d == null) return undefined;
  if (d.length > 500) errors.push(userError(['input', 'description'], 'description must be at most 500 characters'));
  return d.trim();
}

export const listWebhooks = (db: Db) => repo.listWebhooks(db);

export async function createWebhook(db: Db, actor: string, input: CreateWebhookInput, policy: WebhookAddressPolicy): Promise<WebhookResult> {
  const errors: UserError[] = [];
  const url = await cleanUrl(input.url, policy, errors);
  const description = cleanDescription(input.description, errors) ?? '';
  if (input.secret != null && (input.secret.length < MIN_SECRET || input.secret.length > 200)) {
    errors.push(userError(['input', 'secret'], `secret must be ${MIN_SECRET}-200 characters`));
  }
  if (errors.length) return { webhook: null, secret: null, userErrors: errors };
  const secret = input.secret ?? newSecret();
  const webhook = await repo.insertWebhook(db, { url, description, secret, eventTypes: [...new Set(input.eventTypes ?? [])], active: input.active ?? true, createdBy: actor });
  return { webhook, secret, userErrors: [] };
}

export async function updateWebhook(db: Db, input: UpdateWebhookInput, policy: WebhookAddressPolicy): Promise<WebhookResult> {
  const errors: UserError[] = [];
  const id = tryGlobalId(input.id, 'Webhook');
  if (!id) return { webhook: null, secret: null, userErrors: [userError(['input', 'id'], 'id is not a valid Webhook id')] };
  const url = input.url == null ? undefined : await cleanUrl(input.url, policy, errors);
  const description = cleanDescription(input.description, errors);
  if (errors.length) return { webhook: null, secret: null, userErrors: errors };
  const secret = input.rotateSecret ? newSecret() : undefined;
  const webhook = await repo.updateWebhook(db, id, {
    url, description, secret, eventTypes: input.eventTypes == null ? undefined : [...new Set(input.eventTypes)], active: input.active ?? undefined,
  });
  if (!webhook) return { webhook: null, secret: null, userErrors: [userError(['input', 'id'], 'webhook not found', 'NOT_FOUND')] };
  return { webhook, secret: secret ?? null, userErrors: [] };
}

export async function deleteWebhook(db: Db, globalId: string): Promise<{ deletedId: string | null; userErrors: UserError[] }> {
  const id = tryGlobalId(globalId, 'Webhook');
  if (!id) return { deletedId: null, userErrors: [userError(['id'], 'id is not a valid Webhook id')] };
  if (!await repo.deleteWebhook(db, id)) return { deletedId: null, userErrors: [userError(['id'], 'webhook not found', 'NOT_FOUND')] };
  return { deletedId: globalId, userErrors: [] };
}

export async function listDeliveries(db: Db, webhookGlobalId: string, status: WebhookDeliveryStatus | null | undefined, first: number | null | undefined, after: string | null | undefined): Promise<Omit<Connection<WebhookDeliveryRow>, 'totalCount'>> {
  const id = tryGlobalId(webhookGlobalId, 'Webhook');
  if (!id) throw badUserInput('webhookId is not a valid Webhook id', 'webhookId');
  const page = timePage(cursorScope('webhookDeliveries', id, { status: status ?? null }), first, after);
  const rows = await repo.listDeliveries(db, id, status ?? null, page.after, page.fetch);
  const { totalCount: _t, ...conn } = toConnection(rows, page.limit, after, (r) => page.cursorOf({ occurredKey: r.createdKey, id: r.id }), 0);
  return conn;
}

export async function replayDelivery(db: Db, globalId: string): Promise<{ delivery: WebhookDeliveryRow | null; userErrors: UserError[] }> {
  const id = tryGlobalId(globalId, 'WebhookDelivery');
  if (!id) return { delivery: null, userErrors: [userError(['id'], 'id is not a valid WebhookDelivery id')] };
  if (!await repo.requeueDelivery(db, id)) return { delivery: null, userErrors: [userError(['id'], 'delivery not found', 'NOT_FOUND')] };
  return { delivery: await repo.deliveryById(db, id), userErrors: [] };
}

export async function replayEventsSince(db: Db, webhookGlobalId: string, since: Date): Promise<{ queued: number; userErrors: UserError[] }> {
  const id = tryGlobalId(webhookGlobalId, 'Webhook');
  if (!id) return { queued: 0, userErrors: [userError(['webhookId'], 'webhookId is not a valid Webhook id')] };
  if (since.getTime() > Date.now()) return { queued: 0, userErrors: [userError(['since'], 'since is in the future')] };
  const webhook = await repo.webhookById(db, id);
  if (!webhook) return { queued: 0, userErrors: [userError(['webhookId'], 'webhook not found', 'NOT_FOUND')] };
  return { queued: await repo.requeueEventsSince(db, webhook, since), userErrors: [] };
}

/**
 * Subscription source. The shield wraps only `resolve` (run per event), so the role is checked here
 * too, before anything is streamed.
 */
export async function subscribeToEvents(ctx: Context, types: readonly CustomerEventType[] | null | undefined): Promise<AsyncIterableIterator<CustomerEventRow>> {
  const v = ctx.viewer;
  if (v?.kind !== 'user' || !(SUBSCRIBER_ROLES as readonly string[]).includes(v.role)) throw forbidden('customerEvents is for ADMIN and MARKETER users');
  const feed = feedOf(ctx.db);
  if (!feed) throw serviceUnavailable('subscriptions are not available on this instance');
  return feed.subscribe(types);
}
