import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface GatewayProcess {
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** The PGlite directory (fresh, removed by stop()). */
  dir: string;
  env: NodeJS.ProcessEnv;
  output(): string;
  stop(): Promise<void>;
}

/**
 * `npm start` as a child process (node --import tsx src/index.ts) on a fresh PGlite directory.
 * `env` is the whole environment of the gateway besides PATH/HOME: NODE_ENV is not inherited from
 * vitest (which sets it to "test"), so a test that leaves it out runs the server with NODE_ENV unset.
 */
export async function startGateway(env: Record<string, string>): Promise<GatewayProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'c360-e2e-'));
  const full: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME,
    PGLITE_DIR: dir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env,
  };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], { cwd: ROOT, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 180_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+\/graphql)"/.exec(output);
      if (m?.[1]) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)); });
  });
  return {
    url, dir, env: full,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
