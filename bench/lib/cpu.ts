import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * Who used the CPUs during a measurement (Linux /proc; null elsewhere), in average busy cores: the
 * server under test, the PostgreSQL processes working for the bench database (its backends plus the
 * server's background processes), this process (the load generator), every other process on the
 * machine (including backends of other databases), kernel interrupt handling (loopback networking is
 * mostly softirq time, charged to no process) and time stolen by the hypervisor. Other processes and
 * steal are the noise: another job on the same cores makes both servers look slower, unevenly.
 */
export interface CpuUsage {
  /** Cores of the machine. */
  cores: number;
  machineBusy: number;
  server: number;
  postgres: number;
  loadGenerator: number;
  otherProcesses: number;
  /** irq + softirq. */
  kernelInterrupts: number;
  steal: number;
  /** otherProcesses + steal: what did not come from the benchmark. */
  other: number;
}

interface Snapshot { total: number; idle: number; irq: number; steal: number; procs: Map<number, { ticks: number; kind: Kind }> }
type Kind = 'server' | 'postgres' | 'self' | 'other';

export interface CpuMeter { stop(): CpuUsage | null }

export function startCpuMeter(serverPid: number, database: string): CpuMeter {
  const start = snapshot(serverPid, database);
  return {
    stop() {
      const end = snapshot(serverPid, database);
      if (!start || !end) return null;
      const cores = cpus().length;
      // Wall time in "ticks per core": the machine-wide tick count advances `cores` times as fast.
      const wall = (end.total - start.total) / cores;
      if (wall <= 0) return null;
      const by: Record<Kind, number> = { server: 0, postgres: 0, self: 0, other: 0 };
      for (const [pid, p] of end.procs) by[p.kind] += p.ticks - (start.procs.get(pid)?.ticks ?? 0);
      const otherProcesses = by.other / wall;
      const steal = (end.steal - start.steal) / wall;
      return {
        cores,
        machineBusy: (end.total - end.idle - (start.total - start.idle)) / wall,
        server: by.server / wall,
        postgres: by.postgres / wall,
        loadGenerator: by.self / wall,
        otherProcesses,
        kernelInterrupts: (end.irq - start.irq) / wall,
        steal,
        other: otherProcesses + steal,
      };
    },
  };
}

/** Duration-weighted average of several measurements of the same target. */
export function mergeCpuUsage(parts: readonly { usage: CpuUsage | null; seconds: number }[]): CpuUsage | null {
  const known = parts.filter((p): p is { usage: CpuUsage; seconds: number } => p.usage !== null);
  const total = known.reduce((s, p) => s + p.seconds, 0);
  if (!known.length || total <= 0) return null;
  const avg = (f: (u: CpuUsage) => number) => known.reduce((s, p) => s + f(p.usage) * p.seconds, 0) / total;
  return {
    cores: known[0]!.usage.cores,
    machineBusy: avg((u) => u.machineBusy),
    server: avg((u) => u.server),
    postgres: avg((u) => u.postgres),
    loadGenerator: avg((u) => u.loadGenerator),
    otherProcesses: avg((u) => u.otherProcesses),
    kernelInterrupts: avg((u) => u.kernelInterrupts),
    steal: avg((u) => u.steal),
    other: avg((u) => u.other),
  };
}

function snapshot(serverPid: number, database: string): Snapshot | null {
  try {
    // cpu  user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const at = (i: number) => f[i] ?? 0;
    const procs = new Map<number, { ticks: number; kind: Kind }>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      try {
        const { comm, ticks } = readStat(pid);
        let kind: Kind = 'other';
        if (pid === serverPid) kind = 'server';
        else if (pid === process.pid) kind = 'self';
        else if (comm === 'postgres' && isOurs(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '), database)) kind = 'postgres';
        procs.set(pid, { ticks, kind });
      } catch {
        // exited meanwhile
      }
    }
    return { total: f.slice(0, 8).reduce((s, v) => s + v, 0), idle: at(3) + at(4), irq: at(5) + at(6), steal: at(7), procs };
  } catch {
    return null;
  }
}

/**
 * Backends show `postgres: <cluster>: <user> <database> <client> <state>` as their command line; the
 * postmaster and background processes (checkpointer, walwriter, ...) name no database and count as ours.
 */
function isOurs(cmdline: string, database: string): boolean {
  const m = /^postgres: (?:[^:]+: )?(\S+) (\S+) (?:\S+\(\d+\)|\[local\])/.exec(cmdline);
  return !m || m[2] === database;
}

/** Command name and utime + stime (clock ticks) of a process, from /proc/<pid>/stat. */
function readStat(pid: number): { comm: string; ticks: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: it ends at the last ')'.
  const close = stat.lastIndexOf(')');
  const rest = stat.slice(close + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(rest[11]) + Number(rest[12]) };
}
