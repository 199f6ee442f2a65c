import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

/**
 * One process at a time opens a PGlite directory (PGlite is single-process: a second one writing the same
 * files corrupts them). The holder writes `gateway.lock` into the directory: pid, host, role, and for a
 * gateway the Unix socket on which it serves the database to the CLIs (src/db/socket.ts).
 *
 * Created with O_EXCL, so two processes cannot both create it. A lock whose pid is no longer alive (on this
 * host) is stale: the process was killed; it is taken over. A hand-written lock rather than a library:
 * proper-lockfile decides staleness by mtime and a refresh timer, and a PGlite statement runs synchronously
 * (the event loop is blocked while it runs), so a long statement would look like a dead holder.
 */
export const LOCK_FILE = 'gateway.lock';

export interface LockInfo {
  pid: number;
  host: string;
  role: 'gateway' | 'cli';
  /** Unix socket of the running gateway (role gateway, once it serves). */
  socket?: string;
  command: string;
  startedAt: string;
}

export interface DirLock {
  readonly file: string;
  readonly info: LockInfo;
  /** Records where the gateway serves the database. */
  setSocket(socket: string | undefined): void;
  release(): void;
}

/** The directory is held by another live process. */
export class DirLockedError extends Error {
  constructor(readonly dir: string, readonly holder: LockInfo) {
    super(`${path.resolve(dir)} is in use by ${holder.role === 'gateway' ? 'the gateway' : `another command (${holder.command})`} `
      + `(pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}). PGlite allows one process per directory: `
      + `${holder.role === 'gateway' ? 'stop the gateway first' : 'wait for it to finish'}, or use another PGLITE_DIR. `
      + `If no such process is running, delete ${path.join(path.resolve(dir), LOCK_FILE)}.`);
    this.name = 'DirLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readLock(dir: string): LockInfo | null {
  return readLockFile(path.join(dir, LOCK_FILE));
}

function readLockFile(file: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : null;
  } catch {
    return null;
  }
}

/**
 * The live holder of `dir`, or null when it is free or its lock is stale. A lock from another host cannot be
 * checked and counts as held.
 */
export function lockHolder(dir: string): LockInfo | null {
  const info = readLock(dir);
  if (!info) return null;
  if (info.host !== hostname()) return info;
  if (info.pid === process.pid) return null;
  return alive(info.pid) ? info : null;
}

/** Takes the directory's lock or throws DirLockedError naming the holder. */
export function lockDir(dir: string, role: LockInfo['role']): DirLock {
  const file = path.join(dir, LOCK_FILE);
  const info: LockInfo = {
    pid: process.pid, host: hostname(), role, command: process.argv.slice(1).map((a) => path.basename(a)).join(' ').slice(0, 200),
    startedAt: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${JSON.stringify(info)}\n`);
      closeSync(fd);
      let held = true;
      return {
        file, info,
        setSocket(socket) {
          if (!held) return;
          info.socket = socket;
          // Written aside and renamed over: a reader never sees half a file.
          const tmp = `${file}.${process.pid}.tmp`;
          writeFileSync(tmp, `${JSON.stringify(info)}\n`, { mode: 0o600 });
          renameSync(tmp, file);
        },
        release() {
          if (!held) return;
          held = false;
          if (readLock(dir)?.pid === process.pid) rmSync(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = lockHolder(dir);
    if (holder) throw new DirLockedError(dir, holder);
    // Stale (its process is gone) or unreadable half-written: move it away atomically and try again. Two
    // processes racing here both rename; only one of them then wins the O_EXCL create above.
    const stale = readLock(dir);
    if (!stale) {
      // Being written right now by another process: give it a moment.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      if (!readLock(dir)) rmSync(file, { force: true });
      continue;
    }
    const moved = `${file}.stale-${stale.pid}-${process.pid}`;
    try {
      renameSync(file, moved);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      continue;
    }
    // Another process may have replaced the stale lock by its own between our read and the rename: put it back.
    const took = readLockFile(moved);
    if (took && took.pid !== stale.pid && alive(took.pid)) {
      try { linkSync(moved, file); } catch { /* a third process holds it now */ }
      rmSync(moved, { force: true });
      throw new DirLockedError(dir, took);
    }
    rmSync(moved, { force: true });
  }
  const holder = lockHolder(dir);
  if (holder) throw new DirLockedError(dir, holder);
  throw new Error(`could not take the lock ${file}`);
}
