import { webcrypto } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import type { CustomerFilter, Role } from '../__generated__/resolvers-types';
import type { Db } from '../db/client';
import { looksLikeApiKey, verifyApiKey } from '../modules/admin/admin.service';
import { unauthenticated } from '../errors';

/** Roles a JWT can carry. PARTNER exists only as an API key. */
export const ROLES = ['ADMIN', 'AGENT', 'MARKETER', 'ANALYST'] as const satisfies readonly Role[];
const roleSet: ReadonlySet<string> = new Set(ROLES);

/** Who is calling. Authentication makes one; authorization reads it (shield rules and policy tables only). */
export type Viewer =
  | { kind: 'user'; id: string; role: Role; scopes: readonly string[] }
  | {
    kind: 'apiKey'; id: string; role: Role; name: string; scopes: readonly string[];
    fieldAllowList: ReadonlySet<string>; purpose: string | null; countries: readonly string[] | null;
    rateLimitPerMinute: number | null; maxCost: number | null;
    /** Accepts only persisted operations (manifest or registered APQ hashes). */
    persistedOnly: boolean;
  };

export interface AuthSettings { secret: Uint8Array; issuer: string; audience: string }

/**
 * jose imports a raw Uint8Array secret into WebCrypto on every call; import it once per secret
 * (measured: the per-request import was a visible share of CPU under load).
 */
const importedKeys = new WeakMap<Uint8Array, Promise<webcrypto.CryptoKey>>();
function verificationKey(secret: Uint8Array): Promise<webcrypto.CryptoKey> {
  let key = importedKeys.get(secret);
  if (!key) {
    key = webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    importedKeys.set(secret, key);
  }
  return key;
}

/**
 * `X-Api-Key: <key>`, `Authorization: Bearer <key>` or `Authorization: Bearer <JWT>` -> Viewer, or
 * `UNAUTHENTICATED` with no detail that helps forgers.
 */
export async function authenticate(headers: { authorization?: string; apiKey?: string }, auth: AuthSettings, db: Db): Promise<Viewer> {
  if (headers.apiKey) return authenticateKey(headers.apiKey.trim(), db);
  const authorization = headers.authorization;
  if (!authorization) throw unauthenticated('Missing Authorization header (expected "Bearer <token>") or X-Api-Key');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m?.[1]) throw unauthenticated('Authorization header must be "Bearer <token>"');
  if (looksLikeApiKey(m[1])) return authenticateKey(m[1], db);
  try {
    const { payload } = await jwtVerify(m[1], await verificationKey(auth.secret), {
      issuer: auth.issuer,
      audience: auth.audience,
      algorithms: ['HS256'],
      requiredClaims: ['sub', 'exp'],
    });
    const role = payload.role;
    if (typeof role !== 'string' || !roleSet.has(role)) throw unauthenticated('Token has no valid role claim');
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw unauthenticated('Token has no subject');
    return { kind: 'user', id: payload.sub, role: role as Role, scopes: [] };
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) throw unauthenticated('Token expired');
    if (e instanceof joseErrors.JOSEError) throw unauthenticated('Invalid token');
    throw e;
  }
}

async function authenticateKey(presented: string, db: Db): Promise<Viewer> {
  const result = await verifyApiKey(db, presented);
  if ('refused' in result) throw unauthenticated(result.refused);
  const k = result.key;
  return {
    kind: 'apiKey', id: k.id, role: k.role as Role, name: k.name, scopes: k.scopes, fieldAllowList: new Set(k.fieldAllowList),
    purpose: k.purpose, countries: k.countries, rateLimitPerMinute: k.rateLimitPerMinute, maxCost: k.maxCost,
    persistedOnly: k.persistedOnly,
  };
}

/**
 * Row scope of a viewer as a CustomerFilter: an API key with a purpose sees only customers whose
 * current consent for it is GRANTED (and, optionally, in its countries). Null: no restriction.
 */
export function rowScopeOf(viewer: Viewer): CustomerFilter | null {
  if (viewer.kind !== 'apiKey' || (!viewer.purpose && !viewer.countries)) return null;
  return {
    ...(viewer.purpose ? { consent: { purpose: viewer.purpose, status: 'GRANTED' as const } } : {}),
    ...(viewer.countries ? { countries: [...viewer.countries] } : {}),
  };
}
