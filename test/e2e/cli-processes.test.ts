import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/db/client';
import { cli } from './helpers/processes';

/**
 * Every CLI of the README as a process, on its own PGlite directory (no gateway): --help, one real run, and a
 * bad argument (non-zero exit, a clear line on stderr). Issue 19 point 7: `export customers` exited 1
 * ("field encryption is not configured") because the tests called the command in-process, never the CLI.
 * Point 11: `import --json` with stdout a pipe is one JSON document; a killed import is marked INTERRUPTED.
 */
const CLIS = ['apikey', 'export', 'import', 'jobs', 'keys', 'migrate', 'persisted', 'seed', 'segments', 'token', 'webhooks', 'db-backup', 'db-restore'];

describe('CLIs as processes', () => {
  let dir: string;
  let work: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'c360-cli-'));
    work = mkdtempSync(path.join(tmpdir(), 'c360-cli-work-'));
    env = { ...process.env, PGLITE_DIR: dir, NODE_ENV: 'development', LOG_LEVEL: 'warn' };
    for (const k of ['DATABASE_URL', 'JWT_SECRET', 'ENCRYPTION_KEYS', 'PRIVACY_HASH_KEY', 'DEV_SECRETS_DIR']) delete env[k];
    const seeded = await cli('seed', ['--customers', '30'], env, 300_000);
    expect(seeded.code).toBe(0);
    // db:seed computes the models once, as `npm start` does (issue 19.13): RFM scores exist at once.
    const scored = /Models computed in .* \(([\d,]+) RFM scores\)/.exec(seeded.stdout);
    expect(Number(scored?.[1]?.replace(/,/g, '') ?? 0)).toBeGreaterThan(0);
  }, 400_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('every CLI prints its usage for --help and exits 0', async () => {
    const results = [];
    // Two at a time: each is a Node process with tsx.
    for (let i = 0; i < CLIS.length; i += 2) results.push(...await Promise.all(CLIS.slice(i, i + 2).map(async (name) => ({ name, ...await cli(name, ['--help'], env) }))));
    for (const r of results) {
      expect({ name: r.name, code: r.code }).toEqual({ name: r.name, code: 0 });
      expect(r.stdout).toMatch(/^Usage: npm run /);
    }
  }, 600_000);

  it('bad arguments exit non-zero with a clear message on stderr', async () => {
    const cases: [string, string[], RegExp][] = [
      ['export', ['orders', '--format', 'csv'], /unknown entity "orders"/],
      ['export', ['customers', '--format', 'csv', '--filter', '{nope'], /--filter is not valid JSON/],
      ['import', ['planets', 'x.csv', '--source', 'crm'], /unknown entity "planets"/],
      ['import', ['customers', path.join(work, 'missing.csv'), '--source', 'crm'], /no such file/],
      ['jobs', ['nonsense'], /'nonsense' is invalid for argument 'job'/],
      ['apikey', ['revoke', 'nosuchkey'], /no key with prefix nosuchkey/],
      ['token', ['--role', 'KING'], /argument 'KING' is invalid/],
      ['seed', ['--customers', 'many'], /expected a whole number/],
      ['segments', ['refresh', '--id', 'not-an-id'], /is not a Segment id/],
      ['keys', ['rotate', '--batch-size', '0'], /--batch-size must be 1-50000/],
      ['persisted', ['build', work], /no \.graphql files/],
      ['webhooks', ['nonsense'], /unknown command 'nonsense'/],
    ];
    for (const [name, args, message] of cases) {
      const r = await cli(name, args, env);
      expect({ name, args, code: r.code === 0 ? 0 : 'non-zero' }).toEqual({ name, args, code: 'non-zero' });
      expect(r.stderr).toMatch(message);
    }
  }, 900_000);

  it('one real run of each: exports of customers and interactions work as a process', async () => {
    const customers = path.join(work, 'customers.ndjson');
    const ex = await cli('export', ['customers', '--format', 'ndjson', '--out', customers], env);
    expect(ex.stderr).toContain('30 customers');
    expect(ex.code).toBe(0);
    const rows = readFileSync(customers, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(30);
    const interactions = await cli('export', ['interactions', '--format', 'csv'], env);
    expect(interactions.code).toBe(0);
    expect(interactions.stdout.split('\n').length).toBeGreaterThan(10);

    const key = await cli('apikey', ['create', '--name', 'cli-test', '--scopes', 'customers:read', '--purpose', 'partner_sharing'], env);
    expect(key.code).toBe(0);
    expect(key.stdout.trim()).toMatch(/^c360_/);
    const jobs = await cli('jobs', ['expire'], env);
    expect(jobs.code).toBe(0);
    expect(JSON.parse(jobs.stdout)).toMatchObject({ job: 'expire' });
    const keys = await cli('keys', ['status'], env);
    expect(keys.code).toBe(0);
    expect(keys.stdout).toContain('active key dev');
    const migrate = await cli('migrate', [], env);
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain(`PGlite (${dir})`);
    const seg = await cli('segments', ['refresh'], env);
    expect(seg.code).toBe(0);
    const hooks = await cli('webhooks', ['dispatch', '--once'], env);
    expect(hooks.code).toBe(0);
    expect(hooks.stdout).toMatch(/\d+ delivery attempts/);
    const token = await cli('token', ['--role', 'AGENT'], env);
    expect(token.code).toBe(0);
    expect(token.stdout.trim().split('.')).toHaveLength(3);
    const ops = mkdtempSync(path.join(work, 'ops-'));
    writeFileSync(path.join(ops, 'viewer.graphql'), 'query Viewer { viewer { id role } }\n');
    const persisted = await cli('persisted', ['build', ops, '--out', path.join(work, 'manifest.json')], env);
    expect(persisted.code).toBe(0);
    expect(persisted.stdout).toContain('query Viewer');
    const again = await cli('seed', [], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already has 30 customers');
  }, 900_000);

  it('without a gateway, a command holding the directory makes a second one refuse cleanly; the lock goes with it', async () => {
    const { spawn } = await import('node:child_process');
    const { ROOT } = await import('./helpers/processes');
    // The webhook dispatcher runs until stopped: it holds the directory the whole time.
    const worker = spawn(process.execPath, ['--import', 'tsx', 'src/cli/webhooks.ts', 'dispatch'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (let i = 0; i < 600 && !existsSync(path.join(dir, 'gateway.lock')); i++) await new Promise((r) => setTimeout(r, 200));
    const refused = await cli('apikey', ['list'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is in use by another command (webhooks.ts dispatch)');
    expect(refused.stderr).toContain(`pid ${worker.pid}`);
    const exited = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
    expect(existsSync(path.join(dir, 'gateway.lock'))).toBe(false);
    const listed = await cli('apikey', ['list'], env);
    expect(listed.code).toBe(0);
  }, 600_000);

  it('import --json with stdout a pipe prints one JSON document; progress goes to stderr', async () => {
    const file = path.join(work, 'json.csv');
    const lines = ['external_id,first_name,last_name,email,country'];
    for (let i = 0; i < 40_000; i++) lines.push(`J-${i},Json${i},Pipe,json.${i}@example.org,FR`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await cli('import', ['customers', file, '--source', 'jsonpipe', '--json'], env, 900_000);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { stored: number; durationMs: number };
    expect(summary.stored).toBe(40_000);
    // Long enough for the every-5-seconds progress line, which must be on stderr.
    expect(summary.durationMs).toBeGreaterThan(5_000);
    expect(r.stderr).toMatch(/import: \d+% of the file/);
  }, 900_000);

  it('an import killed with kill -9 is marked INTERRUPTED by the next import', async () => {
    const file = path.join(work, 'big.csv');
    const lines = ['external_id,first_name,last_name,email,country'];
    for (let i = 0; i < 60_000; i++) lines.push(`K-${i},Kill${i},Nine,kill.${i}@example.org,DE`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const { spawn } = await import('node:child_process');
    const { ROOT } = await import('./helpers/processes');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/import.ts', 'customers', file, '--source', 'killed', '--batch-size', '500'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (c: Buffer) => { err += c.toString(); if (/import: \d+% of the file/.test(err)) resolve(); });
      child.once('exit', (code) => reject(new Error(`import ended (${code}) before it could be killed:\n${err}`)));
    });
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;

    const small = path.join(work, 'small.csv');
    writeFileSync(small, 'external_id,first_name,email\nS-1,Small,small.1@example.org\n');
    const next = await cli('import', ['customers', small, '--source', 'after'], env);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/was interrupted; marked INTERRUPTED/);

    const handle = await openDb({ databaseUrl: undefined, pgliteDir: dir, databasePoolMax: 1, gatewaySocketWaitMs: 0 });
    try {
      const { rows } = await handle.pglite!.query<{ source: string; status: string; batches: number }>("SELECT source, status, batches FROM import_runs WHERE source IN ('killed', 'after') ORDER BY started_at");
      expect(rows.map((r) => [r.source, r.status])).toEqual([['killed', 'INTERRUPTED'], ['after', 'COMPLETED']]);
      expect(rows[0]!.batches).toBeGreaterThan(0);
    } finally {
      await handle.close();
    }
  }, 900_000);
});
