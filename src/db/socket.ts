import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';

/**
 * The running gateway's PGlite over the PostgreSQL wire protocol, on a Unix socket only this user can open,
 * so that the CLIs (apikey, import, export, jobs...) work through the gateway instead of opening the data
 * directory a second time (PGlite is one process: a second writer corrupts it).
 *
 * Why not @electric-sql/pglite-socket: its 0.2.x releases require one exact PGlite version each (0.5.12 and
 * later; none matches the 0.5.11 used here) plus seven extension packages as peers, and its queue runs each
 * protocol message under PGlite's query mutex only. The gateway's own transactions hold PGlite's
 * transaction mutex and release the query mutex between their statements, so a CLI's statement could run
 * inside the gateway's open transaction, and the gateway's statements inside a CLI's BEGIN...COMMIT
 * (PGlite has ONE session for everyone).
 *
 * Here a client holds PGlite exclusively (both of PGlite's mutexes, the same ones `query` and `transaction`
 * take) for one unit of work: from its first message until PGlite answers ReadyForQuery with status idle,
 * that is one statement, one extended-protocol batch up to Sync, or a whole transaction. The gateway's
 * queries wait meanwhile and run between units; units of several CLIs queue likewise. A client that keeps
 * a transaction open without sending anything for IDLE_IN_TRANSACTION_MS is rolled back and disconnected
 * (the gateway would otherwise wait forever); a client that disconnects mid-transaction is rolled back.
 */
export interface PgliteSocketServer {
  /** Path of the Unix socket (postgres.js: `path` option). */
  path: string;
  /** Connections served so far. */
  connections(): number;
  close(): Promise<void>;
}

export const IDLE_IN_TRANSACTION_MS = 30_000;

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;

/** PGlite's internal mutexes (public methods, used by PGlite itself and its worker). */
interface PgliteMutexes {
  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T>;
  _runExclusiveQuery<T>(fn: () => Promise<T>): Promise<T>;
}

/** Resolves once this caller holds PGlite exclusively; call the returned function to let go. */
function holdExclusive(pglite: PGlite): Promise<() => void> {
  const m = pglite as unknown as PgliteMutexes;
  return new Promise((granted, failed) => {
    m._runExclusiveTransaction(() => m._runExclusiveQuery(() => new Promise<void>((release) => granted(release)))).catch(failed);
  });
}

