import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * `npm start` for real: the gateway as a separate process (node --import tsx src/index.ts, as
 * package.json runs it) on an empty PGlite directory, in development mode, seeding the demo data.
 */
export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ServerProcess {
  url: string;
  env: NodeJS.ProcessEnv;
  output(): string;
  /** `npm run <script>` as a process with the server's environment: its stdout. */
  cli(script: string, args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startServerProcess(extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'c360-e2e-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env, DATABASE_URL: '', PGLITE_DIR: dir, PORT: '0', HOST: '127.0.0.1', SEED_CUSTOMERS: '40', LOG_LEVEL: 'info', NODE_ENV: 'development', ...extraEnv,
  };
  const server: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 240_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+\/graphql)"/.exec(output);
      if (m?.[1]) { clearTimeout(timer); resolve(m[1]); }
    };
    server.stdout?.on('data', onData);
    server.stderr?.on('data', onData);
    server.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)); });
  });
  return {
    url, env,
    output: () => output,
    async cli(script, args) {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env });
      return stdout;
    },
    async stop() {
      if (server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        const timer = setTimeout(() => server.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POST /graphql with a bearer token. */
export async function gql<T>(url: string, token: string, query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] } }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] } };
}
