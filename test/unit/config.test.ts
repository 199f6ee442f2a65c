import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

const SECRET = 'x'.repeat(32);
const KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;

/** The ConfigError a call throws; fails the test when the configuration is accepted. */
function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    // toMatchObject: settings added later get their own default tests.
    expect(loadConfig({})).toMatchObject({
      nodeEnv: 'development',
      port: 4000,
      host: '0.0.0.0',
      databaseUrl: undefined,
      databasePoolMax: 10,
      pgliteDir: './data',
      baseCurrency: 'USD',
      defaultPhoneRegion: 'US',
      auth: { jwtSecret: undefined, issuer: 'customer360', audience: 'customer360-gateway' },
      logLevel: 'info',
      requestTimeoutMs: 10_000,
      bodyLimitBytes: 1_000_000,
      seed: { demo: true, customers: 1000 },
      sqlCountHeader: true,
    });
  });

  it('parses given values', () => {
    const c = loadConfig({
      NODE_ENV: 'test', PORT: '8080', DATABASE_URL: 'postgresql://u:p@db:5432/c360', BASE_CURRENCY: 'EUR', DEFAULT_PHONE_REGION: 'DE',
      JWT_SECRET: SECRET, SEED_DEMO: '0', SQL_COUNT_HEADER: 'false', BODY_LIMIT_BYTES: '2048',
    });
    expect(c).toMatchObject({
      nodeEnv: 'test', port: 8080, databaseUrl: 'postgresql://u:p@db:5432/c360', baseCurrency: 'EUR', defaultPhoneRegion: 'DE',
      auth: { jwtSecret: SECRET }, seed: { demo: false }, sqlCountHeader: false, bodyLimitBytes: 2048,
    });
  });

  it('collects between requests (IDLE_GC) unless told not to', () => {
    expect(loadConfig({}).idleGc).toBe(true);
    expect(loadConfig({ IDLE_GC: 'false' }).idleGc).toBe(false);
    expect(() => loadConfig({ IDLE_GC: 'sometimes' })).toThrow(/IDLE_GC/);
    expect(loadConfig({}).idleGcFill).toBe(0.75);
    expect(loadConfig({ IDLE_GC_FILL: '0.5' }).idleGcFill).toBe(0.5);
    expect(() => loadConfig({ IDLE_GC_FILL: '0' })).toThrow(/IDLE_GC_FILL/);
    expect(() => loadConfig({ IDLE_GC_FILL: '1.5' })).toThrow(/IDLE_GC_FILL/);
  });

  it('takes the connections\' work_mem as a PostgreSQL size, 16MB by default', () => {
    expect(loadConfig({}).databaseWorkMem).toBe('16MB');
    expect(loadConfig({ DATABASE_WORK_MEM: '64MB' }).databaseWorkMem).toBe('64MB');
    expect(configErrorOf({ DATABASE_WORK_MEM: '64 MB; SET role postgres' }).issues[0]).toMatch(/^DATABASE_WORK_MEM/);
  });

  it('turns the SQL count header off in production unless asked for', () => {
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, PRIVACY_HASH_KEY: SECRET, ENCRYPTION_KEYS: KEYS }).sqlCountHeader).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, PRIVACY_HASH_KEY: SECRET, ENCRYPTION_KEYS: KEYS, SQL_COUNT_HEADER: 'true' }).sqlCountHeader).toBe(true);
  });

  it('reports several invalid variables at once', () => {
    const err = configErrorOf({ PORT: 'abc', LOG_LEVEL: 'loud', BASE_CURRENCY: 'usd', DATABASE_URL: 'mysql://u@h/db', JWT_SECRET: 'short' });
    const vars = err.issues.map((i) => i.split(':')[0]);
    expect(vars).toEqual(expect.arrayContaining(['PORT', 'LOG_LEVEL', 'BASE_CURRENCY', 'DATABASE_URL', 'JWT_SECRET']));
    expect(err.message).toContain('PORT');
    expect(err.message).toContain('LOG_LEVEL');
  });

  it('rejects production without JWT_SECRET, PRIVACY_HASH_KEY and ENCRYPTION_KEYS', () => {
    expect(configErrorOf({ NODE_ENV: 'production' }).issues).toEqual([
      'JWT_SECRET: required when NODE_ENV=production', 'PRIVACY_HASH_KEY: required when NODE_ENV=production', 'ENCRYPTION_KEYS: required when NODE_ENV=production']);
    expect(configErrorOf({ NODE_ENV: 'production', PRIVACY_HASH_KEY: SECRET, ENCRYPTION_KEYS: KEYS }).issues).toEqual(['JWT_SECRET: required when NODE_ENV=production']);
  });

  it('needs no JWT_SECRET in production when only asymmetric algorithms are accepted', () => {
    const c = loadConfig({ NODE_ENV: 'production', PRIVACY_HASH_KEY: SECRET, ENCRYPTION_KEYS: KEYS, JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json' });
    expect(c.auth).toMatchObject({ jwtSecret: undefined, algorithms: ['RS256', 'ES256'], jwksUrl: 'https://idp.example/.well-known/jwks.json' });
  });

  it('rejects malformed ENCRYPTION_KEYS and an active key that is not among them', () => {
    expect(configErrorOf({ ENCRYPTION_KEYS: 'k1:c2hvcnQ=' }).issues).toEqual([expect.stringMatching(/^ENCRYPTION_KEYS: key k1 must be 32 bytes/)]);
    expect(configErrorOf({ ENCRYPTION_KEYS: KEYS, ENCRYPTION_ACTIVE_KEY: 'k9' }).issues).toEqual([expect.stringMatching(/^ENCRYPTION_KEYS: active key k9/)]);
  });

  it('reports the missing production JWT_SECRET together with other invalid variables', () => {
    const err = configErrorOf({ NODE_ENV: 'production', PORT: 'abc' });
    expect(err.issues).toEqual(expect.arrayContaining([expect.stringMatching(/^PORT:/), expect.stringMatching(/^JWT_SECRET:/)]));
  });

  it('treats empty strings as unset', () => {
    const c = loadConfig({ PORT: '', DATABASE_URL: '', JWT_SECRET: '', LOG_LEVEL: '', SQL_COUNT_HEADER: '' });
    expect(c).toMatchObject({ port: 4000, databaseUrl: undefined, auth: { jwtSecret: undefined }, logLevel: 'info', sqlCountHeader: true });
  });

  it('rejects production with an empty JWT_SECRET as if it were unset', () => {
    expect(configErrorOf({ NODE_ENV: 'production', JWT_SECRET: '', PRIVACY_HASH_KEY: SECRET, ENCRYPTION_KEYS: KEYS }).issues).toEqual(['JWT_SECRET: required when NODE_ENV=production']);
  });

  it.each([
    ['PORT', '70000'], ['BODY_LIMIT_BYTES', '10'], ['REQUEST_TIMEOUT_MS', '5'], ['SEED_DEMO', 'yes'], ['NODE_ENV', 'staging'], ['DEFAULT_PHONE_REGION', 'USA'],
  ])('rejects %s=%s', (name, value) => {
    expect(configErrorOf({ [name]: value }).issues).toEqual([expect.stringMatching(new RegExp(`^${name}:`))]);
  });
});
