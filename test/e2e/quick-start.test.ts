import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_360 } from '../helpers/queries';

/**
 * The README's quick start, for real: `npm start` (build dist/ when stale, then node dist/src/index.js)
 * on an empty PGlite directory migrates, seeds demo data and serves; `npm run token` mints a token the
 * server accepts. Runs the entry points as separate processes exactly as a user would (compiled ESM, no tsx).
 */
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('quick start: npm start on embedded PGlite', () => {
  let dir: string;
  let server: ChildProcess;
  let url = '';
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'c360-quickstart-'));
    env = { ...process.env, DATABASE_URL: '', PGLITE_DIR: dir, PORT: '0', HOST: '127.0.0.1', SEED_CUSTOMERS: '25', LOG_LEVEL: 'info', NODE_ENV: 'development' };
    // What `npm start` runs (package.json): prestart builds dist/ when stale, start runs it with plain node.
    // (npm itself would be a second process between the test and the server's signals.)
    await promisify(execFile)(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, env });
    server = spawn(process.execPath, ['dist/src/index.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 180_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = /"url":"(http:\/\/[^"]+\/graphql)"/.exec(output);
        if (m?.[1]) { clearTimeout(timer); resolve(m[1]); }
      };
      server.stdout?.on('data', onData);
      server.stderr?.on('data', onData);
      server.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)); });
    });
  }, 240_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      // Graceful shutdown takes a moment; never leave the process behind.
      const timer = setTimeout(() => server.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('serves demo data to a token from `npm run token`', async () => {
    // `npm run token` = node scripts/run.mjs src/cli/token.ts (the compiled CLI).
    const { stdout } = await promisify(execFile)(process.execPath, ['scripts/run.mjs', 'src/cli/token.ts', '--role', 'AGENT'], { cwd: ROOT, env });
    const token = stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: FULL_360, variables: { first: 5 } }),
    });
    const body = (await res.json()) as { data?: { customers: { totalCount: number; edges: { node: { displayName: string } }[] } }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    expect(body.data?.customers.totalCount).toBe(25);
    expect(body.data?.customers.edges).toHaveLength(5);
  });

  it('refuses requests without a token', async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ viewer { id } }' }) });
    expect(res.status).toBe(401);
  });
});
