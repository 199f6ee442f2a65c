import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servePgliteSocket, type PgliteSocketServer } from '../../../src/db/socket';

/**
 * The gateway's PGlite served to CLIs (src/db/socket.ts): PGlite has ONE session, shared by the gateway's own
 * queries and every socket client. A client's transaction must not interleave with the gateway's (a statement of
 * one inside the other's BEGIN...COMMIT), an abandoned transaction must be rolled back, and COPY FROM STDIN (which
 * would make PGlite wait for data inside a synchronous call, freezing the gateway) must fail cleanly.
 */
describe('PGlite over the gateway socket', () => {
  let pg: PGlite;
  let srv: PgliteSocketServer;
  const client = () => postgres({ path: srv.path, max: 1, prepare: false, onnotice: () => {} });

  beforeAll(async () => {
    pg = await PGlite.create();
    await pg.exec('CREATE TABLE t (id int PRIMARY KEY, v text)');
    srv = await servePgliteSocket(pg);
  });
  afterAll(async () => {
    await srv.close();
    await pg.close();
  });

  it('runs a client transaction and a gateway transaction one after the other, never inside each other', async () => {
    await pg.exec('TRUNCATE t');
    const sql = client();
    try {
      const gateway = pg.transaction(async (tx) => {
        await tx.query("INSERT INTO t VALUES (1, 'gateway')");
        await new Promise((r) => setTimeout(r, 200));
        await tx.query("INSERT INTO t VALUES (2, 'gateway')");
      });
      await new Promise((r) => setTimeout(r, 20));
      const cli = sql.begin(async (tx) => {
        const [row] = await tx<{ n: number }[]>`SELECT count(*)::int AS n FROM t`;
        await tx`INSERT INTO t VALUES (3, ${`cli saw ${row!.n}`})`;
        await new Promise((r) => setTimeout(r, 200));
        await tx`INSERT INTO t VALUES (4, 'cli')`;
      });
      await new Promise((r) => setTimeout(r, 50));
      // A gateway read issued while the CLI transaction is open sees all of it or nothing of it.
      const read = pg.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
      await Promise.all([gateway, cli]);
      expect([0, 2, 4]).toContain((await read).rows[0]!.n);
      const { rows } = await pg.query<{ id: number; v: string }>('SELECT id, v FROM t ORDER BY id');
      // The CLI's transaction started after the gateway's had committed: it saw both rows.
      expect(rows).toEqual([{ id: 1, v: 'gateway' }, { id: 2, v: 'gateway' }, { id: 3, v: 'cli saw 2' }, { id: 4, v: 'cli' }]);
    } finally {
      await sql.end();
    }
  });

  it('rolls back the transaction of a client that fails or disconnects in the middle', async () => {
    await pg.exec('TRUNCATE t');
    const sql = client();
    await expect(sql.begin(async (tx) => { await tx`INSERT INTO t VALUES (5, 'x')`; throw new Error('boom'); })).rejects.toThrow('boom');
    await sql.end();
    const gone = client();
    const conn = await gone.reserve();
    await conn`BEGIN`;
    await conn`INSERT INTO t VALUES (6, 'abandoned')`;
    await gone.end({ timeout: 0 });
    // The gateway's next query runs (it is not left waiting) and sees nothing of either.
    await expect.poll(async () => (await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).rows[0]!.n).toBe(0);
    expect(pg.isInTransaction()).toBe(false);
  });

  it('refuses COPY FROM STDIN with an error instead of hanging, inside and outside a transaction', async () => {
    const sql = client();
    try {
      await expect(sql.unsafe('COPY t (id, v) FROM STDIN')).rejects.toThrow(/COPY FROM STDIN is not supported through the gateway socket/);
      await expect(sql.begin(async (tx) => { await tx`INSERT INTO t VALUES (7, 'y')`; await tx.unsafe('copy t from stdin'); })).rejects.toThrow(/not supported/);
      const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM t WHERE id = 7`;
      expect(row!.n).toBe(0);
      expect((await pg.query<{ x: number }>('SELECT 1 AS x')).rows).toEqual([{ x: 1 }]);
    } finally {
      await sql.end();
    }
  });
});
