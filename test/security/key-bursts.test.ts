import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpsApp, type OpsApp } from '../helpers/ops';
import { createProcessDb, runCli } from '../helpers/process-db';

/**
 * Partner keys get a burst: `npm run apikey -- create --rate 120` (as a process, as an operator runs it)
 * makes a key that can send 60 quick requests (its rate, capped by RATE_LIMIT_BURST=60), then answers
 * HTTP 429 RATE_LIMITED with Retry-After. Before, the bucket was rate/60: the third quick request was refused.
 */
describe('API key bursts (npm run apikey -- create --burst)', () => {
  let db: Awaited<ReturnType<typeof createProcessDb>>;
  let app: OpsApp;

  const apikey = (...args: string[]) => runCli('src/cli/apikey.ts', args, db.env);
  const create = async (...args: string[]) => {
    const r = await apikey('create', '--name', `burst ${args.join(' ')}`, '--scopes', 'customers:read', '--purpose', 'partner_sharing', ...args);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
  };

  let keyRate120 = '';
  let keyRate6Burst10 = '';
  let badBurst: Awaited<ReturnType<typeof apikey>>;
  let help: Awaited<ReturnType<typeof apikey>>;
  beforeAll(async () => {
    db = await createProcessDb('c360-bursts');
    // The CLI runs (and exits) before the server opens the database: an embedded PGlite directory has one user at a time.
    keyRate120 = await create('--rate', '120');
    keyRate6Burst10 = await create('--rate', '6', '--burst', '10');
    badBurst = await apikey('create', '--name', 'bad', '--scopes', 'customers:read', '--purpose', 'partner_sharing', '--burst', '0');
    help = await apikey('create', '--help');
    app = await startOpsApp({ ...db.env, RATE_LIMIT_BURST: '60', RATE_LIMIT_PER_MINUTE: '600' });
  }, 300_000);
  afterAll(async () => {
    await app?.close();
    await db?.destroy();
  });

  const asKey = async (key: string) => {
    const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ query: '{ viewer { id } }' }) });
    const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
    return { status: res.status, code: body.errors?.[0]?.extensions?.code ?? null, retryAfter: res.headers.get('retry-after') };
  };
  const quick = async (key: string, n: number) => {
    const out: Awaited<ReturnType<typeof asKey>>[] = [];
    for (let i = 0; i < n; i++) out.push(await asKey(key));
    return out;
  };

  it('lets a --rate 120 key make 60 quick requests (its rate, capped by RATE_LIMIT_BURST), then answers 429 RATE_LIMITED with Retry-After', async () => {
    const results = await quick(keyRate120, 61);
    expect(results.slice(0, 60).map((r) => r.status)).toEqual(Array(60).fill(200));
    const limited = results[60]!;
    expect([limited.status, limited.code]).toEqual([429, 'RATE_LIMITED']);
    // The window of a 60-request burst at 120 per minute is 30 s.
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(30);
  });

  it('gives a key its own --burst, even above its per-minute rate', async () => {
    const results = await quick(keyRate6Burst10, 11);
    expect(results.map((r) => r.status)).toEqual([...Array(10).fill(200), 429]);
    expect(results[10]!.code).toBe('RATE_LIMITED');
    // 10 requests at 6 per minute: the window is 100 s.
    expect(Number(results[10]!.retryAfter)).toBeGreaterThan(30);
    expect(Number(results[10]!.retryAfter)).toBeLessThanOrEqual(100);
  });

  it('shows the burst on the key', async () => {
    const res = await app.post({ query: '{ apiKeys { name rateLimitPerMinute rateLimitBurst } }' });
    const keys = (res.body.data?.apiKeys ?? []) as { name: string; rateLimitPerMinute: number | null; rateLimitBurst: number | null }[];
    expect(keys.map((k) => [k.rateLimitPerMinute, k.rateLimitBurst]).sort()).toEqual([[120, null], [6, 10]]);
  });

  it('refuses a burst outside 1-100000 naming the option, exit code 1', () => {
    expect(badBurst.code).toBe(1);
    expect(badBurst.stderr).toContain('apikey: --burst: rateLimitBurst must be between 1 and 100000');
  });

  it('documents --burst in --help', () => {
    expect(help.stdout).toMatch(/--burst <requests>\s+requests the key may make at once/);
  });
});
