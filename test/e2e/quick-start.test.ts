import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_360 } from '../helpers/queries';
import { hasChromium, launchBrowser } from './browser';

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

  it('refuses requests without a token (with a stack trace: NODE_ENV=development is set)', async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ viewer { id } }' }) });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { errors: { extensions: { code: string; stacktrace?: string[] } }[] };
    expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
    expect(body.errors[0]?.extensions.stacktrace?.length).toBeGreaterThan(0);
  });

  it('redirects GET / to the IDE at /graphql, whose page and files come from this server', async () => {
    const root = await fetch(url.replace(/\/graphql$/, '/'), { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/graphql');
    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('href="/ide/ruru.js"');
    // No URL to another host anywhere in the page (Apollo's landing page loaded Sandbox from its CDN).
    expect(html.match(/https?:\/\/[^\s"'<>]+/g) ?? []).toEqual([]);
    const css = await fetch(url.replace(/\/graphql$/, '/ide/ruru.css'));
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it.skipIf(!hasChromium)('runs the README\'s first query in the IDE in Chromium, offline, with a token from `npm run token`', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['scripts/run.mjs', 'src/cli/token.ts', '--role', 'ADMIN'], { cwd: ROOT, env });
    const token = stdout.trim();
    const browser = await launchBrowser();
    try {
      const { page } = browser;
      await page.goto(url.replace(/\/graphql$/, '/'));
      expect(page.url()).toBe(url);
      expect(await page.title()).toBe('Customer 360 gateway: GraphQL IDE');
      // The header editor is open and prefilled with the Authorization header (a placeholder).
      const headers = page.locator('.graphiql-editor-tool .view-lines').filter({ hasText: 'Authorization' });
      await headers.waitFor({ timeout: 60_000 });
      await headers.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.insertText(`{"Authorization": "Bearer ${token}"}`);
      // The editor closes brackets and quotes by itself: drop what it added after the cursor.
      await page.keyboard.press('Shift+Control+End');
      await page.keyboard.press('Delete');
      await page.getByRole('button', { name: /^Execute query/ }).click();
      const response = page.locator('.graphiql-response');
      await response.getByText('"totalCount": 25').waitFor({ timeout: 30_000 });
      // Monaco renders spaces as no-break spaces.
      expect((await response.innerText()).replace(/\s+/g, ' ')).toContain('"role": "ADMIN"');
      const shot = await browser.screenshot('ide-readme-query');
      console.log(`IDE screenshot: ${shot}`);
      expect(browser.blocked).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
