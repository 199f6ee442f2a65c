import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { startApp, type TestApp } from '../helpers/app';
import { hasChromium, launchBrowser, type Browser } from './browser';

/** A page on its own localhost origin (another port), like a front-end dev server. */
async function pageServer(): Promise<{ origin: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>front-end</title><p>front-end</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const preflight = (url: string, origin: string) => fetch(url, {
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
});
const corsHeaders = (res: Response) => Object.fromEntries([...res.headers].filter(([k]) => k.startsWith('access-control-')));

describe('CORS (CORS_ORIGINS)', () => {
  let app: TestApp;
  let allowed: { origin: string; server: Server };
  let other: { origin: string; server: Server };
  beforeAll(async () => {
    allowed = await pageServer();
    other = await pageServer();
    app = await startApp({ CORS_ORIGINS: `https://console.example.com,${allowed.origin}` });
  });
  afterAll(async () => {
    await app?.close();
    allowed?.server.close();
    other?.server.close();
  });

  it('answers the preflight of an allowed origin with 204 and the CORS headers', async () => {
    const res = await preflight(app.url, allowed.origin);
    expect(res.status).toBe(204);
    expect(corsHeaders(res)).toEqual({
      'access-control-allow-origin': allowed.origin,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'authorization,content-type,accept,x-api-key,x-request-id,apollo-require-preflight,x-apollo-operation-name',
      'access-control-max-age': '600',
      'access-control-expose-headers': 'x-request-id,retry-after',
    });
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('gives a disallowed origin no CORS header at all', async () => {
    const res = await preflight(app.url, other.origin);
    expect(res.status).toBe(204);
    expect(corsHeaders(res)).toEqual({});
    const post = await fetch(app.url, { method: 'POST', headers: { origin: other.origin, 'content-type': 'application/json', authorization: `Bearer ${await app.token()}` }, body: JSON.stringify({ query: '{ viewer { id } }' }) });
    expect(corsHeaders(post)).toEqual({});
  });

  it('adds the CORS headers to the answers of an allowed origin, errors included', async () => {
    const res = await fetch(app.url, { method: 'POST', headers: { origin: allowed.origin, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ viewer { id } }' }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(allowed.origin);
    expect(res.headers.get('access-control-expose-headers')).toBe('x-request-id,retry-after');
  });

  it.skipIf(!hasChromium)('lets a page on an allowed origin call the API from Chromium, and not one on another origin', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchBrowser();
      const token = await app.token('AGENT');
      // Runs in the page: a cross-origin POST with an Authorization header (so the browser sends a preflight first).
      const call = ([url, t]: [string, string]) => fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` },
        body: JSON.stringify({ query: '{ viewer { id role } }' }),
      }).then(async (r) => ({ status: r.status, body: await r.json() as unknown, requestId: r.headers.get('x-request-id') }), (e: Error) => ({ error: e.message }));
      await browser.page.goto(`${allowed.origin}/`);
      const allowedResult = await browser.page.evaluate(call, [app.url, token] as [string, string]);
      expect(allowedResult).toMatchObject({ status: 200, body: { data: { viewer: { id: 'test-agent', role: 'AGENT' } } } });
      // Exposed to the page's code through Access-Control-Expose-Headers.
      expect((allowedResult as { requestId: string | null }).requestId).toMatch(/^[0-9a-f-]{36}$/);
      await browser.page.goto(`${other.origin}/`);
      const refused = await browser.page.evaluate(call, [app.url, token] as [string, string]);
      expect(refused).toEqual({ error: 'Failed to fetch' });
      await browser.screenshot('cors-other-origin');
      expect(browser.blocked).toEqual([]);
    } finally {
      await browser?.close();
    }
  }, 60_000);
});

describe('CORS_ORIGINS in the configuration', () => {
  it.each([['*'], ['https://*.example.com'], ['https://app.example.com/'], ['https://app.example.com/path'], ['app.example.com'], ['ftp://files.example.com']])('refuses %s', (value) => {
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(ConfigError);
  });

  it('reads a comma-separated list of origins; none by default', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://console.example.com, http://localhost:5173' }).corsOrigins).toEqual(['https://console.example.com', 'http://localhost:5173']);
    expect(loadConfig({}).corsOrigins).toEqual([]);
  });
});
