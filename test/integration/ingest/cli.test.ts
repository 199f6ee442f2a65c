import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../../src/config';
import { execRows } from '../../../src/db/client';
import { exportCommand } from '../../../src/modules/ingest/export.command';
import { importCommand } from '../../../src/modules/ingest/import.command';
import { TEST_HASH_KEY, TEST_JWT_SECRET } from '../../helpers/app';
import { createSeeder } from '../../factories/index';
import { createTestDb, type TestDb } from '../../helpers/db';
import { fixture, resetCustomerData, tmp } from './helpers';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../../..');

let db: TestDb;
beforeAll(async () => { db = await createTestDb(); }, 300_000);
afterAll(async () => { await db.destroy(); });
beforeEach(async () => { await resetCustomerData(db.db); });

const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, PRIVACY_HASH_KEY: TEST_HASH_KEY, PGLITE_DIR: '/nonexistent', INGEST_BATCH_SIZE: '5' });

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), tty: false } };
}

describe('npm run import (the command)', () => {
  it('imports a file and prints the summary with per-column quality', async () => {
    const c = io();
    const errors = path.join(tmp(), 'errors.csv');
    const code = await importCommand(['customers', fixture('customers-messy.csv'), '--source', 'crm', '--errors', errors], { handle: db, config, io: c.io });
    expect(code).toBe(0);
    const text = c.out.join('\n');
    expect(text).toContain('rows read 17 = stored 11 + rejected 6');
    expect(text).toMatch(/email\s+88\.2%\s+6\.7%/);
    expect(text).toContain(`rejected rows and reasons: ${errors}`);
    expect(text).toContain('ignored headers (map them with --map column=Header): Loyalty Level');
  });

  it('prints JSON with --json and honours --map and --dry-run', async () => {
    const c = io();
    const code = await importCommand(['customers', fixture('customers-latin1.csv'), '--source', 'erp', '--map', 'external_id=Kundennummer', '--dry-run', '--json',
      '--errors', path.join(tmp(), 'e.csv')], { handle: db, config, io: c.io });
    expect(code).toBe(0);
    const s = JSON.parse(c.out.at(-1)!) as { dryRun: boolean; rowsRead: number; stored: number; delimiter: string; peakRssBytes: number };
    expect(s).toMatchObject({ dryRun: true, rowsRead: 2, delimiter: ';' });
    expect(s.peakRssBytes).toBeGreaterThan(0);
  });

  it('refuses unknown entities, a missing --source and missing files with exit code 1', async () => {
    const a = io();
    expect(await importCommand(['planets', fixture('tags.csv'), '--source', 'x'], { handle: db, config, io: a.io })).toBe(1);
    expect(a.err.join('\n')).toContain('unknown entity "planets"');
    const b = io();
    expect(await importCommand(['tags', fixture('tags.csv')], { handle: db, config, io: b.io })).toBe(1);
    expect(b.err.join('\n')).toContain("required option '--source <system>' not specified");
    const c = io();
    expect(await importCommand(['tags', '/nonexistent/file.csv', '--source', 'x'], { handle: db, config, io: c.io })).toBe(1);
    expect(c.err.join('\n')).toContain('no such file: /nonexistent/file.csv');
  });
});

