/**
 * Identity resolution and field survivorship: which existing customer an incoming record is, and
 * which value of each field the golden record keeps. Pure functions over rows (no SQL), shared by
 * imports and merges.
 */
import { deriveDisplayName } from '../../lib/normalize';
import type { CustomerField } from './entities';

export type MatchRule = 'external_id' | 'email' | 'phone';
export type SurvivorshipRule = 'FIRST_VALUE' | 'SOURCE_PRIORITY' | 'MOST_RECENT' | 'MOST_COMPLETE' | 'MERGE';

export interface ResolutionSettings {
  matchRules: readonly MatchRule[];
  /** Normalized emails / E.164 phones (and digit strings) that never identify anyone. */
  blockedValues: readonly string[];
  /** Sources, most trusted first; unlisted sources rank after every listed one. */
  sourcePriority: readonly string[];
}

export interface FieldSource { field: string; source: string; updatedAt: string; rule: SurvivorshipRule }

export class Blocklist {
  private readonly values: Set<string>;
  /** Blocked digit strings of 6 or more digits (placeholder numbers, matched behind any country code). */
  private readonly digitValues: string[];
  constructor(values: readonly string[]) {
    this.values = new Set(values.flatMap((v) => [v.trim().toLowerCase(), v.replace(/\D/g, '')]).filter((v) => v.length > 0));
    this.digitValues = [...this.values].filter((v) => /^\d{6,}$/.test(v));
  }
  email(e: string | null | undefined): boolean { return !!e && this.values.has(e.toLowerCase()); }
  /** `+10000000000` is blocked by `0000000000` too: placeholder digits whatever the country code. */
  phone(p: string | null | undefined): boolean {
    if (!p) return false;
    const digits = p.replace(/\D/g, '');
    if (this.values.has(p) || this.values.has(digits)) return true;
    for (const v of this.digitValues) if (digits.endsWith(v) && digits.length - v.length <= 3) return true;
    return false;
  }
}

const rank = (priority: readonly string[], source: string): number => {
  const i = priority.indexOf(source);
  return i < 0 ? priority.length : i;
};

/** The database columns behind each survivorship field. */
export const FIELD_COLUMNS: Record<CustomerField, string> = {
  firstName: 'first_name', lastName: 'last_name', email: 'email', phone: 'phone', birthDate: 'birth_date', gender: 'gender', addressLine1: 'address_line1',
  addressLine2: 'address_line2', city: 'city', region: 'region', postalCode: 'postal_code', country: 'country', lifecycleStage: 'lifecycle_stage',
};

export interface Candidate { value: string; source: string; updatedAt: string }

/**
 * Whether `incoming` replaces the current value of a field: an empty field takes any value (most
 * complete); a more trusted source wins (source priority); between equally trusted sources the more
 * recent record wins (most recent). A field without provenance counts as least trusted and as old as
 * the record's last update.
 */
export function survives(priority: readonly string[], current: { value: string | null; provenance: FieldSource | null; recordUpdatedAt: string },
  incoming: Candidate): SurvivorshipRule | null {
  if (current.value === null) return 'MOST_COMPLETE';
  if (current.value === incoming.value) return null;
  const curSource = current.provenance?.source ?? '';
  const curAt = current.provenance?.updatedAt ?? current.recordUpdatedAt;
  const a = rank(priority, incoming.source);
  const b = current.provenance ? rank(priority, curSource) : priority.length + 1;
  if (a < b) return 'SOURCE_PRIORITY';
  if (a === b && Date.parse(incoming.updatedAt) >= Date.parse(curAt)) return 'MOST_RECENT';
  return null;
}

/** The golden record of a merge: per field, the surviving value among all customers' values. */
export function mergeFields(
  priority: readonly string[],
  records: { fields: Partial<Record<CustomerField, string | null>>; sources: FieldSource[]; updatedAt: string }[],
): { fields: Partial<Record<CustomerField, string | null>>; sources: FieldSource[] } {
  const out: Partial<Record<CustomerField, string | null>> = {};
  const sources: FieldSource[] = [];
  for (const field of Object.keys(FIELD_COLUMNS) as CustomerField[]) {
    let best: { value: string; prov: FieldSource | null; at: string } | null = null;
    for (const r of records) {
      const v = r.fields[field];
      if (v === null || v === undefined) continue;
      const prov = r.sources.find((s) => s.field === field) ?? null;
      if (!best) { best = { value: v, prov, at: prov?.updatedAt ?? r.updatedAt }; continue; }
      const rule = survives(priority, { value: best.value, provenance: best.prov, recordUpdatedAt: best.at }, { value: v, source: prov?.source ?? '', updatedAt: prov?.updatedAt ?? r.updatedAt });
      // A value without provenance only wins on recency against another value without provenance.
      if (rule && (prov || !best.prov)) best = { value: v, prov, at: prov?.updatedAt ?? r.updatedAt };
    }
    out[field] = best?.value ?? null;
    if (best?.prov) sources.push({ ...best.prov, rule: best.prov.rule });
  }
  return { fields: out, sources };
}

export const displayNameOf = (f: Partial<Record<CustomerField, string | null>>): string =>
  deriveDisplayName(f.firstName ?? null, f.lastName ?? null, f.email ?? null, f.country ?? null);
