import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The repository root; CLIs and the gateway run from there, as `npm run ...` does. */
export const ROOT = path.resolve(import.meta.dirname, '../../..');
/** tsx's loader by path: the gateway may run from another working directory. */
const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export interface CliResult { code: number; stdout: string; stderr: string }

/**
 * A CLI as the user runs it: its own process (`node --import tsx src/cli/<name>.ts`, what `npm run <name>`
 * does without npm's extra shell), stdout and stderr as pipes (not a terminal). Never throws on a non-zero exit.
 */
export function cli(name: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', `src/cli/${name}.ts`, ...args], { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Gateway { proc: ChildProcess; url: string; output: () => string; stop(): Promise<number | null> }

/** `npm start` (node --import tsx src/index.ts) until it logs its URL. */
export async function startGateway(env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Gateway> {
  const proc = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'src/index.ts')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output}`)), 240_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"url":"(http:\/\/[^"]+\/graphql)"/.exec(output);
      if (m?.[1]) { clearTimeout(timer); resolve(m[1]); }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`gateway exited with ${code}:\n${output}`)); });
  });
  return {
    proc, url, output: () => output,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** `npm start` expected to fail: its exit code and everything it printed. */
export function failingGateway(env: NodeJS.ProcessEnv, cwd = ROOT): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'src/index.ts')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (c: Buffer) => { output += c.toString(); });
  proc.stderr.on('data', (c: Buffer) => { output += c.toString(); });
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 240_000);
    proc.once('exit', (code) => { clearTimeout(timer); resolve({ code, output }); });
    // A gateway that starts after all is a failure of the test, not a hang.
    proc.stdout.on('data', () => { if (/gateway listening/.test(output)) proc.kill('SIGTERM'); });
  });
}

export async function gql(url: string, auth: string, query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] } }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: (await res.json()) as never };
}
