import { webcrypto } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTHeaderParameters, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { CustomerFilter, Role } from '../__generated__/resolvers-types';
import type { Db } from '../db/client';
import { toGlobalId } from '../lib/global-id';
import { looksLikeApiKey, verifyApiKey } from '../modules/admin';
import { serviceUnavailable, unauthenticated } from '../errors';

/** Roles a JWT can carry. PARTNER exists only as an API key. */
export const ROLES = ['ADMIN', 'AGENT', 'MARKETER', 'ANALYST'] as const satisfies readonly Role[];
const roleSet: ReadonlySet<string> = new Set(ROLES);

/** Who is calling. Authentication makes one; authorization reads it (shield rules and policy tables only). */
export type Viewer =
  | { kind: 'user'; id: string; role: Role; scopes: readonly string[] }
  | {
    kind: 'apiKey'; id: string; role: Role; name: string; scopes: readonly string[];
    fieldAllowList: ReadonlySet<string>; purpose: string | null; countries: readonly string[] | null;
    /** Segment uuids: only their members are visible (row scope); null = no segment restriction. */
    segmentIds: readonly string[] | null;
    rateLimitPerMinute: number | null; rateLimitBurst: number | null; maxCost: number | null;
    /** Accepts only persisted operations (manifest or registered APQ hashes). */
    persistedOnly: boolean;
  };

export interface AuthSettings {
  /** HMAC secret of HS* tokens (undefined: no HMAC token verifies). */
  secret: Uint8Array | undefined;
  issuer: string;
  audience: string;
  /** Accepted `alg` values (default HS256). */
  algorithms?: readonly string[];
  /** Public keys of asymmetric tokens (JWKS URL, JWKS file or PEM), chosen by the token's kid and alg. */
  publicKeys?: JWTVerifyGetKey;
  /** Roles whose tokens must show multi-factor authentication (JWT_REQUIRE_MFA_ROLES). */
  requireMfaRoles?: readonly string[];
  /** `acr` values that count as multi-factor (JWT_MFA_ACR), besides `mfa` in `amr`. */
  mfaAcr?: readonly string[];
}

/**
 * jose imports a raw Uint8Array secret into WebCrypto on every call; import it once per secret
 * (measured: the per-request import was a visible share of CPU under load).
 */
const importedKeys = new WeakMap<Uint8Array, Map<string, Promise<webcrypto.CryptoKey>>>();
const HMAC_HASH: Record<string, string> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };
function verificationKey(secret: Uint8Array, alg: string): Promise<webcrypto.CryptoKey> {
  let perAlg = importedKeys.get(secret);
  if (!perAlg) { perAlg = new Map(); importedKeys.set(secret, perAlg); }
  let key = perAlg.get(alg);
  if (!key) {
    key = webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: HMAC_HASH[alg] ?? 'SHA-256' }, false, ['verify']);
    perAlg.set(alg, key);
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
  const cached = verifiedTokens(auth).get(m[1]);
  if (cached) return cached;
  try {
    const { payload } = await jwtVerify(m[1], (header: JWTHeaderParameters, token) => keyFor(auth, header, token), {
      issuer: auth.issuer,
      audience: auth.audience,
      // jose refuses any other alg (and `none`) before looking for a key.
      algorithms: [...(auth.algorithms ?? ['HS256'])],
      requiredClaims: ['sub', 'exp'],
    });
    const role = payload.role;
    if (typeof role !== 'string' || !roleSet.has(role)) throw unauthenticated('Token has no valid role claim');
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw unauthenticated('Token has no subject');
    if (auth.requireMfaRoles?.includes(role) && !showsMfa(payload, auth.mfaAcr ?? [])) {
      throw unauthenticated(`The ${role} role requires multi-factor authentication: the token's amr claim must contain "mfa"`
        + (auth.mfaAcr?.length ? ` or its acr claim be one of ${auth.mfaAcr.map((a) => `"${a}"`).join(', ')}` : '')
        + '; sign in again with a second factor');
    }
    // Frozen: the cache hands the same object to later requests.
    const viewer: Viewer = Object.freeze({ kind: 'user', id: payload.sub, role: role as Role, scopes: Object.freeze([]) });
    verifiedTokens(auth).set(m[1], viewer, payload.exp as number);
    return viewer;
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) throw unauthenticated('Token expired');
    // The identity provider's key set could not be fetched: the token may be fine, so this is not the caller's fault.
    if (e instanceof joseErrors.JWKSTimeout || e instanceof JwksUnavailable) throw serviceUnavailable('Token keys are unavailable; retry shortly');
    if (e instanceof joseErrors.JOSEError) throw unauthenticated('Invalid token');
    throw e;
  }
}

