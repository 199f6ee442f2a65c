import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, importSPKI, SignJWT, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import type { Role } from '../__generated__/resolvers-types';
import type { AuthSettings } from './viewer';

/**
 * How tokens are verified. HMAC (`HS*`) tokens use `JWT_SECRET` when set; otherwise (development only)
 * a random secret created once and kept in the data directory, so `npm run token` and the server agree
 * without any setup. Asymmetric tokens (RS/PS/ES/EdDSA) use public keys from one source: a remote JWKS
 * (`JWT_JWKS_URL`: cached, refetched when a token names an unknown kid, so the identity provider can
 * rotate keys), a JWKS file or a PEM public key (offline setups). Only `JWT_ALGORITHMS` verify.
 */
export function resolveAuthSettings(config: Pick<Config, 'auth' | 'devSecretsDir' | 'nodeEnv'>): AuthSettings {
  const a = config.auth;
  const hmac = a.algorithms.some((alg) => alg.startsWith('HS'));
  const secret = a.jwtSecret ?? (hmac && config.nodeEnv !== 'production' ? devSecret(config.devSecretsDir, 'dev-jwt-secret') : undefined);
  return {
    secret: secret === undefined ? undefined : new TextEncoder().encode(secret),
    issuer: a.issuer,
    audience: a.audience,
    algorithms: a.algorithms,
    publicKeys: publicKeySource(config),
    requireMfaRoles: a.requireMfaRoles,
    mfaAcr: a.mfaAcr,
  };
}

function publicKeySource(config: Pick<Config, 'auth'>): JWTVerifyGetKey | undefined {
  const a = config.auth;
  if (a.jwksUrl) {
    return createRemoteJWKSet(new URL(a.jwksUrl), { cooldownDuration: a.jwksCooldownMs, cacheMaxAge: a.jwksCacheMaxAgeMs, timeoutDuration: 5000 });
  }
  if (a.jwksFile) return createLocalJWKSet(JSON.parse(readFileSync(a.jwksFile, 'utf8')) as JSONWebKeySet);
  if (a.publicKeyFile) {
    const pem = readFileSync(a.publicKeyFile, 'utf8');
    // A PEM key carries no algorithm; it is imported per allowed algorithm on first use (an RSA key
    // fails to import for ES256, so the wrong family never verifies).
    const imported = new Map<string, ReturnType<typeof importSPKI>>();
    return (header) => {
      const alg = header.alg ?? '';
      let key = imported.get(alg);
      if (!key) {
        key = importSPKI(pem, alg).catch(() => { throw new joseErrors.JWKSNoMatchingKey(`the public key does not fit ${alg}`); });
        imported.set(alg, key);
      }
      return key;
    };
  }
  return undefined;
}

/** A random secret created once in the data directory (development only; production requires configured secrets). */
export function devSecret(dir: string, name: string): string {
  const file = path.join(dir, name);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dir, { recursive: true });
    const secret = randomBytes(32).toString('base64url');
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    return secret;
  }
}

/** An HS256 token (`npm run token`, tests, the benchmark); asymmetric tokens come from the identity provider. */
export async function signToken(
  auth: Pick<AuthSettings, 'secret' | 'issuer' | 'audience'>,
  claims: { sub: string; role: Role; amr?: string[]; acr?: string },
  expiresIn: string | number = '12h',
): Promise<string> {
  if (!auth.secret) throw new Error('no JWT_SECRET: HS256 tokens cannot be signed (JWT_ALGORITHMS accepts only asymmetric tokens)');
  const { sub: _sub, ...payload } = claims;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(auth.issuer)
    .setAudience(auth.audience)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(auth.secret);
}
