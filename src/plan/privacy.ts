import { createHmac } from 'node:crypto';
import type { FieldAction, FieldPolicy, PiiKind } from '../auth/privacy';
import type { Viewer } from '../auth/viewer';

/**
 * The privacy policy compiled for one viewer: for each @pii field the action is decided once, at
 * plan time, and becomes a function of the value. The renderings are the compiled path's own (the
 * differential tests compare them with src/auth/privacy.ts on every viewer, so they cannot drift).
 */
export function actionFor(viewer: Viewer, name: string, rules: FieldPolicy): FieldAction {
  // A partner key's allow-list opens a field, unless the PARTNER column is DENY.
  if (viewer.kind === 'apiKey' && viewer.role === 'PARTNER' && rules.PARTNER !== 'DENY' && viewer.fieldAllowList.has(name)) return 'ALLOW';
  return rules[viewer.role];
}

type Render = (v: unknown) => unknown;

const first = (s: string) => [...s][0] ?? '';
const MASK: Record<PiiKind, Render> = {
  NAME: (v) => (typeof v === 'string' && v ? `${first(v)}***` : v),
  EMAIL: (v) => {
    const s = String(v);
    const at = s.lastIndexOf('@');
    return at > 0 ? `${first(s)}***${s.slice(at)}` : '***';
  },
  PHONE: (v) => {
    const s = String(v);
    let keep = 0;
    for (const ch of s) if (ch >= '0' && ch <= '9') keep++;
    keep = Math.min(keep, 4);
    // Digits from the right: the last four stay, every other becomes '*'.
    const out = [...s];
    for (let i = out.length - 1; i >= 0; i--) {
      const ch = out[i]!;
      if (ch < '0' || ch > '9') continue;
      if (keep > 0) keep--;
      else out[i] = '*';
    }
    return out.join('');
  },
  BIRTH_DATE: (v) => `${String(v).slice(0, 4)}-01-01`,
  ADDRESS: (v) => {
    const a = v as { city: string | null; country: string | null };
    return { line1: null, line2: null, region: null, postalCode: null, city: a.city, country: a.country };
  },
  IDENTIFIER: (v) => {
    const s = String(v);
    return s.length > 2 ? `${s.slice(0, 2)}***` : '***';
  },
  FREE_TEXT: () => '[redacted]',
  ACTOR: () => '***',
  NATIONAL_ID: (v) => `***${String(v).slice(-4)}`,
};

/** The value a viewer sees for a non-null value under ALLOW, MASK or HASH. */
export function renderer(action: 'ALLOW' | 'MASK' | 'HASH', kind: PiiKind, hashKey: string): Render | null {
  if (action === 'ALLOW') return null;
  if (action === 'MASK') return MASK[kind];
  return (v) => {
    const s = String(v);
    const normalized = kind === 'EMAIL' ? s.trim().toLowerCase() : s.trim();
    return `anon_${createHmac('sha256', hashKey).update(`${kind}:${normalized}`).digest('base64url').slice(0, 22)}`;
  };
}
