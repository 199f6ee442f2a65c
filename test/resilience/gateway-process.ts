import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { signToken } from '../../src/auth/token';
import { TEST_JWT_SECRET } from '../helpers/app';
import { TEST_ENCRYPTION_KEYS, TEST_HASH_KEY } from '../helpers/encryption';

const REPO = path.resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  const s = createServer();
  const port = await new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface GatewayProcess {
  child: ChildProcess;
  base: string;
  port: number;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** SIGKILL if still running (afterAll). */
  kill(): void;
}

/**
 * The real gateway process, `node --import tsx src/index.ts`, as a container runs it: the process that
 * receives SIGTERM is the server itself (measured: `npx tsx` dies of the signal without waiting for its
 * child, and the tsx CLI re-sends the signal to a busy child). `nodeEnv` is the mode under test:
 * never 'test' for a behaviour that differs by mode (Apollo's signal handlers do).
 */
export async function startGatewayProcess(opts: { nodeEnv: 'production' | 'development' | 'test'; env: Record<string, string> }): Promise<GatewayProcess> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: REPO,
    env: {
      ...process.env, NODE_ENV: opts.nodeEnv, PORT: String(port), HOST: '127.0.0.1', SEED_DEMO: 'false',
      JWT_SECRET: TEST_JWT_SECRET, PRIVACY_HASH_KEY: TEST_HASH_KEY, ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS, LOG_LEVEL: 'info',
      RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_MINUTE: '1000000', ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr?.on('data', (c: Buffer) => { output += c.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const t0 = Date.now();
  // Generous: tsx compiles the whole app at start, slow on a loaded 2-core machine.
  while (Date.now() - t0 < 150_000) {
    const ok = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) return { child, base, port, output: () => output, exited, kill: () => { if (child.exitCode === null) child.kill('SIGKILL'); } };
    if (child.exitCode !== null) throw new Error(`gateway exited early:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`gateway did not become ready:\n${output}`);
}

/** A bearer token the spawned gateway accepts. */
export async function bearerFor(sub: string, role: 'ADMIN' | 'AGENT' = 'ADMIN'): Promise<string> {
  const auth = { secret: new TextEncoder().encode(TEST_JWT_SECRET), issuer: 'customer360', audience: 'customer360-gateway' };
  return `Bearer ${await signToken(auth, { sub, role }, '1h')}`;
}

/** The last log lines other than per-request ones (for assertion messages). */
export function tail(output: string, n = 15): string {
  return output.split('\n').filter((l) => !l.includes('graphql request')).slice(-n).join('\n');
}
