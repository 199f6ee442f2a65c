import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../../db/client';
import { userError, type UserError } from '../../errors';
import { tryGlobalId } from '../../lib/global-id';
import { normalizeCountry } from '../../lib/normalize';
import { segmentsByIds } from '../segments';
import type { CreateApiKeyInput, Role } from '../../__generated__/resolvers-types';
import type { ApiKeyRow } from './admin.mappers';
import * as repo from './admin.repository';

/** Scopes a key can carry. Users are governed by their role; keys by role AND scopes. */
export const SCOPES = [
  'customers:read', 'transactions:read', 'interactions:read', 'tags:read', 'tags:write', 'consents:read', 'aggregates:read',
] as const;
export type Scope = (typeof SCOPES)[number];

const KEY_FORMAT = /^c360_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;
export const looksLikeApiKey = (s: string): boolean => s.startsWith('c360_');

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

export interface CreatedKey { apiKey: ApiKeyRow; secret: string }

export async function createApiKey(
  db: Db, createdBy: string, input: CreateApiKeyInput, validFieldNames: ReadonlySet<string>,
): Promise<{ created: CreatedKey | null; userErrors: UserError[] }> {
  const errors: UserError[] = [];
  const role: Role = input.role ?? 'PARTNER';
  const name = input.name.trim();
  if (!name || name.length > 200) errors.push(userError(['input', 'name'], 'name must be 1-200 characters'));
  const unknownScopes = input.scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknownScopes.length) errors.push(userError(['input', 'scopes'], `unknown scopes: ${unknownScopes.join(', ')} (known: ${SCOPES.join(', ')})`));
  if (!input.scopes.length) errors.push(userError(['input', 'scopes'], 'grant at least one scope'));
  const fields = input.fieldAllowList ?? [];
  const unknownFields = fields.filter((f) => !validFieldNames.has(f));
  if (unknownFields.length) errors.push(userError(['input', 'fieldAllowList'], `not personal-data fields: ${unknownFields.join(', ')}`));
  const purpose = input.purpose?.trim() || null;
  if (role === 'PARTNER' && !purpose) errors.push(userError(['input', 'purpose'], 'a PARTNER key needs the consent purpose its customers must have granted'));
  const countries = input.countries?.map((c) => normalizeCountry(c));
  if (countries?.some((c) => c === null)) errors.push(userError(['input', 'countries'], 'countries must be ISO 3166-1 alpha-2 codes'));
  const segmentIds = input.segmentIds == null ? null : await checkSegmentIds(db, input.segmentIds, errors);
  if (input.rateLimitPerMinute != null && (input.rateLimitPerMinute < 1 || input.rateLimitPerMinute > 1_000_000)) {
    errors.push(userError(['input', 'rateLimitPerMinute'], 'rateLimitPerMinute must be between 1 and 1000000'));
  }
  if (input.rateLimitBurst != null && (!Number.isInteger(input.rateLimitBurst) || input.rateLimitBurst < 1 || input.rateLimitBurst > 100_000)) {
    errors.push(userError(['input', 'rateLimitBurst'], 'rateLimitBurst must be between 1 and 100000'));
  }
  if (input.maxCost != null && input.maxCost < 1) errors.push(userError(['input', 'maxCost'], 'maxCost must be positive'));
  const days = input.expiresInDays ?? 90;
  if (!Number.isInteger(days) || days < 1 || days > 730) errors.push(userError(['input', 'expiresInDays'], 'expiresInDays must be between 1 and 730'));
  if (errors.length) return { created: null, userErrors: errors };

  const prefix = randomBytes(8).toString('hex').slice(0, 10);
  const secret = `c360_${prefix}_${randomBytes(32).toString('base64url')}`;
  const apiKey = await repo.insertApiKey(db, {
    name, prefix, secretHash: hashSecret(secret), role, scopes: [...new Set(input.scopes)], fieldAllowList: [...new Set(fields)],
    purpose, countries: countries ? (countries as string[]) : null, segmentIds, rateLimitPerMinute: input.rateLimitPerMinute ?? null,
    rateLimitBurst: input.rateLimitBurst ?? null,
    maxCost: input.maxCost ?? null, persistedOnly: input.persistedOnly ?? false, expiresAt: new Date(Date.now() + days * 86_400_000), createdBy,
  });
  return { created: { apiKey, secret }, userErrors: [] };
}

export const MAX_KEY_SEGMENTS = 100;

/**
 * Segment restriction of a new key: Segment global ids of active segments, deduplicated. An unknown
 * or archived segment is refused (an archived one has no members: the key would see nobody), and so
 * is an empty list (omit it for no restriction). Problems go to `errors`, one per offending id (its position in `field`).
 */
async function checkSegmentIds(db: Db, given: readonly string[], errors: UserError[]): Promise<string[]> {
  const field = ['input', 'segmentIds'];
  if (!given.length) { errors.push(userError(field, 'give at least one segment, or omit segmentIds for no segment restriction')); return []; }
  if (given.length > MAX_KEY_SEGMENTS) { errors.push(userError(field, `at most ${MAX_KEY_SEGMENTS} segments per key`)); return []; }
  const ids = given.map((g) => tryGlobalId(g, 'Segment'));
  ids.forEach((id, i) => { if (!id) errors.push(userError([...field, String(i)], 'not a valid Segment id')); });
  const unique = [...new Set(ids.filter((id): id is string => id !== null))];
  const found = new Map((await segmentsByIds(db, unique)).map((s) => [s.id, s]));
  ids.forEach((id, i) => {
    if (!id) return;
    const seg = found.get(id);
    if (!seg) errors.push(userError([...field, String(i)], 'no such segment', 'NOT_FOUND'));
    else if (seg.archivedAt) errors.push(userError([...field, String(i)], `segment "${seg.name}" is archived (it has no members)`));
  });
  return unique;
}

/**
 * The key row for a presented secret, or a reason it is refused. The hash comparison is
 * constant-time; unknown prefixes and wrong secrets give the same answer.
 */
export async function verifyApiKey(db: Db, presented: string): Promise<{ key: ApiKeyRow } | { refused: string }> {
  const m = KEY_FORMAT.exec(presented);
  if (!m) return { refused: 'Invalid API key' };
  const key = await repo.apiKeyByPrefix(db, m[1]!);
  const expected = Buffer.from(key?.secretHash ?? '0'.repeat(64), 'hex');
  const ok = timingSafeEqual(expected, Buffer.from(hashSecret(presented), 'hex'));
  if (!key || !ok) return { refused: 'Invalid API key' };
  if (key.revokedAt) return { refused: 'API key revoked' };
  if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) return { refused: 'API key expired' };
  // Best effort; a failed bookkeeping write must not fail the request.
  repo.touchApiKey(db, key.id).catch(() => {});
  return { key };
}

export const listApiKeys = repo.listApiKeys;
export const revokeApiKey = repo.revokeApiKey;
export const revokeApiKeyByPrefix = repo.revokeApiKeyByPrefix;
