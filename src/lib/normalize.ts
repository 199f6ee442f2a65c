import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { createRequire } from 'node:module';
import countries, { type LocaleData } from 'i18n-iso-countries';

/**
 * Cleaning and standardization shared by mutations, filters and imports: one definition of
 * "the same email" and "the same phone" everywhere.
 */

// Deliberately simple: a local part without spaces, one @, a domain of two or more dot-separated labels.
// Full RFC 5322 is not the goal (quoted local parts and IP-literal domains are refused).
const LOCAL = /^[^\s@]{1,64}$/;
// A domain label (RFC 1035, internationalized names allowed): 1-63 letters, digits or hyphens (any script),
// neither starting nor ending with a hyphen. Empty labels (`a@.example.com`, `a@example..com`) are refused.
const LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}\p{M}-]{0,61}[\p{L}\p{N}\p{M}])?$/u;

/** Lowercased, trimmed email; null when it is not an email address. */
export function normalizeEmail(raw: string): string | null {
  const e = raw.trim().toLowerCase();
  if (e.length > 254) return null;
  const at = e.lastIndexOf('@');
  if (at <= 0 || !LOCAL.test(e.slice(0, at))) return null;
  const labels = e.slice(at + 1).split('.');
  return labels.length >= 2 && labels.every((l) => LABEL.test(l)) ? e : null;
}

/**
 * E.164 (`+14155550100`) from any common format; national numbers are read in `region` (the record's
 * country: `020 7946 0018` is a London number in GB). Null when invalid, or when `region` is not a
 * country with a numbering plan libphonenumber knows (then only international numbers are read).
 */
export function normalizePhone(raw: string, region: string): string | null {
  const trimmed = raw.trim();
  if (!trimmed || trimmed.length > 40) return null;
  const parsed = parsePhoneNumberFromString(trimmed, isSupportedCountry(region) ? { defaultCountry: region } : {});
  return parsed?.isValid() ? parsed.number : null;
}

/**
 * The regions national phone numbers of a record are read in, in order: the record's country when it
 * has one (and it has a numbering plan), then the configured default (DEFAULT_PHONE_REGION). A number
 * valid in the record's country is read there (`020 7946 0018` with GB); one that is not, but is valid
 * in the default region (a US number of a customer living in GB), is read in the default region.
 */
export function phoneRegions(country: string | null | undefined, defaultRegion: string): string[] {
  return country && isSupportedCountry(country) && country !== defaultRegion ? [country, defaultRegion] : [defaultRegion];
}

