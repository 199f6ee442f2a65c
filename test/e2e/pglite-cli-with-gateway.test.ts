import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, failingGateway, gql, startGateway, type Gateway } from './helpers/processes';

/**
 * Issue 19, point 1: `npm start` on the default embedded database (PGlite in a directory) and the README's CLIs
 * at the same time. Before, each CLI opened the directory a second time: a created key was refused, a revoked
 * key kept working, an import was invisible, and the directory was corrupt after the restart. Now the gateway
 * holds the directory's lock and serves its PGlite on a Unix socket; CLIs work through it. Everything here is a
 * real process: the gateway, every CLI (stdout/stderr are pipes, not a terminal), signals.
 */
const ITERATIONS = 20;

describe('CLIs while the gateway runs on PGlite', () => {
  let dir: string;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let gw: Gateway;
  let admin: string;

  const customersCsv = (file: string, prefix: string, n: number) => {
    const lines = ['external_id,first_name,last_name,email,country'];
    for (let i = 0; i < n; i++) lines.push(`${prefix}-${i},Imported${i},${prefix},${prefix.toLowerCase()}.${i}@example.org,DE`);
    writeFileSync(file, `${lines.join('\n')}\n`);
  };
  const countByEmail = async (email: string) => {
    const r = await gql(gw.url, admin, 'query($e: String!) { customers(filter: { email: $e }) { totalCount } }', { e: email });
    expect(r.body.errors).toBeUndefined();
    return (r.body.data?.customers as { totalCount: number }).totalCount;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'c360-pglite-cli-'));
    work = mkdtempSync(path.join(tmpdir(), 'c360-pglite-cli-work-'));
    env = { ...process.env, DATABASE_URL: '', PGLITE_DIR: dir, PORT: '0', HOST: '127.0.0.1', SEED_CUSTOMERS: '20', LOG_LEVEL: 'info', NODE_ENV: 'development',
      JWT_SECRET: '', ENCRYPTION_KEYS: '', PRIVACY_HASH_KEY: '', DEV_SECRETS_DIR: '' };
    for (const k of ['DATABASE_URL', 'JWT_SECRET', 'ENCRYPTION_KEYS', 'PRIVACY_HASH_KEY', 'DEV_SECRETS_DIR']) delete env[k];
    gw = await startGateway(env);
    const token = await cli('token', ['--role', 'ADMIN'], env);
    expect(token.code).toBe(0);
    admin = `Bearer ${token.stdout.trim()}`;
  }, 300_000);

  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('the gateway holds the directory: a second gateway on it is refused with a clear message', async () => {
    const lock = JSON.parse(readFileSync(path.join(dir, 'gateway.lock'), 'utf8')) as { pid: number; role: string; socket: string };
    expect(lock).toMatchObject({ pid: gw.proc.pid, role: 'gateway' });
    expect(existsSync(lock.socket)).toBe(true);
    const second = await failingGateway({ ...env });
    expect(second.code).toBe(1);
    expect(second.output).toContain('is in use by the gateway');
    expect(second.output).toContain(`pid ${gw.proc.pid}`);
    // The refused gateway did not take the lock away.
    expect(JSON.parse(readFileSync(path.join(dir, 'gateway.lock'), 'utf8'))).toMatchObject({ pid: gw.proc.pid });
  }, 300_000);

  it(`${ITERATIONS} times in a row: a key created by the CLI works at once, a revoked key is refused at once; imports, exports and segment refreshes are seen by the gateway`, async () => {
    const keys: string[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const created = await cli('apikey', ['create', '--name', `partner-${i}`, '--role', 'ANALYST', '--scopes', 'customers:read'], env);
      expect(created.stderr).toContain('created key');
      expect(created.code).toBe(0);
      const secret = created.stdout.trim();
      const ok = await gql(gw.url, `Bearer ${secret}`, '{ customers(first: 1) { totalCount } }');
      expect(ok.body.errors).toBeUndefined();
      expect(ok.status).toBe(200);
      const prefix = /created key (\S+)/.exec(created.stderr)![1]!;
      const revoked = await cli('apikey', ['revoke', prefix], env);
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toContain(`revoked ${prefix}`);
      const refused = await gql(gw.url, `Bearer ${secret}`, '{ customers(first: 1) { totalCount } }');
      expect(refused.status).toBe(401);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      keys.push(prefix);

      if (i % 5 === 0) {
        // An import, an export and a segment refresh, each through the gateway.
        const file = path.join(work, `batch-${i}.csv`);
        customersCsv(file, `IMP${i}`, 30);
        const imported = await cli('import', ['customers', file, '--source', 'crm', '--json'], env);
        expect(imported.stderr).toBe('');
        expect(imported.code).toBe(0);
        expect(JSON.parse(imported.stdout)).toMatchObject({ stored: 30, rejected: 0, created: 30 });
        expect(await countByEmail(`imp${i}.7@example.org`)).toBe(1);

        const out = path.join(work, `customers-${i}.csv`);
        const exported = await cli('export', ['customers', '--format', 'csv', '--out', out], env);
        expect(exported.code).toBe(0);
        const total = (await gql(gw.url, admin, '{ customers { totalCount } }')).body.data?.customers as { totalCount: number };
        // Header plus one line per customer (the demo's and every import so far).
        const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
        expect(lines.length - 1).toBe(total.totalCount);
        expect(lines.some((l) => l.includes(`imp${i}.29@example.org`))).toBe(true);

        const refreshed = await cli('segments', ['refresh'], env);
        expect(refreshed.code).toBe(0);
        expect(refreshed.stdout).toMatch(/^refreshed \d+ segments/);
      }
    }
    const listed = await cli('apikey', ['list'], env);
    expect(listed.code).toBe(0);
    for (const k of keys) expect(listed.stdout).toContain(k);
  }, 1_800_000);

  it('the gateway restarts on the same directory with everything the CLIs wrote', async () => {
    const before = (await gql(gw.url, admin, '{ customers { totalCount } }')).body.data?.customers as { totalCount: number };
    expect(await gw.stop()).toBe(0);
    expect(existsSync(path.join(dir, 'gateway.lock'))).toBe(false);
    gw = await startGateway(env);
    const after = (await gql(gw.url, admin, '{ customers { totalCount } }')).body.data?.customers as { totalCount: number };
    expect(after.totalCount).toBe(before.totalCount);
    expect(after.totalCount).toBe(20 + 4 * 30);
    expect(await countByEmail('imp15.0@example.org')).toBe(1);
    const listed = await cli('apikey', ['list'], env);
    expect(listed.stdout.match(/partner-\d+/g)).toHaveLength(ITERATIONS);
  }, 600_000);
});
