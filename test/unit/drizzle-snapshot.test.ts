import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('drizzle/meta snapshots', () => {
  it('describe the schema in src/db/schema: `npm run db:generate` finds nothing to migrate', () => {
    // drizzle-kit writes its output next to the migrations; it runs on a copy so that a stale
    // snapshot fails this test instead of adding files to the repository.
    const out = `.drizzle-check-${process.pid}`;
    cpSync(path.join(ROOT, 'drizzle'), path.join(ROOT, out), { recursive: true });
    try {
      const stdout = execFileSync(process.execPath, [path.join(ROOT, 'node_modules/drizzle-kit/bin.cjs'), 'generate',
        '--dialect', 'postgresql', '--schema', './src/db/schema/index.ts', '--out', `./${out}`], { cwd: ROOT, encoding: 'utf8' });
      expect(stdout).toContain('No schema changes');
      expect(readdirSync(path.join(ROOT, out)).filter((f) => f.endsWith('.sql')).sort()).toEqual(readdirSync(path.join(ROOT, 'drizzle')).filter((f) => f.endsWith('.sql')).sort());
    } finally {
      rmSync(path.join(ROOT, out), { recursive: true, force: true });
    }
  });
});
