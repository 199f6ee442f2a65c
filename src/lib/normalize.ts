import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import countries from 'i18n-iso-countries';

/**
 * Cleaning and standardization shared by mutations, filters and imports: one definition of
 * "the same email" and "the same phone" everywhere.
 */

// Deliberately simple: a local part, one @, a dotted domain; no spaces. Full RFC 5322 is not the goal.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Lowercased, trimmed email; null when it is not an email address. */
export function normalizeEmail(raw: string): string | null {
  const e = raw.trim().toLowerCase();
  return e.length <= 254 && EMAIL.test(e) ? e : null;
}

/** E.164 (`+14155550100`) from any common format; national numbers use `defaultRegion`. Null when invalid. */
export function normalizePhone(raw: string, defaultRegion: string): string | null {
  const trimmed = raw.trim();
  if (!trimmed || trimmed.length > 40) return null;
  const parsed = parsePhoneNumberFromString(trimmed, { defaultCountry: defaultRegion as CountryCode });
  return parsed?.isValid() ? parsed.number : null;
}

/** ISO 3166-1 alpha-2 from a code (any case); null when unknown. */
export function normalizeCountry(raw: string): string | null {
  const c = raw.trim().toUpperCase();
  return /^[A-Z]{2}$/.test(c) && countries.isValid(c) ? c : null;
}

/** ISO 4217-shaped currency code, uppercased; existence is checked against the rates table. */
export function normalizeCurrency(raw: string): string | null {
  const c = raw.trim().toUpperCase();
  return /^[A-Z]{3}$/.test(c) ? c : null;
}

/** Trimmed text, null when empty. */
export const cleanText = (raw: string | null | undefined): string | null => {
  if (raw === null || raw === undefined) return null;
  const t = raw.trim().replace(/\s+/g, ' ');
  return t ? t : null;
};

/** The name to show and sort by: "First Last", else the email, else a placeholder. */
export function deriveDisplayName(first: string | null, last: string | null, email: string | null): string {
  const name = [first, last].filter(Boolean).join(' ');
  return name || email || 'Unnamed customer';
}

/**
 * An exact decimal string with at most 4 decimals (numeric(18,4)); null when not a decimal.
 * Accepts `12`, `12.5`, `-3.1415`; rejects exponents and thousands separators.
 */
export function normalizeDecimal(raw: string): string | null {
  const t = raw.trim();
  if (!/^-?\d{1,14}(\.\d{1,4})?$/.test(t)) return null;
  return t;
}
