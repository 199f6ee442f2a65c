/**
 * Structural comparison of two JSON values: same keys (order ignored), same array order, same
 * primitive values (no coercion: "1" is not 1). Returns the differences, at most `limit`.
 */
export function jsonDiff(expected: unknown, actual: unknown, limit = 10): string[] {
  const out: string[] = [];
  walk(expected, actual, '$', out, limit);
  return out;
}

/**
 * Cursors are compared only as present strings: the gateway seals its cursors (AES-256-GCM with a fresh IV
 * each, src/lib/cursor.ts), the baseline's SQL returns plain positions. Sealing costs the gateway about one
 * AES-GCM call per edge that the baseline does not make.
 */
const CURSOR_KEY = /^(cursor|startCursor|endCursor)$/;

function walk(a: unknown, b: unknown, path: string, out: string[], limit: number): void {
  if (out.length >= limit) return;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) {
      out.push(`${path}: ${show(a)} vs ${show(b)}`);
      return;
    }
    if (a.length !== b.length) out.push(`${path}: array length ${a.length} vs ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) walk(a[i], b[i], `${path}[${i}]`, out, limit);
    return;
  }
  if (isObject(a) || isObject(b)) {
    if (!isObject(a) || !isObject(b)) {
      out.push(`${path}: ${show(a)} vs ${show(b)}`);
      return;
    }
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (!(k in a)) out.push(`${path}.${k}: missing vs ${show(b[k])}`);
      else if (!(k in b)) out.push(`${path}.${k}: ${show(a[k])} vs missing`);
      else if (CURSOR_KEY.test(k) && typeof a[k] === 'string' && typeof b[k] === 'string') continue;
      else walk(a[k], b[k], `${path}.${k}`, out, limit);
      if (out.length >= limit) return;
    }
    return;
  }
  if (!Object.is(a, b)) out.push(`${path}: ${show(a)} vs ${show(b)}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
