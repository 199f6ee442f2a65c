#!/usr/bin/env node
// `node scripts/run.mjs src/cli/<name>.ts [args...]`: builds dist/ when stale, then runs the compiled
// entry point in this process (the CLIs' npm scripts go through here, as `npm start` does).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from './build.mjs';

const entry = process.argv[2];
if (!entry || !entry.endsWith('.ts')) {
  process.stderr.write('usage: node scripts/run.mjs <entry.ts> [args...]\n');
  process.exit(2);
}
await build({ quiet: true });
const compiled = path.resolve(import.meta.dirname, '..', 'dist', entry.replace(/\.ts$/, '.js'));
// The entry point sees its own arguments as if it had been started directly.
process.argv.splice(1, 2, compiled);
await import(pathToFileURL(compiled).href);
