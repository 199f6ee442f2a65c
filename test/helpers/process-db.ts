import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TEST_HASH_KEY, TEST_JWT_SECRET } from './app';
import { usingPostgres } from './db';
import { TEST_ENCRYPTION_KEYS } from './encryption';
import { createPgDatabase } from './ops';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

/**
 * A database that CLI child processes can open too: a fresh clone of the template on TEST_DATABASE_URL's
 * server, or a PGlite directory (one process at a time: close the in-process server before a CLI runs).
 * `env` is what both the CLI and startOpsApp get.
 */
export async function createProcessDb(prefix: string): Promise<{ env: Record<string, string>; destroy(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
  const common = { PGLITE_DIR: dir, JWT_SECRET: TEST_JWT_SECRET, PRIVACY_HASH_KEY: TEST_HASH_KEY, ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS, LOG_LEVEL: 'silent' };
  if (usingPostgres()) {
    const pg = await createPgDatabase(prefix.replace(/\W/g, '_'));
    return { env: { ...common, DATABASE_URL: pg.url }, async destroy() { await pg.drop(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const env = { ...common, DATABASE_URL: '' };
  await runCli('src/cli/migrate.ts', [], env);
  return { env, async destroy() { rmSync(dir, { recursive: true, force: true }); } };
}

/** Runs a CLI entry point (`src/cli/<name>.ts`) as a child process, as `npm run` does; never throws on a non-zero exit. */
export async function runCli(script: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(TSX, [script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 240_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: Number(err.code ?? -1), stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}
