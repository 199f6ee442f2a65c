import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { execRows, openDb } from '../../src/db/client';

const url = process.env.TEST_DATABASE_URL;

// PostgreSQL only: PGlite is one in-process session without connection parameters.
describe.runIf(Boolean(url))('settings of the gateway\'s PostgreSQL connections', () => {
  it('runs with the configured work_mem and without JIT', async () => {
    const handle = await openDb(loadConfig({ DATABASE_URL: url, DATABASE_WORK_MEM: '24MB', DATABASE_POOL_MAX: '1' }));
    try {
      const [r] = await execRows<{ work_mem: string; jit: string }>(handle.db, sql`SELECT current_setting('work_mem') AS work_mem, current_setting('jit') AS jit`);
      expect(r).toEqual({ work_mem: '24MB', jit: 'off' });
    } finally {
      await handle.close();
    }
  });
});