/** A simple-protocol Query message. */
function queryMessage(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`, 'utf8');
  const msg = Buffer.alloc(5 + body.length);
  msg.write('Q', 0, 'latin1');
  msg.writeInt32BE(4 + body.length, 1);
  body.copy(msg, 5);
  return msg;
}
const SYNC = Uint8Array.from([0x53, 0, 0, 0, 4]);

/**
 * COPY ... FROM STDIN makes PGlite wait for the copy data inside its synchronous call: the gateway's event loop
 * would hang for good (measured). Such a statement is replaced by one that fails at parse time with a message
 * saying why, so that PGlite itself answers with the error and the right transaction state.
 */
const COPY_FROM_STDIN = /^\s*COPY\b[\s\S]*\bFROM\s+STDIN\b/i;
// (An identifier: at most 63 characters.)
const COPY_REFUSED = 'SELECT "COPY FROM STDIN is not supported through the gateway socket"';

function cString(buf: Buffer, at: number): [string, number] {
  const end = buf.indexOf(0, at);
  return [buf.toString('utf8', at, end), end + 1];
}

function refuseCopyIn(msg: Buffer): Buffer {
  if (msg[0] === 0x51) {
    const [text] = cString(msg, 5);
    return COPY_FROM_STDIN.test(text) ? Buffer.from(queryMessage(COPY_REFUSED)) : msg;
  }
  if (msg[0] === 0x50) {
    const [name, at] = cString(msg, 5);
    const [text] = cString(msg, at);
    if (!COPY_FROM_STDIN.test(text)) return msg;
    const body = Buffer.concat([Buffer.from(`${name}\0${COPY_REFUSED}\0`, 'utf8'), Buffer.from([0, 0])]);
    const out = Buffer.alloc(5 + body.length);
    out.write('P', 0, 'latin1');
    out.writeInt32BE(4 + body.length, 1);
    body.copy(out, 5);
    return out;
  }
  return msg;
}

/** Status byte of the last ReadyForQuery in a backend response ('I', 'T', 'E'), or undefined. */
function lastReadyStatus(out: Buffer): string | undefined {
  let status: string | undefined;
  let i = 0;
  while (i + 5 <= out.length) {
    const type = out[i];
    const len = out.readInt32BE(i + 1);
    if (type === 0x5a && len === 5 && i + 6 <= out.length) status = String.fromCharCode(out[i + 5]!);
    i += 1 + len;
  }
  return status;
}

export async function servePgliteSocket(pglite: PGlite, opts: { onError?: (err: unknown) => void } = {}): Promise<PgliteSocketServer> {
  // A private directory (0700) under the temp dir: short enough for a socket path, and unreachable for other users.
  const dir = mkdtempSync(path.join(tmpdir(), 'c360-pglite-'));
  chmodSync(dir, 0o700);
  const socketPath = path.join(dir, '.s.PGSQL.5432');
  const sockets = new Set<Socket>();
  let served = 0;

  const server: Server = createServer((socket) => {
    served++;
    sockets.add(socket);
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let started = false;
    let release: (() => void) | null = null;
    let idle: NodeJS.Timeout | undefined;
    let closed = false;
    let chain = Promise.resolve();

    const letGo = () => {
      if (idle) { clearTimeout(idle); idle = undefined; }
      const r = release;
      release = null;
      r?.();
    };
    const finish = async () => {
      if (closed) return;
      closed = true;
      sockets.delete(socket);
      if (!release) return;
      // Left in the middle of a unit: end any half-sent batch and undo an open transaction.
      try {
        await pglite.execProtocolRaw(SYNC);
        await pglite.execProtocolRaw(queryMessage('ROLLBACK'));
      } catch (e) {
        opts.onError?.(e);
      } finally {
        letGo();
      }
    };

    const run = async (msg: Uint8Array) => {
      if (closed) return;
      if (!release) release = await holdExclusive(pglite);
      if (idle) { clearTimeout(idle); idle = undefined; }
      const chunks: Uint8Array[] = [];
      await pglite.execProtocolRawStream(msg, { onRawData: (d) => { chunks.push(Buffer.from(d)); } });
      const out = Buffer.concat(chunks);
      if (out.length && !socket.destroyed) socket.write(out);
      const status = lastReadyStatus(out);
      if (status === 'I') letGo();
      else if (!closed) {
        idle = setTimeout(() => {
          opts.onError?.(new Error(`socket client idle for ${IDLE_IN_TRANSACTION_MS} ms inside a transaction: rolled back`));
          socket.destroy();
        }, IDLE_IN_TRANSACTION_MS);
        idle.unref();
      }
    };

    const enqueue = (msg: Uint8Array) => {
      chain = chain.then(() => run(msg)).catch((e: unknown) => {
        opts.onError?.(e);
        socket.destroy();
      });
    };

    socket.on('data', (data) => {
      buf = buf.length ? Buffer.concat([buf, data]) : data;
      for (;;) {
        if (!started) {
          if (buf.length < 8) return;
          const len = buf.readInt32BE(0);
          if (buf.length < len) return;
          const code = buf.readInt32BE(4);
          const msg = buf.subarray(0, len);
          buf = buf.subarray(len);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) { socket.write('N'); continue; }
          if (code === CANCEL_REQUEST || code !== PROTOCOL_3) { socket.destroy(); return; }
          started = true;
          enqueue(new Uint8Array(msg));
          continue;
        }
        if (buf.length < 5) return;
        const len = 1 + buf.readInt32BE(1);
        if (buf.length < len) return;
        const msg = buf.subarray(0, len);
        buf = buf.subarray(len);
        // Terminate: the session is PGlite's and stays; only this client goes.
        if (msg[0] === 0x58) { socket.end(); return; }
        enqueue(new Uint8Array(refuseCopyIn(msg)));
      }
    });
    const closeDown = () => { chain = chain.then(finish, finish); };
    socket.on('close', closeDown);
    socket.on('error', () => socket.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => { server.off('error', reject); resolve(); });
  });
  chmodSync(socketPath, 0o600);
  return {
    path: socketPath,
    connections: () => served,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
