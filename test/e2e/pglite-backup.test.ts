import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/db/client';
import { cli } from './helpers/processes';

/** Every public table: row count and a hash of its whole content (rows as text, sorted). */
async function fingerprint(dir: string): Promise<Record<string, { rows: number; md5: string }>> {
  const handle = await openDb({ databaseUrl: undefined, pgliteDir: dir, databasePoolMax: 1, gatewaySocketWaitMs: 0 });
  try {
    const { rows: tables } = await handle.pglite!.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema IN ('public', 'drizzle') AND table_type = 'BASE TABLE' ORDER BY 1");
    const out: Record<string, { rows: number; md5: string }> = {};
    for (const { t } of tables) {
      const schema = t === '__drizzle_migrations' ? 'drizzle' : 'public';
      const { rows } = await handle.pglite!.query<{ n: number; h: string }>(`SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${schema}"."${t}" x`);
      out[t] = { rows: rows[0]!.n, md5: rows[0]!.h };
    }
    return out;
  } finally {
    await handle.close();
  }
}

describe('db:backup and db:restore (PGlite)', () => {
  let dir: string;
  let work: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'c360-backup-src-'));
    work = mkdtempSync(path.join(tmpdir(), 'c360-backup-work-'));
    env = { ...process.env, PGLITE_DIR: dir, NODE_ENV: 'development', LOG_LEVEL: 'warn' };
    for (const k of ['DATABASE_URL', 'JWT_SECRET', 'ENCRYPTION_KEYS', 'PRIVACY_HASH_KEY', 'DEV_SECRETS_DIR']) delete env[k];
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('a seeded database, backed up and restored into a new directory, has every table with the same rows', async () => {
    const seeded = await cli('seed', ['--customers', '40'], env, 300_000);
    expect(seeded.stderr).toBe('');
    expect(seeded.code).toBe(0);
    const file = path.join(work, 'backup.tar.gz');
    const backup = await cli('db-backup', ['--out', file], env, 300_000);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain(`to ${file}`);

    const target = path.join(work, 'restored');
    const restored = await cli('db-restore', ['--in', file, '--dir', target], env, 300_000);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    // No lock left behind: the restored directory opens at once.
    expect(readdirSync(target)).not.toContain('gateway.lock');

    const original = await fingerprint(dir);
    const copy = await fingerprint(target);
    expect(Object.keys(original).length).toBeGreaterThan(25);
    expect(original.customers?.rows).toBe(40);
    expect(original.transactions?.rows).toBeGreaterThan(40);
    expect(copy).toEqual(original);

    // The restored directory works for the CLIs with its own (copied) development key: encrypted columns decrypt.
    const out = path.join(work, 'customers.csv');
    const exported = await cli('export', ['customers', '--format', 'csv', '--out', out], { ...env, PGLITE_DIR: target }, 300_000);
    expect(exported.stderr).toContain('40 customers');
    expect(exported.code).toBe(0);
  }, 1_200_000);

  it('restore refuses a non-empty directory without --force, and a missing file; bad arguments exit 1 with usage', async () => {
    const occupied = mkdtempSync(path.join(work, 'occupied-'));
    writeFileSync(path.join(occupied, 'keep.txt'), 'mine');
    const file = path.join(work, 'backup.tar.gz');
    const refused = await cli('db-restore', ['--in', file, '--dir', occupied], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is not empty');
    expect(refused.stderr).toContain('--force');
    expect(readdirSync(occupied)).toEqual(['keep.txt']);
    const missing = await cli('db-restore', ['--in', path.join(work, 'nope.tar.gz'), '--dir', path.join(work, 'new')], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file');
    const noOut = await cli('db-backup', [], env);
    expect(noOut.code).toBe(1);
    expect(noOut.stderr).toContain("required option '-o, --out <file>'");
    const pg = await cli('db-backup', ['--out', file], { ...env, DATABASE_URL: 'postgres://u@127.0.0.1:1/x' });
    expect(pg.code).toBe(1);
    expect(pg.stderr).toContain('pg_dump -Fc');
  }, 300_000);
});