describe('npm run export (the command)', () => {
  it('streams customers as CSV and transactions as NDJSON, with a filter', async () => {
    await importCommand(['customers', fixture('customers-messy.csv'), '--source', 'crm', '--errors', path.join(tmp(), 'e.csv')], { handle: db, config, io: io().io });
    await importCommand(['transactions', fixture('transactions-items.csv'), '--source', 'shop', '--customer-source', 'crm', '--errors', path.join(tmp(), 'e2.csv')], { handle: db, config, io: io().io });
    const dir = tmp();
    const c = io();
    expect(await exportCommand(['customers', '--format', 'csv', '--out', path.join(dir, 'c.csv'), '--page-size', '3'], { handle: db, config, io: c.io })).toBe(0);
    const rows = parse(readFileSync(path.join(dir, 'c.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(8);
    expect(rows.find((r) => r.external_ids === 'crm:C-001;crm:C-009;crm:C-015')).toMatchObject({ email: 'ada@example.com', country: 'GB', completeness: '1' });
    expect(c.err.join('\n')).toContain('export: 8 customers');

    const t = io();
    const filter = JSON.stringify({ countries: ['GB'] });
    expect(await exportCommand(['transactions', '--format', 'ndjson', '--filter', filter, '--out', path.join(dir, 't.ndjson')], { handle: db, config, io: t.io })).toBe(0);
    const lines = readFileSync(path.join(dir, 't.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { external_id: string; items: unknown[] });
    expect(lines.map((l) => l.external_id).sort()).toEqual(['O-1', 'O-2']);
    expect(lines.find((l) => l.external_id === 'O-1')!.items).toHaveLength(2);
  });

  it('records each finished export in the audit log: who, what, how many rows', async () => {
    const before = await execRows<{ n: number }>(db.db, sql`SELECT count(*)::int AS n FROM audit_log WHERE actor_kind = 'cli'`);
    const filter = JSON.stringify({ countries: ['GB'] });
    const out = path.join(tmp(), 'gb.ndjson');
    expect(await exportCommand(['customers', '--format', 'ndjson', '--filter', filter, '--out', out, '--actor', 'ops-jane'],
      { handle: db, config, io: io().io })).toBe(0);
    const exported = readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).length;
    const rows = await execRows<{ actor_id: string; role: string; action: string; fields: string[]; operation_name: string }>(db.db,
      sql`SELECT actor_id, role, action, fields, operation_name FROM audit_log WHERE actor_kind = 'cli' ORDER BY occurred_at DESC LIMIT 1`);
    expect(rows[0]).toMatchObject({ actor_id: 'ops-jane', role: 'ADMIN', action: 'ADMIN', operation_name: 'npm run export' });
    expect(rows[0]!.fields).toEqual(expect.arrayContaining(['export:customers', 'format:ndjson', `filter:${filter}`]));
    expect(rows[0]!.fields).toContain(`rows:${exported}`);
    // A failed export (bad filter) writes no audit row.
    expect(await exportCommand(['customers', '--format', 'csv', '--filter', '{"countries":["XX"]}'], { handle: db, config, io: io().io })).toBe(1);
    const after = await execRows<{ n: number }>(db.db, sql`SELECT count(*)::int AS n FROM audit_log WHERE actor_kind = 'cli'`);
    expect(after[0]!.n).toBe(before[0]!.n + 1);
  });

  it('exports encrypted columns in clear: birth date, interaction subject and summary', async () => {
    const seed = createSeeder(db.db);
    const c = await seed.customer({ firstName: 'Clear', birthDate: '1984-03-09' }).withIdentity('crm', 'CLEAR-1')
      .withInteractions(1, { subject: 'Broken zipper', summary: 'Asked for a replacement' }).create();
    const stored = await execRows<{ birth_date: string }>(db.db, sql`SELECT birth_date FROM customers WHERE id = ${c.id}::uuid`);
    expect(stored[0]!.birth_date).toMatch(/^v1:/);
    const dir = tmp();
    expect(await exportCommand(['customers', '--format', 'csv', '--out', path.join(dir, 'c.csv')], { handle: db, config, io: io().io })).toBe(0);
    const customersOut = parse(readFileSync(path.join(dir, 'c.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(customersOut.find((r) => r.id === c.id)?.birth_date).toBe('1984-03-09');
    expect(await exportCommand(['interactions', '--format', 'ndjson', '--out', path.join(dir, 'i.ndjson')], { handle: db, config, io: io().io })).toBe(0);
    const ix = readFileSync(path.join(dir, 'i.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { customer_id: string; subject: string; summary: string });
    expect(ix.find((r) => r.customer_id === c.id)).toMatchObject({ subject: 'Broken zipper', summary: 'Asked for a replacement' });
  });

  it('explains a bad filter and an unknown segment with exit code 1', async () => {
    const a = io();
    expect(await exportCommand(['customers', '--format', 'csv', '--filter', '{"countries":["XX"]}'], { handle: db, config, io: a.io })).toBe(1);
    expect(a.err.join('\n')).toContain('bad filter');
    const b = io();
    expect(await exportCommand(['customers', '--format', 'csv', '--segment', '00000000-0000-4000-8000-000000000000'], { handle: db, config, io: b.io })).toBe(1);
    expect(b.err.join('\n')).toContain('no segment 00000000-0000-4000-8000-000000000000');
  });
});

describe('the real CLIs', () => {
  it('answer --help without a database', async () => {
    const imp = await run(process.execPath, ['--import', 'tsx', 'src/cli/import.ts', '--help'], { cwd: REPO });
    expect(imp.stdout).toContain('Usage: npm run import -- [options] <entity> <file>');
    expect(imp.stdout).toContain('Examples:');
    const exp = await run(process.execPath, ['--import', 'tsx', 'src/cli/export.ts', '--help'], { cwd: REPO });
    expect(exp.stdout).toContain('--format <format>');
  }, 300_000);
});