/** E.164 of `raw` read in the first of `regions` where it is a valid number; null when in none. */
export function normalizePhoneIn(raw: string, regions: readonly string[]): string | null {
  for (const r of regions) {
    const p = normalizePhone(raw, r);
    if (p) return p;
  }
  return null;
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

/** Han, kana and Hangul: names written in them put the family name first, without a space (`张伟`, `山田太郎`, `김민준`). */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
export const hasCjk = (text: string): boolean => CJK.test(text);
const NOT_CJK = /[^\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+/gu;

/**
 * The character n-grams a CJK search term is looked up by (drizzle/0024_cjk_names.sql indexes the
 * unigrams and bigrams of every CJK name): per run of CJK letters, its bigrams, or the letter itself
 * when it stands alone. Empty when the term has no CJK letters.
 */
export function cjkGrams(term: string): string[] {
  const grams = new Set<string>();
  for (const run of term.toLowerCase().split(NOT_CJK)) {
    const chars = [...run];
    if (chars.length === 1) grams.add(chars[0]!);
    for (let i = 0; i + 1 < chars.length; i++) grams.add(chars[i]! + chars[i + 1]!);
  }
  return [...grams];
}
/** Countries where the family name comes first, also in Latin letters (`Zhang Wei`). */
const FAMILY_NAME_FIRST = new Set(['CN', 'TW', 'HK', 'MO', 'JP', 'KR', 'KP']);

/**
 * The name to show and sort by: "First Last" (given name first), but "Last First" for names in CJK
 * script or of a country where the family name comes first, written without a space when both parts
 * are CJK (`张伟`, not `伟 张`); else the email, else a placeholder.
 */
export function deriveDisplayName(first: string | null, last: string | null, email: string | null, country?: string | null): string {
  const parts = [first, last].filter((p): p is string => Boolean(p));
  if (!parts.length) return email || 'Unnamed customer';
  const cjk = parts.some(hasCjk);
  if (!cjk && !(country && FAMILY_NAME_FIRST.has(country))) return parts.join(' ');
  const familyFirst = [last, first].filter((p): p is string => Boolean(p));
  return familyFirst.join(familyFirst.every(hasCjk) ? '' : ' ');
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

// ---------------------------------------------------------------------------------------------
// Standardization of values from files and source systems (imports); same rules as the mutations.

const require = createRequire(import.meta.url);
/** Country names are matched in these languages (i18n-iso-countries locales). */
const COUNTRY_NAME_LANGS = ['en', 'de', 'fr', 'es', 'it', 'pt', 'nl', 'zh', 'ja'] as const;
for (const lang of COUNTRY_NAME_LANGS) countries.registerLocale(require(`i18n-iso-countries/langs/${lang}.json`) as LocaleData);
/** Everyday names that are not in the official lists. */
const COUNTRY_ALIASES: Record<string, string> = {
  uk: 'GB', 'great britain': 'GB', england: 'GB', scotland: 'GB', wales: 'GB', usa: 'US', 'u.s.a.': 'US', 'u.s.': 'US', america: 'US',
  'united states of america': 'US', holland: 'NL', 'south korea': 'KR', 'north korea': 'KP', russia: 'RU', deutschland: 'DE',
};

/**
 * ISO 3166-1 alpha-2 from a code (alpha-2 or alpha-3, any case) or a country name in one of several
 * languages (`Germany`, `Deutschland`, `Allemagne`, `德国`); null when unknown.
 */
export function normalizeCountryName(raw: string): string | null {
  const t = raw.trim();
  if (!t) return null;
  const code = normalizeCountry(t);
  if (code) return code;
  if (/^[A-Za-z]{3}$/.test(t)) {
    const a2 = countries.alpha3ToAlpha2(t.toUpperCase());
    if (a2) return a2;
  }
  const lower = t.toLowerCase().replace(/\s+/g, ' ');
  if (COUNTRY_ALIASES[lower]) return COUNTRY_ALIASES[lower];
  for (const lang of COUNTRY_NAME_LANGS) {
    const hit = countries.getAlpha2Code(t, lang) ?? countries.getSimpleAlpha2Code(t, lang);
    if (hit) return hit;
  }
  return null;
}

export type Gender = 'FEMALE' | 'MALE' | 'NON_BINARY' | 'UNKNOWN';
const GENDER_SYNONYMS: Record<string, Gender> = {};
const addGender = (g: Gender, words: string) => { for (const w of words.split('|')) GENDER_SYNONYMS[w] = g; };
addGender('FEMALE', 'female|f|w|woman|women|girl|mrs|ms|miss|frau|weiblich|femme|féminin|feminin|mujer|femenino|femenina|donna|femmina|feminino|vrouw|女|女性|女士|おんな|k|kobieta');
addGender('MALE', 'male|m|man|men|boy|mr|herr|mann|männlich|maennlich|homme|masculin|hombre|masculino|uomo|maschio|man|男|男性|男士|おとこ|mężczyzna');
addGender('NON_BINARY', 'non_binary|non-binary|nonbinary|non binary|nb|enby|x|d|divers|diverse|other|andere|autre|otro|其他|genderqueer');
addGender('UNKNOWN', 'unknown|u|unk|n/a|na|-|?|not given|prefer not to say|unbekannt|inconnu|desconocido|未知|不详');

/** One of the Gender enum values from common spellings in several languages (`f`, `Frau`, `女`); null when unrecognized. */
export function normalizeGender(raw: string): Gender | null {
  const t = raw.trim().toLowerCase().replace(/\.$/, '');
  if (!t) return null;
  return GENDER_SYNONYMS[t] ?? GENDER_SYNONYMS[t.replace(/\s+/g, ' ')] ?? null;
}

const CURRENCY_SYMBOLS: Record<string, string> = { '€': 'EUR', $: 'USD', US$: 'USD', '£': 'GBP', '¥': 'JPY', '円': 'JPY', '元': 'CNY', 'RMB': 'CNY', '₹': 'INR', '₩': 'KRW', 'CHF': 'CHF', 'R$': 'BRL', 'A$': 'AUD', 'C$': 'CAD', 'zł': 'PLN', 'kr': 'SEK' };

/** ISO 4217 code from a code in any case or a common symbol (`€`, `£`, `US$`); null otherwise. */
export function normalizeCurrencyCode(raw: string): string | null {
  const t = raw.trim();
  return CURRENCY_SYMBOLS[t] ?? CURRENCY_SYMBOLS[t.toUpperCase()] ?? normalizeCurrency(t);
}

export type DecimalSeparator = 'auto' | '.' | ',';

/**
 * An exact decimal string (at most 4 decimals) from amounts written either way: `1234.5`, `1,234.50`,
 * `1.234,50`, `1 234,5`, `12,5`, with an optional currency symbol or code around it. With `auto`, the
 * last of `.`/`,` is the decimal separator when both appear; a lone separator followed by exactly three
 * digits (`1,234`, `1.234`) is ambiguous and read as a thousands separator only when it is a comma.
 */
export function parseDecimal(raw: string, separator: DecimalSeparator = 'auto'): string | null {
  let t = raw.trim().replace(/^[^\d\-+.,]+|[^\d.,]+$/g, '').replace(/[\s\u00a0\u202f']/g, '');
  if (!t) return null;
  let sign = '';
  if (t.startsWith('-') || t.startsWith('+')) { sign = t[0] === '-' ? '-' : ''; t = t.slice(1); }
  if (!/^[\d.,]+$/.test(t)) return null;
  let dec: '.' | ',' | null = null;
  if (separator !== 'auto') dec = separator;
  else {
    const lastDot = t.lastIndexOf('.');
    const lastComma = t.lastIndexOf(',');
    if (lastDot >= 0 && lastComma >= 0) dec = lastDot > lastComma ? '.' : ',';
    else if (lastDot >= 0) dec = (t.split('.').length > 2) ? null : '.';
    else if (lastComma >= 0) dec = t.split(',').length > 2 || /^\d{1,3},\d{3}$/.test(t) ? null : ',';
  }
  const thousands = dec === '.' ? ',' : '.';
  const [intPart, frac, extra] = (dec ? t.split(dec) : [t]) as [string, string | undefined, string | undefined];
  if (extra !== undefined) return null;
  // Thousands separators only in groups of three.
  if (intPart.includes(thousands) && !new RegExp(`^\\d{1,3}(\\${thousands}\\d{3})+$`).test(intPart)) return null;
  const digits = intPart.split(thousands).join('');
  if (dec === null && /[.,]/.test(digits)) return null;
  const out = `${sign}${digits || '0'}${frac !== undefined ? `.${frac}` : ''}`;
  return normalizeDecimal(out);
}

export type DateOrder = 'DMY' | 'MDY';
const MONTHS: Record<string, number> = {};
['jan|january|januar|janvier|enero|gennaio', 'feb|february|februar|février|fevrier|febrero|febbraio', 'mar|march|märz|maerz|mars|marzo',
  'apr|april|avril|abril|aprile', 'may|mai|mayo|maggio', 'jun|june|juni|juin|junio|giugno', 'jul|july|juli|juillet|julio|luglio',
  'aug|august|août|aout|agosto', 'sep|sept|september|septembre|septiembre|settembre', 'oct|october|oktober|octobre|octubre|ottobre|okt',
  'nov|november|novembre|noviembre', 'dec|december|dezember|décembre|decembre|diciembre|dicembre|dez']
  .forEach((names, i) => { for (const n of names.split('|')) MONTHS[n] = i + 1; });

const pad = (n: number) => String(n).padStart(2, '0');
function ymd(y: number, m: number, d: number): string | null {
  if (y < 100) y += y >= 50 ? 1900 : 2000;
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) return null;
  return `${String(y).padStart(4, '0')}-${pad(m)}-${pad(d)}`;
}

/**
 * A calendar date (`YYYY-MM-DD`) from the formats found in exports: ISO (`2025-01-31`, with or without a
 * time), `20250131`, `31.01.2025`, `31/01/2025` or `01/31/2025` (the first part above 12 decides; otherwise
 * `order`), `31-Jan-2025`, `Jan 31, 2025`, `31 janvier 2025`, `2025年1月31日`. Null when it is not a real date.
 */
export function parseDate(raw: string, order: DateOrder = 'DMY'): string | null {
  const t = raw.trim().toLowerCase();
  let m: RegExpMatchArray | null;
  if ((m = t.match(/^(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ]\d{1,2}:\d{2}.*)?$/)) || (m = t.match(/^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$/))) return ymd(+m[1]!, +m[2]!, +m[3]!);
  if ((m = t.match(/^(\d{4})(\d{2})(\d{2})$/))) return ymd(+m[1]!, +m[2]!, +m[3]!);
  if ((m = t.match(/^(\d{4})年(\d{1,2})月(\d{1,2})日$/))) return ymd(+m[1]!, +m[2]!, +m[3]!);
  if ((m = t.match(/^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})$/))) {
    const a = +m[1]!, b = +m[3]!, y = +m[4]!;
    // A dot is the German/European convention; otherwise the larger part tells, else the configured order.
    const dmy = m[2] === '.' || a > 12 || (b <= 12 && order === 'DMY');
    return dmy ? ymd(y, b, a) : ymd(y, a, b);
  }
  if ((m = t.match(/^(\d{1,2})[ .-]*([a-zéûä]+)\.?[ .-]*(\d{4})$/))) { const mo = MONTHS[m[2]!]; return mo ? ymd(+m[3]!, mo, +m[1]!) : null; }
  if ((m = t.match(/^([a-zéûä]+)\.? (\d{1,2}),? (\d{4})$/))) { const mo = MONTHS[m[1]!]; return mo ? ymd(+m[3]!, mo, +m[2]!) : null; }
  return null;
}

/**
 * A point in time from ISO 8601 (with or without offset; without one it is UTC), `YYYY-MM-DD HH:MM[:SS]`,
 * any date `parseDate` reads (midnight UTC), or epoch seconds/milliseconds. Null when unreadable.
 */
export function parseTimestamp(raw: string, order: DateOrder = 'DMY'): Date | null {
  const t = raw.trim();
  if (!t) return null;
  if (/^\d{10}$/.test(t)) return new Date(Number(t) * 1000);
  if (/^\d{13}$/.test(t)) return new Date(Number(t));
  const m = t.match(/^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s*(Z|[+-]\d{2}:?\d{2})?$/i);
  if (m) {
    const zone = m[3] ? (m[3].toUpperCase() === 'Z' ? 'Z' : m[3].includes(':') ? m[3] : `${m[3].slice(0, 3)}:${m[3].slice(3)}`) : 'Z';
    const d = new Date(`${m[1]}T${m[2]!.length === 5 ? `${m[2]}:00` : m[2]}${zone}`);
    return Number.isNaN(d.getTime()) || !ymd(+m[1]!.slice(0, 4), +m[1]!.slice(5, 7), +m[1]!.slice(8, 10)) ? null : d;
  }
  const day = parseDate(t, order);
  return day ? new Date(`${day}T00:00:00Z`) : null;
}

/** Normalized text for comparing names: trimmed, collapsed spaces, lowercase, accents removed. */
export const foldText = (raw: string): string => raw.normalize('NFKD').replace(/\p{M}/gu, '').trim().replace(/\s+/g, ' ').toLowerCase();
