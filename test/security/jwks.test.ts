import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GraphQLError } from 'graphql';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAuthSettings } from '../../src/auth/token';
import { authenticate } from '../../src/auth/viewer';
import { loadConfig } from '../../src/config';
import { startApp, TEST_JWT_SECRET, type GqlResponse, type TestApp } from '../helpers/app';

/**
 * Asymmetric tokens (RS256, ES256) verified against a real JWKS served over HTTP on 127.0.0.1, with
 * key rotation; a JWKS file and a PEM key for offline setups; and the classic attacks on each.
 */
interface KeyPair { kid: string; alg: 'RS256' | 'ES256'; privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK }
const makeKey = async (alg: 'RS256' | 'ES256', kid: string): Promise<KeyPair> => {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
};

const now = () => Math.floor(Date.now() / 1000);
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const codeOf = (res: GqlResponse<unknown>) => res.body.errors?.map((e) => e.extensions?.code);

describe('JWT via a JWKS URL (RS256, ES256, rotation)', () => {
  let app: TestApp;
  let jwksServer: Server;
  let jwksUrl: string;
  let published: JWK[] = [];
  let fetches = 0;
  let rsa: KeyPair;
  let ec: KeyPair;

  const sign = (key: KeyPair, opts: { audience?: string; issuer?: string; exp?: number; kid?: string; role?: string } = {}) =>
    new SignJWT({ role: opts.role ?? 'AGENT' })
      .setProtectedHeader({ alg: key.alg, kid: opts.kid ?? key.kid, typ: 'JWT' })
      .setSubject(`idp-${key.kid}`)
      .setIssuer(opts.issuer ?? app.auth.issuer)
      .setAudience(opts.audience ?? app.auth.audience)
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? now() + 600)
      .sign(key.privateKey);

  const viewer = (token: string) => app.gql<{ viewer: { id: string; role: string } }>('{ viewer { id role } }', undefined, { authorization: `Bearer ${token}` });
  const expectRejected = async (token: string) => {
    const res = await viewer(token);
    expect(res.status).toBe(401);
    expect(res.body.data ?? null).toBeNull();
    expect(codeOf(res)).toEqual(['UNAUTHENTICATED']);
  };

  beforeAll(async () => {
    rsa = await makeKey('RS256', 'rsa-1');
    ec = await makeKey('ES256', 'ec-1');
    published = [rsa.jwk, ec.jwk];
    jwksServer = createServer((req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', () => resolve()));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
    // HS256 stays allowed next to the public keys: the alg-confusion case below needs both.
    app = await startApp({ JWT_JWKS_URL: jwksUrl, JWT_ALGORITHMS: 'RS256,ES256,HS256', JWT_JWKS_COOLDOWN_MS: '0' });
  });
  afterAll(async () => {
    await app?.close();
    await new Promise<void>((resolve) => jwksServer?.close(() => resolve()));
  });

  it('accepts an RS256 token signed by a published key', async () => {
    const res = await viewer(await sign(rsa));
    expect(res.body).toEqual({ data: { viewer: { id: 'idp-rsa-1', role: 'AGENT' } } });
  });

  it('accepts an ES256 token signed by a published key', async () => {
    const res = await viewer(await sign(ec, { role: 'ANALYST' }));
    expect(res.body).toEqual({ data: { viewer: { id: 'idp-ec-1', role: 'ANALYST' } } });
  });

  it('still accepts HS256 tokens with the shared secret when HS256 is allowed', async () => {
    const res = await viewer(await app.token('MARKETER', 'hs-user'));
    expect(res.body.data).toEqual({ viewer: { id: 'hs-user', role: 'MARKETER' } });
  });

  it('picks up a rotated key (a new kid in the JWKS) without a restart', async () => {
    const next = await makeKey('RS256', 'rsa-2');
    const token = await sign(next);
    await expectRejected(token);
    published = [rsa.jwk, ec.jwk, next.jwk];
    const before = fetches;
    const res = await viewer(token);
    expect(res.body.data).toEqual({ viewer: { id: 'idp-rsa-2', role: 'AGENT' } });
    expect(fetches).toBe(before + 1);
    // The refreshed set is cached: known kids do not refetch.
    await viewer(await sign(rsa));
    expect(fetches).toBe(before + 1);
  });

  it('rejects a token signed by an unpublished key that claims a published kid', async () => {
    const impostor = await makeKey('RS256', 'rsa-1');
    await expectRejected(await sign(impostor));
  });

  it('rejects an expired RS256 token', async () => {
    await expectRejected(await sign(rsa, { exp: now() - 120 }));
  });

  it('rejects an RS256 token for another audience or from another issuer', async () => {
    await expectRejected(await sign(rsa, { audience: 'another-api' }));
    await expectRejected(await sign(ec, { issuer: 'https://evil.example' }));
  });

  it('rejects alg:none, with or without a published kid', async () => {
    const payload = { sub: 'attacker', role: 'ADMIN', iss: app.auth.issuer, aud: app.auth.audience, iat: now(), exp: now() + 600 };
    await expectRejected(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`);
    await expectRejected(`${b64url({ alg: 'none', kid: 'rsa-1' })}.${b64url(payload)}.`);
  });

  it('rejects alg confusion: an HS256 token keyed with the published RSA public key', async () => {
    const pem = await exportSPKI(rsa.publicKey);
    for (const secret of [pem, pem.trim(), JSON.stringify(rsa.jwk)]) {
      const token = await new SignJWT({ role: 'ADMIN' }).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).setSubject('attacker')
        .setIssuer(app.auth.issuer).setAudience(app.auth.audience).setIssuedAt().setExpirationTime('10m')
        .sign(new TextEncoder().encode(secret));
      await expectRejected(token);
    }
  });

  it('rejects a token whose header names the other key family (ES256 header, RSA kid)', async () => {
    const token = await sign(rsa);
    const [, payload, signature] = token.split('.');
    await expectRejected(`${b64url({ alg: 'ES256', kid: 'rsa-1' })}.${payload}.${signature}`);
  });

  it('answers SERVICE_UNAVAILABLE (not UNAUTHENTICATED) while the key set cannot be fetched', async () => {
    const down = resolveAuthSettings(loadConfig({
      NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json', JWT_ALGORITHMS: 'RS256', PGLITE_DIR: '/nonexistent-test-dir',
    }));
    const err = await authenticate({ authorization: `Bearer ${await sign(rsa)}` }, down, app.db.db).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(GraphQLError);
    expect((err as GraphQLError).extensions.code).toBe('SERVICE_UNAVAILABLE');
  });
});

describe('JWT with offline public keys (JWKS file, PEM) and the algorithm allow-list', () => {
  let app: TestApp;
  let dir: string;
  let rsa: KeyPair;
  let ec: KeyPair;
  beforeAll(async () => {
    app = await startApp();
    rsa = await makeKey('RS256', 'file-rsa');
    ec = await makeKey('ES256', 'file-ec');
    dir = mkdtempSync(path.join(tmpdir(), 'c360-jwks-'));
    writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [rsa.jwk] }));
    writeFileSync(path.join(dir, 'ec.pem'), await exportSPKI(ec.publicKey));
  });
  afterAll(async () => { await app?.close(); });

  const settings = (env: Record<string, string>) => resolveAuthSettings(loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, PGLITE_DIR: '/nonexistent-test-dir', ...env }));
  const signWith = (key: KeyPair, alg: string = key.alg) =>
    new SignJWT({ role: 'AGENT' }).setProtectedHeader({ alg, kid: key.kid }).setSubject('offline-user')
      .setIssuer(app.auth.issuer).setAudience(app.auth.audience).setIssuedAt().setExpirationTime('10m').sign(key.privateKey);
  const outcome = async (auth: ReturnType<typeof settings>, token: string) =>
    authenticate({ authorization: `Bearer ${token}` }, auth, app.db.db).then(
      (v) => `${v.kind}:${v.id}:${v.role}`,
      (e: unknown) => (e instanceof GraphQLError ? String(e.extensions.code) : `unexpected ${String(e)}`));

  it('verifies RS256 against a JWKS file', async () => {
    expect(await outcome(settings({ JWT_JWKS_FILE: path.join(dir, 'jwks.json'), JWT_ALGORITHMS: 'RS256' }), await signWith(rsa))).toBe('user:offline-user:AGENT');
  });

  it('verifies ES256 against a PEM public key, and refuses an RSA token there', async () => {
    const auth = settings({ JWT_PUBLIC_KEY_FILE: path.join(dir, 'ec.pem'), JWT_ALGORITHMS: 'ES256,RS256' });
    expect(await outcome(auth, await signWith(ec))).toBe('user:offline-user:AGENT');
    expect(await outcome(auth, await signWith(rsa))).toBe('UNAUTHENTICATED');
  });

  it('refuses algorithms outside JWT_ALGORITHMS, even HS256 with the right secret', async () => {
    const auth = settings({ JWT_JWKS_FILE: path.join(dir, 'jwks.json'), JWT_ALGORITHMS: 'ES256' });
    expect(await outcome(auth, await signWith(rsa))).toBe('UNAUTHENTICATED');
    expect(await outcome(auth, await app.token('ADMIN'))).toBe('UNAUTHENTICATED');
  });

  it('verifies HS512 when it is the allowed HMAC algorithm, and then refuses HS256', async () => {
    const auth = settings({ JWT_ALGORITHMS: 'HS512' });
    const hs512 = await new SignJWT({ role: 'ANALYST' }).setProtectedHeader({ alg: 'HS512' }).setSubject('hs512-user')
      .setIssuer(app.auth.issuer).setAudience(app.auth.audience).setIssuedAt().setExpirationTime('10m').sign(app.auth.secret);
    expect(await outcome(auth, hs512)).toBe('user:hs512-user:ANALYST');
    expect(await outcome(auth, await app.token('ADMIN'))).toBe('UNAUTHENTICATED');
  });

  it('rejects configurations that would accept unverifiable or unsafe algorithms', () => {
    expect(() => loadConfig({ JWT_ALGORITHMS: 'none' })).toThrow(/JWT_ALGORITHMS: none is not supported/);
    expect(() => loadConfig({ JWT_ALGORITHMS: 'RS256' })).toThrow(/asymmetric algorithms need JWT_JWKS_URL/);
    expect(() => loadConfig({ JWT_JWKS_URL: 'http://127.0.0.1/jwks', JWT_JWKS_FILE: '/tmp/x' })).toThrow(/set only one source of public keys/);
  });
});