class JwksUnavailable extends Error {}

/** RFC 8176 `amr` (authentication methods) containing `mfa`, or an `acr` the deployment counts as multi-factor. */
function showsMfa(payload: JWTPayload, acrValues: readonly string[]): boolean {
  const amr = payload.amr;
  if (Array.isArray(amr) && amr.includes('mfa')) return true;
  return typeof payload.acr === 'string' && acrValues.includes(payload.acr);
}

/**
 * Tokens whose signature and claims were verified, by their exact text, for at most
 * TOKEN_CACHE_SECONDS and never past their `exp`. Front-ends send the same token with every request,
 * and the signature check (WebCrypto HMAC, or RSA/EC for JWKS keys) was about a tenth of the CPU of a
 * 360 read. Only tokens that verified are kept, so forged tokens cannot fill it; it is bounded (oldest
 * out first); a JWKS key withdrawn by the identity provider stops working within the TTL.
 */
const TOKEN_CACHE_SECONDS = 60;
const TOKEN_CACHE_MAX = 10_000;
class VerifiedTokenCache {
  private readonly entries = new Map<string, { viewer: Viewer; until: number }>();
  get(token: string): Viewer | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    if (Date.now() >= e.until) { this.entries.delete(token); return undefined; }
    return e.viewer;
  }
  set(token: string, viewer: Viewer, expSeconds: number): void {
    const until = Math.min(expSeconds * 1000, Date.now() + TOKEN_CACHE_SECONDS * 1000);
    if (this.entries.size >= TOKEN_CACHE_MAX) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { viewer, until });
  }
}
const tokenCaches = new WeakMap<AuthSettings, VerifiedTokenCache>();
function verifiedTokens(auth: AuthSettings): VerifiedTokenCache {
  let c = tokenCaches.get(auth);
  if (!c) { c = new VerifiedTokenCache(); tokenCaches.set(auth, c); }
  return c;
}

/**
 * The key a token is checked with is picked by algorithm family, never by what the token claims to be:
 * HMAC tokens only ever meet the shared secret, asymmetric ones only the public keys. So an HS256
 * token "signed" with the (public) RSA key cannot verify: the alg-confusion attack.
 */
async function keyFor(auth: AuthSettings, header: JWTHeaderParameters, token: Parameters<JWTVerifyGetKey>[1]) {
  if (header.alg?.startsWith('HS')) {
    if (!auth.secret) throw unauthenticated('Invalid token');
    return verificationKey(auth.secret, header.alg);
  }
  if (!auth.publicKeys) throw unauthenticated('Invalid token');
  try {
    return await auth.publicKeys(header, token);
  } catch (e) {
    // The generic JOSEError (ERR_JOSE_GENERIC) is the key set endpoint failing (non-200, not JSON).
    if (e instanceof joseErrors.JOSEError && e.code !== 'ERR_JOSE_GENERIC') throw e;
    // And fetch() failures (connection refused, DNS) of the remote key set.
    throw new JwksUnavailable(e instanceof Error ? e.message : String(e));
  }
}

async function authenticateKey(presented: string, db: Db): Promise<Viewer> {
  const result = await verifyApiKey(db, presented);
  if ('refused' in result) throw unauthenticated(result.refused);
  const k = result.key;
  return {
    kind: 'apiKey', id: k.id, role: k.role as Role, name: k.name, scopes: k.scopes, fieldAllowList: new Set(k.fieldAllowList),
    purpose: k.purpose, countries: k.countries, segmentIds: k.segmentIds, rateLimitPerMinute: k.rateLimitPerMinute, rateLimitBurst: k.rateLimitBurst, maxCost: k.maxCost,
    persistedOnly: k.persistedOnly,
  };
}

/**
 * Row scope of a viewer as a CustomerFilter: an API key with a purpose sees only customers whose
 * current consent for it is GRANTED and, optionally, who are in its countries and members of at least
 * one of its segments (all conditions hold together). Segment membership is the materialized one
 * (segment_memberships): a customer leaves the key's view when a refresh or an edit removes them, and
 * an archived segment has no members. Null: no restriction.
 */
export function rowScopeOf(viewer: Viewer): CustomerFilter | null {
  if (viewer.kind !== 'apiKey' || (!viewer.purpose && !viewer.countries && !viewer.segmentIds)) return null;
  return {
    ...(viewer.purpose ? { consent: { purpose: viewer.purpose, status: 'GRANTED' as const } } : {}),
    ...(viewer.countries ? { countries: [...viewer.countries] } : {}),
    ...(viewer.segmentIds ? { segment: { in: viewer.segmentIds.map((id) => toGlobalId('Segment', id)) } } : {}),
  };
}
