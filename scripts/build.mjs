#!/usr/bin/env node
// Compiles the gateway, its CLIs and the benchmark's gateway server to JavaScript in dist/ (esbuild,
// one bundle per entry point, packages left to node_modules). Production runs these files with plain
// `node`: no TypeScript loader on the request path. Skips the work when dist/ is newer than every
// source file (`npm start` calls this before it starts); `--force` rebuilds anyway.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.build-stamp');
const SOURCES = ['src', 'bench', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json'];

/** Entry points: the server, every CLI, and the benchmark's gateway process. */
function entries() {
  const cli = readdirSync(path.join(ROOT, 'src/cli')).filter((f) => f.endsWith('.ts')).map((f) => `src/cli/${f}`);
  return ['src/index.ts', ...cli, 'bench/gateway-server.ts'];
}

function newestMtime(p) {
  const full = path.join(ROOT, p);
  if (!existsSync(full)) return 0;
  const st = statSync(full);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of readdirSync(full)) if (e !== 'results' && e !== 'node_modules') newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

export function isStale() {
  if (!existsSync(STAMP)) return true;
  const built = Number(readFileSync(STAMP, 'utf8')) || 0;
  return SOURCES.some((s) => newestMtime(s) > built);
}

export async function build({ force = false, quiet = false } = {}) {
  if (!force && !isStale()) return false;
  const started = Date.now();
  const { build: esbuild } = await import('esbuild');
  await esbuild({
    absWorkingDir: ROOT,
    entryPoints: entries(),
    outdir: DIST,
    outbase: '.',
    bundle: true,
    splitting: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
  writeFileSync(STAMP, String(started));
  if (!quiet) process.stderr.write(`built dist/ in ${Date.now() - started} ms\n`);
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const force = process.argv.includes('--force');
  build({ force, quiet: process.argv.includes('--quiet') }).catch((err) => {
    process.stderr.write(`build failed: ${err?.message ?? err}\n`);
    process.exit(1);
  });
}
