import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDatabase } from '../helpers/global-setup';
import { failingGateway, startGateway } from './helpers/processes';

/**
 * Issue 19 point 2: with DATABASE_URL the development encryption key was read from PGLITE_DIR, so a start with
 * another PGLITE_DIR made a new key and failed ("value fails authentication"). Now it lives in DEV_SECRETS_DIR
 * (default ./data of the working directory with DATABASE_URL), whatever PGLITE_DIR says; a wrong one fails
 * with a message that says what to set. Real gateway processes, on PostgreSQL.
 */
const url = process.env.TEST_DATABASE_URL;

describe.runIf(url)('development secrets with DATABASE_URL', () => {
  let cwd: string;
  let dbUrl: string;
  let name: string;
  let env: NodeJS.ProcessEnv;
  const admin = () => postgres(url!, { max: 1, onnotice: () => {} });

  beforeAll(async () => {
    cwd = mkdtempSync(path.join(tmpdir(), 'c360-devsecrets-'));
    name = `c360_devsecrets_${randomBytes(5).toString('hex')}`;
    const a = admin();
    await a.unsafe(`CREATE DATABASE "${name}"`);
    await a.end();
    dbUrl = withDatabase(url!, name);
    env = { ...process.env, DATABASE_URL: dbUrl, PORT: '0', HOST: '127.0.0.1', SEED_CUSTOMERS: '10', LOG_LEVEL: 'info', NODE_ENV: 'development' };
    for (const k of ['JWT_SECRET', 'ENCRYPTION_KEYS', 'PRIVACY_HASH_KEY', 'DEV_SECRETS_DIR']) delete env[k];
  }, 60_000);
  afterAll(async () => {
    const a = admin();
    await a.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await a.end();
    rmSync(cwd, { recursive: true, force: true });
  }, 60_000);

  it('keeps the dev key in ./data whatever PGLITE_DIR is, prints where, and says what to set when it does not match', async () => {
    const first = await startGateway({ ...env, PGLITE_DIR: path.join(cwd, 'one') }, cwd);
    expect(first.output()).toContain(`"dir":"${path.join(cwd, 'data')}"`);
    expect(await first.stop()).toBe(0);
    expect(existsSync(path.join(cwd, 'data', 'dev-encryption-key'))).toBe(true);
    expect(existsSync(path.join(cwd, 'one', 'dev-encryption-key'))).toBe(false);

    // Another PGLITE_DIR (as a CLI or a second shell would have): the same key, the encrypted demo data opens.
    // It got as far as listening, so the demo data's encrypted values opened with the key from ./data.
    // (Its exit code is not asserted: once in a loaded CI run it ended by the signal itself, code null;
    // clean shutdown is test/resilience/shutdown.test.ts's subject.)
    const second = await startGateway({ ...env, PGLITE_DIR: path.join(cwd, 'two') }, cwd);
    expect(second.output()).toContain('gateway listening');
    await second.stop();
    expect(existsSync(path.join(cwd, 'two', 'dev-encryption-key'))).toBe(false);

    // Secrets from somewhere else: refused at start with what to set.
    const wrong = await failingGateway({ ...env, DEV_SECRETS_DIR: path.join(cwd, 'elsewhere') }, cwd);
    expect(wrong.code).toBe(1);
    expect(wrong.output).toContain('value fails authentication');
    expect(wrong.output).toContain('Set DEV_SECRETS_DIR to the directory that holds the dev secrets');
  }, 600_000);
});
