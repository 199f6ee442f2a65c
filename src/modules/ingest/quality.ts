/**
 * Data quality of a golden record: completeness (share of the profile fields that are filled) and
 * validity (share of the filled, checkable fields that pass their check). One definition, twice: in
 * TypeScript for `Customer.quality` and in SQL for the `quality` filter; a test keeps them equal.
 */
import { sql, type SQL } from 'drizzle-orm';
import { customers } from '../../db/schema/index';
import type { CustomerRow } from '../profile';

export const COMPLETENESS_FIELDS = ['firstName', 'lastName', 'email', 'phone', 'birthDate', 'gender', 'addressLine1', 'city', 'postalCode', 'country'] as const;
export type QualityField = (typeof COMPLETENESS_FIELDS)[number];

const EMAIL_RE = '^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$';
const PHONE_RE = '^\\+[1-9][0-9]{6,14}$';
const POSTAL_RE = '^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$';

export interface Quality { completeness: number; validity: number; missingFields: QualityField[]; invalidFields: QualityField[] }

const filledValue = (c: CustomerRow, f: QualityField): string | null => {
  switch (f) {
    case 'email': return c.emailNormalized;
    case 'phone': return c.phoneE164;
    case 'gender': return c.gender && c.gender !== 'UNKNOWN' ? c.gender : null;
    default: return c[f];
  }
};

export function customerQuality(c: CustomerRow, blocked: readonly string[], today = new Date().toISOString().slice(0, 10)): Quality {
  const blockedSet = new Set(blocked.map((b) => b.toLowerCase()));
  const missing = COMPLETENESS_FIELDS.filter((f) => filledValue(c, f) === null);
  const checks: Partial<Record<QualityField, (v: string) => boolean>> = {
    firstName: (v) => !/[0-9]/.test(v),
    lastName: (v) => !/[0-9]/.test(v),
    email: (v) => new RegExp(EMAIL_RE).test(v) && !blockedSet.has(v),
    phone: (v) => new RegExp(PHONE_RE).test(v) && !blockedSet.has(v),
    birthDate: (v) => v >= '1900-01-01' && v <= today,
    postalCode: (v) => new RegExp(POSTAL_RE).test(v),
    country: (v) => /^[A-Z]{2}$/.test(v),
  };
  const checked = (Object.keys(checks) as QualityField[]).filter((f) => filledValue(c, f) !== null);
  const invalid = checked.filter((f) => !checks[f]!(filledValue(c, f)!));
  return {
    completeness: round((COMPLETENESS_FIELDS.length - missing.length) / COMPLETENESS_FIELDS.length),
    validity: checked.length ? round((checked.length - invalid.length) / checked.length) : 1,
    missingFields: missing,
    invalidFields: invalid,
  };
}

const round = (x: number) => Math.round(x * 10000) / 10000;

const filledSql = (): SQL[] => [
  sql`${customers.firstName} IS NOT NULL`, sql`${customers.lastName} IS NOT NULL`, sql`${customers.emailNormalized} IS NOT NULL`, sql`${customers.phoneE164} IS NOT NULL`,
  sql`${customers.birthDate} IS NOT NULL`, sql`coalesce(${customers.gender}, 'UNKNOWN') <> 'UNKNOWN'`, sql`${customers.addressLine1} IS NOT NULL`,
  sql`${customers.city} IS NOT NULL`, sql`${customers.postalCode} IS NOT NULL`, sql`${customers.country} IS NOT NULL`,
];
const asInt = (c: SQL) => sql`(CASE WHEN ${c} THEN 1 ELSE 0 END)`;

export function completenessSql(): SQL {
  return sql`round((${sql.join(filledSql().map(asInt), sql` + `)})::numeric / ${COMPLETENESS_FIELDS.length}, 4)`;
}

export function validitySql(blocked: readonly string[]): SQL {
  const b = sql`${sql.param(blocked.map((v) => v.toLowerCase()))}::text[]`;
  const checks: [SQL, SQL][] = [
    [sql`${customers.firstName}`, sql`${customers.firstName} !~ '[0-9]'`],
    [sql`${customers.lastName}`, sql`${customers.lastName} !~ '[0-9]'`],
    [sql`${customers.emailNormalized}`, sql`${customers.emailNormalized} ~ ${EMAIL_RE} AND NOT (${customers.emailNormalized} = ANY(${b}))`],
    [sql`${customers.phoneE164}`, sql`${customers.phoneE164} ~ ${PHONE_RE} AND NOT (${customers.phoneE164} = ANY(${b}))`],
    // The birth date is encrypted at rest; its clear month carries the range check.
    [sql`${customers.birthDate}`, sql`${customers.birthMonth} BETWEEN '1900-01-01' AND current_date`],
    [sql`${customers.postalCode}`, sql`${customers.postalCode} ~ ${POSTAL_RE}`],
    [sql`${customers.country}`, sql`${customers.country} ~ '^[A-Z]{2}$'`],
  ];
  const checked = sql.join(checks.map(([v]) => asInt(sql`${v} IS NOT NULL`)), sql` + `);
  const valid = sql.join(checks.map(([v, ok]) => asInt(sql`${v} IS NOT NULL AND ${ok}`)), sql` + `);
  return sql`(CASE WHEN (${checked}) = 0 THEN 1::numeric ELSE round((${valid})::numeric / (${checked}), 4) END)`;
}
