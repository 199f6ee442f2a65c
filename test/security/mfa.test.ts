import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/auth/token';
import type { Role } from '../../src/__generated__/resolvers-types';
import { startApp, type TestApp } from '../helpers/app';

/** JWT_REQUIRE_MFA_ROLES: privileged roles need a token that shows a second factor (amr "mfa" or a configured acr). */
describe('multi-factor authentication for privileged roles', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ JWT_REQUIRE_MFA_ROLES: 'ADMIN', JWT_MFA_ACR: 'urn:example:loa:mfa' });
  });
  afterAll(async () => { await app?.close(); });

  const asToken = async (claims: { role: Role; amr?: string[]; acr?: string }) =>
    app.gql<{ viewer: { role: string } }>('{ viewer { role } }', undefined, {
      authorization: `Bearer ${await signToken(app.auth, { sub: `mfa-${claims.role}-${JSON.stringify(claims)}`, ...claims }, '10m')}`,
    });

  it('refuses an ADMIN token without amr or acr with HTTP 401 and a message that says why', async () => {
    const res = await asToken({ role: 'ADMIN' });
    expect(res.status).toBe(401);
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(res.body.errors?.[0]?.message).toMatch(/ADMIN role requires multi-factor authentication.*amr.*"mfa".*urn:example:loa:mfa/);
  });

  it('refuses an ADMIN token whose amr names a single factor only', async () => {
    const res = await asToken({ role: 'ADMIN', amr: ['pwd'] });
    expect(res.status).toBe(401);
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses an ADMIN token with an acr that is not configured', async () => {
    const res = await asToken({ role: 'ADMIN', acr: 'urn:example:loa:1' });
    expect(res.status).toBe(401);
  });

  it('accepts an ADMIN token whose amr contains mfa', async () => {
    const res = await asToken({ role: 'ADMIN', amr: ['pwd', 'otp', 'mfa'] });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.viewer.role).toBe('ADMIN');
  });

  it('accepts an ADMIN token with the configured acr', async () => {
    const res = await asToken({ role: 'ADMIN', acr: 'urn:example:loa:mfa' });
    expect(res.status).toBe(200);
    expect(res.body.data?.viewer.role).toBe('ADMIN');
  });

  it('does not ask roles outside JWT_REQUIRE_MFA_ROLES for a second factor', async () => {
    const res = await asToken({ role: 'AGENT' });
    expect(res.status).toBe(200);
    expect(res.body.data?.viewer.role).toBe('AGENT');
  });
});
