import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { execRows, openDb } from '../../src/db/client';
import { usingPostgres } from '../helpers/db';

/** Whether the test server offers TLS at all (Debian's default cluster on these machines does not). */
async function serverOffersTls(): Promise<boolean> {
  if (!usingPostgres()) return false;
  const pg = postgres(process.env.TEST_DATABASE_URL!, { max: 1 });
  try {
    const [row] = await pg`SHOW ssl`;
    return row?.ssl === 'on';
  } finally {
    await pg.end();
  }
}
const tls = await serverOffersTls();
const open = (mode: 'disable' | 'require') =>
  openDb({ databaseUrl: process.env.TEST_DATABASE_URL, pgliteDir: '', databasePoolMax: 1, databaseSsl: { mode, caFile: undefined } });
const sslOf = async (mode: 'disable' | 'require') => {
  const handle = await open(mode);
  try {
    const [row] = await execRows<{ ssl: boolean }>(handle.db, sql`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`);
    return row?.ssl;
  } finally {
    await handle.close();
  }
};

describe.runIf(usingPostgres())('TLS to PostgreSQL', () => {
  it.runIf(tls)('encrypts the connection with DATABASE_SSL=require', async () => {
    expect(await sslOf('require')).toBe(true);
  });

  it.runIf(!tls)('refuses to talk in clear with DATABASE_SSL=require when the server offers no TLS', async () => {
    await expect(sslOf('require')).rejects.toThrow(/TLS|SSL|secure/i);
  });

  it('does not use TLS when disabled', async () => {
    expect(await sslOf('disable')).toBe(false);
  });
});
