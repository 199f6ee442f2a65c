import { SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import type { Role } from '../__generated__/resolvers-types';
import type { AuthSettings } from './viewer';

/**
 * HS256 key: `JWT_SECRET` when set; otherwise (development only) a random secret created once and
 * kept in the data directory, so `npm run token` and the server agree without any setup.
 */
export function resolveAuthSettings(config: Pick<Config, 'auth' | 'pgliteDir'>): AuthSettings {
  const secret = config.auth.jwtSecret ?? devSecret(config.pgliteDir, 'dev-jwt-secret');
  return { secret: new TextEncoder().encode(secret), issuer: config.auth.issuer, audience: config.auth.audience };
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

export async function signToken(
  auth: AuthSettings,
  claims: { sub: string; role: Role },
  expiresIn: string | number = '12h',
): Promise<string> {
  return new SignJWT({ role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(auth.issuer)
    .setAudience(auth.audience)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(auth.secret);
}
