import { readFileSync } from 'node:fs';
import { formatTable, fmt } from './report';

/** The parts of a V8 `.cpuprofile` (node --cpu-prof) this summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled time, ms (idle excluded). */
  busyMs: number;
  idleShare: number;
  /** Per area: share of busy time spent in its own code (self) and with it anywhere on the stack (inclusive). */
  areas: { area: string; self: number; inclusive: number }[];
  topSelf: { fn: string; area: string; self: number }[];
}

/**
 * Where the time goes: by area (npm package, src/<dir>, node internals, V8 built-ins, GC) and by function.
 * Inclusive shares count a sample once per area however deep the area recurses.
 */
export function summarizeProfile(files: string | readonly string[], top = 25): ProfileSummary {
  const acc: Accumulator = { selfByArea: new Map(), inclByArea: new Map(), selfByFn: new Map(), busy: 0, idle: 0 };
  for (const file of typeof files === 'string' ? [files] : files) addProfile(acc, JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const { selfByArea, inclByArea, selfByFn, busy, idle } = acc;
  const share = (t: number) => (busy ? t / busy : 0);
  return {
    busyMs: busy / 1000,
    idleShare: busy + idle ? idle / (busy + idle) : 0,
    areas: [...new Set([...selfByArea.keys(), ...inclByArea.keys()])]
      .map((area) => ({ area, self: share(selfByArea.get(area) ?? 0), inclusive: share(inclByArea.get(area) ?? 0) }))
      .sort((a, b) => b.self - a.self),
    topSelf: [...selfByFn].map(([fn, v]) => ({ fn, area: v.area, self: share(v.t) })).sort((a, b) => b.self - a.self).slice(0, top),
  };
}

interface Accumulator {
  selfByArea: Map<string, number>;
  inclByArea: Map<string, number>;
  selfByFn: Map<string, { area: string; t: number }>;
  /** Microseconds. */
  busy: number;
  idle: number;
}

function addProfile(acc: Accumulator, prof: CpuProfile): void {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  prof.samples.forEach((id, i) => {
    // timeDeltas[i] is the time before sample i: the time of sample i is the next delta.
    const dt = prof.timeDeltas[i + 1] ?? prof.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    if (node.callFrame.functionName === '(idle)') { acc.idle += dt; return; }
    acc.busy += dt;
    const area = areaOf(node.callFrame);
    acc.selfByArea.set(area, (acc.selfByArea.get(area) ?? 0) + dt);
    const fnKey = `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
    const f = acc.selfByFn.get(fnKey) ?? { area, t: 0 };
    f.t += dt;
    acc.selfByFn.set(fnKey, f);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n || n.callFrame.functionName === '(root)') continue;
      seen.add(areaOf(n.callFrame));
    }
    for (const a of seen) acc.inclByArea.set(a, (acc.inclByArea.get(a) ?? 0) + dt);
  });
}

export function formatProfile(s: ProfileSummary, areas = 20): string {
  return [
    `busy ${fmt.int(s.busyMs)} ms sampled, idle ${fmt.pct(s.idleShare)} of wall`,
    formatTable([['area', 'self', 'inclusive'], ...s.areas.slice(0, areas).map((a) => [a.area, fmt.pct(a.self), fmt.pct(a.inclusive)])]),
    '',
    formatTable([['function (self time)', 'area', 'self'], ...s.topSelf.map((f) => [f.fn, f.area, fmt.pct(f.self)])]),
  ].join('\n');
}

function areaOf(frame: { functionName: string; url: string }): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return '(gc)';
  if (functionName === '(program)') return '(program: V8/native, unattributed)';
  if (!url) return `(V8 built-in) ${functionName || '(anonymous)'}`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0] ?? url;
  }
  if (url.startsWith('node:')) return url.startsWith('node:internal/') ? `node:${url.split('/')[1] ?? 'internal'}` : url;
  const src = url.indexOf('/src/');
  if (src >= 0) {
    const parts = url.slice(src + 1).split('/');
    return parts.length > 2 ? `${parts[0]}/${parts[1]}${parts[1] === 'modules' ? `/${parts[2]}` : ''}` : parts.join('/');
  }
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return 'bench';
  return shortUrl(url);
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}
