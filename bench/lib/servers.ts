import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { benchNode, READY_PREFIX, type ReadyLine } from './env';
import type { Log } from './log';

export const BENCH_DIR = path.resolve(import.meta.dirname, '..');
export const REPO_DIR = path.resolve(BENCH_DIR, '..');

export interface ServerProcess {
  name: string;
  url: string;
  port: number;
  pid: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  signal(sig: NodeJS.Signals): void;
  /** The rest of the next stdout line that starts with `prefix`. */
  nextLine(prefix: string, timeoutMs?: number): Promise<string>;
}

export interface StartOptions {
  name: string;
  /** Script under bench/, run with tsx. */
  script: string;
  args?: string[];
  env: Record<string, string | undefined>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  log: Log;
}

/**
 * Starts a server script in its own Node process (its own event loop and CPU time, apart from the
 * load generator) and waits for its ready line. Its stderr is passed through, prefixed.
 */
export function startServer(opts: StartOptions): Promise<ServerProcess> {
  // BENCH_GATEWAY_NODE_ARGS: extra node flags for the gateway process only (e.g. --trace-gc, V8 heap sizes).
  const extra = opts.script === 'gateway-server.ts' ? (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(/\s+/).filter(Boolean) : [];
  // The gateway runs as production does: compiled JavaScript from dist/ (scripts/build.mjs, rebuilt when
  // stale), no TypeScript loader. BENCH_GATEWAY_TSX=1 runs it under tsx instead.
  const compiled = opts.script === 'gateway-server.ts' && process.env.BENCH_GATEWAY_TSX !== '1';
  if (compiled) {
    const built = spawnSync(process.execPath, [path.join(REPO_DIR, 'scripts/build.mjs')], { cwd: REPO_DIR, stdio: ['ignore', 'inherit', 'inherit'] });
    if (built.status !== 0) return Promise.reject(new Error('scripts/build.mjs failed: the gateway cannot be built to dist/'));
  }
  const entry = compiled ? [path.join(REPO_DIR, 'dist/bench', opts.script.replace(/\.ts$/, '.js'))] : ['--import', 'tsx', path.join(BENCH_DIR, opts.script)];
  const child = spawn(benchNode(), [...(opts.nodeArgs ?? []), ...extra, ...entry, ...(opts.args ?? [])], {
    cwd: REPO_DIR,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  prefixLines(child.stderr, (line) => opts.log(`${opts.name}: ${line}`));

  const waiters: { prefix: string; resolve: (rest: string) => void }[] = [];
  return new Promise<ServerProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${opts.name} did not print its ready line within ${opts.readyTimeoutMs ?? 60_000} ms`));
    }, opts.readyTimeoutMs ?? 60_000);
    let ready = false;
    child.once('exit', (code, signal) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`${opts.name} exited before it was ready (code ${code}, signal ${signal})`));
    });
    prefixLines(child.stdout, (line) => {
      if (!ready && line.startsWith(READY_PREFIX)) {
        ready = true;
        clearTimeout(timer);
        const info = JSON.parse(line.slice(READY_PREFIX.length)) as ReadyLine;
        resolve({
          name: opts.name,
          port: info.port,
          pid: info.pid,
          url: `http://127.0.0.1:${info.port}`,
          stop: (graceMs = 15_000) => stopChild(child, exited, graceMs),
          signal: (sig) => { child.kill(sig); },
          nextLine: (prefix, timeoutMs = 60_000) => new Promise<string>((res, rej) => {
            const t = setTimeout(() => rej(new Error(`${opts.name}: no "${prefix.trim()}" line within ${timeoutMs} ms`)), timeoutMs);
            waiters.push({ prefix, resolve: (rest) => { clearTimeout(t); res(rest); } });
          }),
        });
        return;
      }
      const w = waiters.findIndex((x) => line.startsWith(x.prefix));
      if (w >= 0) {
        const [waiter] = waiters.splice(w, 1);
        waiter!.resolve(line.slice(waiter!.prefix.length));
      } else {
        opts.log(`${opts.name}: ${line}`);
      }
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function prefixLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trimEnd();
      buf = buf.slice(i + 1);
      if (line) onLine(line);
    }
  });
}
