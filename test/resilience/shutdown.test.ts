import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/auth/token';
import { openDb } from '../../src/db/client';
import { createSeeder } from '../factories/index';
import { TEST_HASH_KEY, TEST_JWT_SECRET } from '../helpers/app';
import { createPgDatabase } from '../helpers/ops';

/**
 * Graceful shutdown of the real process (`node --import tsx src/index.ts`) under load: SIGTERM while
 * requests are in flight. Every request that reached the server gets a complete response; requests
 * started after the listener closed are refused at connect (ECONNREFUSED: never accepted, a client
 * retries them elsewhere); nothing is cut half-way; the audit buffer is flushed; exit code 0.
 * A connection can also be reset (ECONNRESET) after the signal: one the kernel had queued but the busy
 * server had not accepted when the listener closed, or a keep-alive connection the drain closed as idle
 * in the instant its client sent on it. Such a request never reached the application: the audit check
 * at the end proves it (every request the gateway processed wrote its audit row, and the number of
 * audited requests must equal the number of complete responses). So a request counts as dropped when it
 * got an incomplete or wrong answer, failed before the signal, or was processed without being answered.
 */
const url = process.env.TEST_DATABASE_URL;
const REPO = path.resolve(import.meta.dirname, '../..');
const QUERY = '{ customers(first: 50) { edges { node { id displayName email tags { value tag { id } } } } } }';

async function freePort(): Promise<number> {
  const s = createServer();
  const port = await new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe.skipIf(!url)('graceful shutdown (real process, SIGTERM under load)', () => {
  let dbase: Awaited<ReturnType<typeof createPgDatabase>>;
  let child: ChildProcess;
  let base: string;
  let output = '';

  beforeAll(async () => {
    dbase = await createPgDatabase('c360_ops_shutdown');
    const handle = await openDb({ databaseUrl: dbase.url, pgliteDir: '', databasePoolMax: 2 });
    const seed = createSeeder(handle.db);
    for (let i = 0; i < 60; i++) await seed.customer().create();
    await handle.close();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // `node --import tsx src/index.ts`: the process that receives SIGTERM is the server itself, as in a
    // container. Measured: `npx tsx` dies of the signal without waiting for its child (orphaning it),
    // and the tsx CLI re-sends the signal to a busy child and reports 143.
    child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
      cwd: REPO,
      env: {
        ...process.env, NODE_ENV: 'test', DATABASE_URL: dbase.url, PORT: String(port), HOST: '127.0.0.1', SEED_DEMO: 'false',
        JWT_SECRET: TEST_JWT_SECRET, PRIVACY_HASH_KEY: TEST_HASH_KEY, LOG_LEVEL: 'info', RATE_LIMIT_BURST: '100000',
        RATE_LIMIT_PER_MINUTE: '1000000', SHUTDOWN_TIMEOUT_MS: '10000', DATABASE_POOL_MAX: '4',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr?.on('data', (c: Buffer) => { output += c.toString(); });
    const t0 = Date.now();
    // Generous: tsx compiles the whole app at start, slow on a loaded 2-core machine.
    while (Date.now() - t0 < 150_000) {
      const ok = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
      if (ok) return;
      if (child.exitCode !== null) throw new Error(`gateway exited early:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`gateway did not become ready:\n${output}`);
  }, 180_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await dbase?.drop();
  });

  it('answers every accepted request completely, flushes the audit log and exits 0', async () => {
    const auth = { secret: new TextEncoder().encode(TEST_JWT_SECRET), issuer: 'customer360', audience: 'customer360-gateway' };
    const token = await signToken(auth, { sub: 'shutdown-test', role: 'ADMIN' }, '1h');
    const results = { complete: 0, completeAfterSignal: 0, refused: 0, resetUnprocessed: 0, dropped: [] as string[] };
    let signalled = false;
    let stop = false;

    const worker = async () => {
      // Bounded: at most 400 requests per worker, and every worker stops at the first refusal.
      for (let i = 0; i < 400 && !stop; i++) {
        const sentAfterSignal = signalled;
        try {
          const res = await fetch(`${base}/graphql`, {
            method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: QUERY }),
          });
          const body = (await res.json()) as { data?: { customers?: { edges: unknown[] } }; errors?: unknown[] };
          if (res.status === 200 && body.data?.customers?.edges.length === 50 && !body.errors) {
            results.complete++;
            if (sentAfterSignal || signalled) results.completeAfterSignal++;
          } else {
            results.dropped.push(`status ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
          }
        } catch (e) {
          const code = (e as { cause?: { code?: string } }).cause?.code;
          if (code === 'ECONNREFUSED' && signalled) { results.refused++; return; }
          if (code === 'ECONNRESET' && signalled) { results.resetUnprocessed++; return; }
          results.dropped.push(`${code ?? ''} ${String(e)}`);
          return;
        }
      }
    };

    const workers = Array.from({ length: 12 }, () => worker());
    // Under load first: wait for a couple of rounds (bounded), then signal with requests in flight.
    for (let t = 0; t < 200 && results.complete < 24 && !results.dropped.length; t++) await new Promise((r) => setTimeout(r, 100));
    const before = results.complete;
    signalled = true;
    child.kill('SIGTERM');
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    stop = true;
    await Promise.all(workers);

    expect(results.dropped, output.split('\n').filter((l) => !l.includes('graphql request')).slice(-12).join('\n')).toEqual([]);
    expect(before).toBeGreaterThan(0);
    expect(results.completeAfterSignal).toBeGreaterThan(0);
    expect(exitCode).toBe(0);
    expect(output).toContain('"msg":"shut down"');

    // Every completed request read personal data (email) of 50 customers: its audit rows were written,
    // including those still buffered when SIGTERM came (the writer flushes every second otherwise).
    const admin = postgres(dbase.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await admin<{ n: number }[]>`SELECT count(DISTINCT request_id)::int AS n FROM audit_log WHERE actor_id = 'shutdown-test'`;
      expect(row!.n).toBe(results.complete);
    } finally {
      await admin.end();
    }
    console.log(`[shutdown] ${results.complete} complete responses (${results.completeAfterSignal} finished after SIGTERM), ${results.refused} refused at connect after the listener closed, ${results.resetUnprocessed} reset without reaching the application, 0 dropped; exit code ${exitCode}`);
  }, 60_000);
});

describe.skipIf(Boolean(url))('graceful shutdown', () => {
  it.skip('needs TEST_DATABASE_URL (spawns the real server process against PostgreSQL)', () => {});
});
