/**
 * Deterministic demo data: the first thing a new user sees, so it has to look like a real customer base.
 *
 * Determinism: every customer is generated from its own PRNG stream keyed by (seed, customer index), and
 * the faker pools are built once from a fixed faker seed. So the same seed and anchor give byte-identical
 * rows on every run and machine, whatever the batch size or the number of customers asked for (customer
 * #17 is the same whether 20 or 2,000,000 are generated), and batches could be generated in parallel.
 * No Math.random, no crypto.randomUUID, no Date.now: the anchor date is an input.
 *
 * Consistency: nothing is drawn independently that a user could cross-check. The lifecycle stage is
 * derived from the generated orders, tags follow from orders, consents and birthdays (with the events
 * that explain them), identities follow from the channels used, service tickets name real order numbers.
 */
import {
  Faker, base, de, en, en_AU, en_CA, en_GB, en_US, es, es_MX, fr, it, ja, nl, pt_BR, zh_CN,
  type LocaleDefinition,
} from '@faker-js/faker';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { deriveDisplayName } from '../../lib/normalize';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The demo history covers the two years before the anchor. */
export const WINDOW_DAYS = 730;

// ---------------------------------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------------------------------

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex8 = (x: number) => HEX[x >>> 24]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;
const hex4 = (x: number) => HEX[(x >>> 8) & 255]! + HEX[x & 255]!;

/**
 * sfc32: fast, passes PractRand, and its state transition is a bijection, so distinct (seed, stream, sub)
 * starting states never merge into the same sequence: customer streams cannot produce duplicate UUIDs
 * the way hashing (seed, index) into one 32-bit seed would (birthday collisions at ~1M customers).
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number, stream = 0, sub = 0) {
    this.a = seed >>> 0;
    this.b = stream >>> 0;
    this.c = (sub ^ 0x9e3779b9) >>> 0;
    for (let i = 0; i < 20; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(arr: readonly T[]): T {
    return arr[Math.floor(this.float() * arr.length)]!;
  }

  normal(): number {
    const u = 1 - this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** Log-normal with mean 1: the skew of real purchase frequencies (many light buyers, a few heavy ones). */
  lognormal(sigma: number): number {
    return Math.exp(sigma * this.normal() - (sigma * sigma) / 2);
  }

  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.float();
    while (p > limit) {
      k++;
      p *= this.float();
    }
    return k;
  }

  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(Math.floor(this.float() * 10));
    return s;
  }

  /** RFC 4122 version 4 layout, bits from this stream. */
  uuid(): string {
    const a = this.u32();
    const b = this.u32();
    const c = this.u32();
    const d = this.u32();
    return `${hex8(a)}-${hex4(b >>> 16)}-${hex4((b & 0x0fff) | 0x4000)}-${hex4(((c >>> 16) & 0x3fff) | 0x8000)}-${hex4(c)}${hex8(d)}`;
  }
}

/** Weighted choice over a fixed list (cumulative table built once). */
export class Weighted<T> {
  private readonly items: T[];
  private readonly cum: number[];
  private readonly total: number;

  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    this.items = entries.map((e) => e[0]);
    let acc = 0;
    this.cum = entries.map((e) => (acc += e[1]));
    this.total = acc;
  }

  pick(rng: Rng): T {
    const x = rng.float() * this.total;
    const cum = this.cum;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo]!;
  }
}

// ---------------------------------------------------------------------------------------------------
// Reference data: countries and real cities (faker's city/state/zip are drawn independently and often
// invented, so "Lake Kenna, LA 67328" would not survive a filter by city; these keep city, region,
// postal code, dialling area and time zone consistent)
// ---------------------------------------------------------------------------------------------------

type Lang = 'en' | 'de' | 'fr' | 'es' | 'it' | 'nl' | 'pt' | 'ja' | 'zh';
type StreetStyle = 'en' | 'num-last' | 'num-comma' | 'num-first' | 'ja' | 'zh';
export type SalesRegion = 'NORTH_AMERICA' | 'LATIN_AMERICA' | 'EUROPE' | 'ASIA_PACIFIC';

interface CitySpec {
  name: string;
  region: string;
  weight: number;
  postal: (r: Rng) => string;
  /** Area codes (US/CA/BR/MX) used for phone numbers of customers living there. */
  dial?: readonly string[];
  /** Offset from UTC in hours when the country spans several zones. */
  utc?: number;
}

interface CountrySpec {
  code: CountryCode;
  weight: number;
  currency: string;
  lang: Lang;
  locale: LocaleDefinition[];
  utc: number;
  salesRegion: SalesRegion;
  streetStyle: StreetStyle;
  cities: CitySpec[];
  emailDomains: ReadonlyArray<readonly [string, number]>;
  /** A national mobile number candidate; validated (and regenerated) with libphonenumber-js. */
  mobile: (r: Rng, city: CitySpec) => string;
  /** Leading digits that decide validity and format of a candidate (see makePhone). Default 6. */
  phoneKeyDigits?: number;
}

const range = (lo: number, hi: number, width: number) => (r: Rng) => String(r.int(lo, hi)).padStart(width, '0');
const GB_INWARD = 'ABDEFGHJLNPQRSTUWXYZ';
const gbPostal = (outward: readonly string[]) => (r: Rng) =>
  `${r.pick(outward)} ${r.int(1, 9)}${GB_INWARD[r.int(0, 19)]}${GB_INWARD[r.int(0, 19)]}`;
const CA_LETTERS = 'ABCEGHJKLMNPRSTVWXYZ';
const caPostal = (fsa: readonly string[]) => (r: Rng) =>
  `${r.pick(fsa)}${CA_LETTERS[r.int(0, 19)]} ${r.int(1, 9)}${CA_LETTERS[r.int(0, 19)]}${r.int(0, 9)}`;
const NL_LETTERS = 'ABCDEGHJKLMNPRTVWXZ';
const nlPostal = (lo: number, hi: number) => (r: Rng) =>
  `${r.int(lo, hi)} ${NL_LETTERS[r.int(0, 18)]}${NL_LETTERS[r.int(0, 18)]}`;
const brPostal = (lo: number, hi: number) => (r: Rng) => `${String(r.int(lo, hi)).padStart(5, '0')}-${r.digits(3)}`;
const jpPostal = (prefixes: readonly string[]) => (r: Rng) => `${r.pick(prefixes)}-${r.digits(4)}`;
const cnPostal = (prefix: string) => (r: Rng) => `${prefix}${r.digits(3)}`;

const nanpMobile = (r: Rng, c: CitySpec) => `${r.pick(c.dial ?? ['212'])}${r.int(2, 9)}${r.digits(6)}`;

const COUNTRIES: CountrySpec[] = [
  {
    code: 'US', weight: 28, currency: 'USD', lang: 'en', locale: [en_US, en, base], utc: -5,
    salesRegion: 'NORTH_AMERICA', streetStyle: 'en',
    cities: [
      { name: 'New York', region: 'NY', weight: 18, postal: range(10001, 10292, 5), dial: ['212', '646', '718', '917', '347'], utc: -5 },
      { name: 'Los Angeles', region: 'CA', weight: 9, postal: range(90001, 90089, 5), dial: ['213', '310', '323', '818'], utc: -8 },
      { name: 'Chicago', region: 'IL', weight: 6, postal: range(60601, 60661, 5), dial: ['312', '773', '872'], utc: -6 },
      { name: 'Houston', region: 'TX', weight: 5, postal: range(77001, 77099, 5), dial: ['713', '281', '832'], utc: -6 },
      { name: 'Phoenix', region: 'AZ', weight: 4, postal: range(85003, 85054, 5), dial: ['602', '480', '623'], utc: -7 },
      { name: 'Philadelphia', region: 'PA', weight: 3, postal: range(19102, 19154, 5), dial: ['215', '267'], utc: -5 },
      { name: 'San Antonio', region: 'TX', weight: 3, postal: range(78201, 78266, 5), dial: ['210', '726'], utc: -6 },
      { name: 'San Diego', region: 'CA', weight: 3, postal: range(92101, 92199, 5), dial: ['619', '858'], utc: -8 },
      { name: 'Dallas', region: 'TX', weight: 3, postal: range(75201, 75398, 5), dial: ['214', '469', '972'], utc: -6 },
      { name: 'Seattle', region: 'WA', weight: 3, postal: range(98101, 98199, 5), dial: ['206'], utc: -8 },
      { name: 'Boston', region: 'MA', weight: 3, postal: range(2108, 2137, 5), dial: ['617', '857'], utc: -5 },
      { name: 'Denver', region: 'CO', weight: 2, postal: range(80201, 80249, 5), dial: ['303', '720'], utc: -7 },
      { name: 'Atlanta', region: 'GA', weight: 3, postal: range(30301, 30380, 5), dial: ['404', '470', '678'], utc: -5 },
      { name: 'Miami', region: 'FL', weight: 3, postal: range(33101, 33199, 5), dial: ['305', '786'], utc: -5 },
      { name: 'Austin', region: 'TX', weight: 2, postal: range(78701, 78759, 5), dial: ['512', '737'], utc: -6 },
      { name: 'Portland', region: 'OR', weight: 2, postal: range(97201, 97299, 5), dial: ['503', '971'], utc: -8 },
    ],
    emailDomains: [['gmail.com', 45], ['yahoo.com', 14], ['outlook.com', 10], ['hotmail.com', 8], ['icloud.com', 12], ['aol.com', 4], ['comcast.net', 4], ['protonmail.com', 3]],
    mobile: nanpMobile,
    // North American numbers are valid by area code and the first digit of the exchange.
    phoneKeyDigits: 4,
  },
  {
    code: 'GB', weight: 11, currency: 'GBP', lang: 'en', locale: [en_GB, en, base], utc: 0,
    salesRegion: 'EUROPE', streetStyle: 'num-first',
    cities: [
      { name: 'London', region: 'Greater London', weight: 14, postal: gbPostal(['SW1A', 'SW3', 'SW11', 'E1', 'E14', 'N1', 'N7', 'NW3', 'SE1', 'SE10', 'W1', 'W2', 'EC1', 'WC2']) },
      { name: 'Manchester', region: 'Greater Manchester', weight: 4, postal: gbPostal(['M1', 'M4', 'M14', 'M20']) },
      { name: 'Birmingham', region: 'West Midlands', weight: 4, postal: gbPostal(['B1', 'B5', 'B15', 'B29']) },
      { name: 'Leeds', region: 'West Yorkshire', weight: 3, postal: gbPostal(['LS1', 'LS6', 'LS11']) },
      { name: 'Glasgow', region: 'Scotland', weight: 3, postal: gbPostal(['G1', 'G3', 'G12']) },
      { name: 'Edinburgh', region: 'Scotland', weight: 2, postal: gbPostal(['EH1', 'EH3', 'EH10']) },
      { name: 'Bristol', region: 'Bristol', weight: 2, postal: gbPostal(['BS1', 'BS6', 'BS8']) },
      { name: 'Liverpool', region: 'Merseyside', weight: 2, postal: gbPostal(['L1', 'L8', 'L17']) },
      { name: 'Cardiff', region: 'Wales', weight: 2, postal: gbPostal(['CF10', 'CF11', 'CF24']) },
      { name: 'Newcastle upon Tyne', region: 'Tyne and Wear', weight: 2, postal: gbPostal(['NE1', 'NE2', 'NE6']) },
    ],
    emailDomains: [['gmail.com', 40], ['hotmail.co.uk', 15], ['yahoo.co.uk', 10], ['outlook.com', 10], ['btinternet.com', 8], ['icloud.com', 10], ['sky.com', 4], ['live.co.uk', 3]],
    mobile: (r) => `07${r.pick(['4', '5', '7', '8', '9'])}${r.digits(8)}`,
  },
  {
    code: 'DE', weight: 11, currency: 'EUR', lang: 'de', locale: [de, en, base], utc: 1,
    salesRegion: 'EUROPE', streetStyle: 'num-last',
    cities: [
      { name: 'Berlin', region: 'Berlin', weight: 10, postal: range(10115, 14199, 5) },
      { name: 'Hamburg', region: 'Hamburg', weight: 6, postal: range(20095, 22769, 5) },
      { name: 'München', region: 'Bayern', weight: 5, postal: range(80331, 81929, 5) },
      { name: 'Köln', region: 'Nordrhein-Westfalen', weight: 4, postal: range(50667, 51149, 5) },
      { name: 'Frankfurt am Main', region: 'Hessen', weight: 3, postal: range(60306, 60599, 5) },
      { name: 'Stuttgart', region: 'Baden-Württemberg', weight: 3, postal: range(70173, 70629, 5) },
      { name: 'Düsseldorf', region: 'Nordrhein-Westfalen', weight: 3, postal: range(40210, 40629, 5) },
      { name: 'Leipzig', region: 'Sachsen', weight: 2, postal: range(4103, 4357, 5) },
      { name: 'Dortmund', region: 'Nordrhein-Westfalen', weight: 2, postal: range(44135, 44388, 5) },
      { name: 'Dresden', region: 'Sachsen', weight: 2, postal: range(1067, 1328, 5) },
      { name: 'Nürnberg', region: 'Bayern', weight: 2, postal: range(90402, 90491, 5) },
      { name: 'Hannover', region: 'Niedersachsen', weight: 2, postal: range(30159, 30669, 5) },
    ],
    emailDomains: [['gmail.com', 30], ['web.de', 20], ['gmx.de', 18], ['t-online.de', 12], ['outlook.de', 6], ['yahoo.de', 5], ['posteo.de', 3], ['icloud.com', 6]],
    mobile: (r) => `0${r.pick(['151', '152', '157', '160', '162', '163', '170', '171', '172', '173', '174', '175', '176', '177', '178', '179'])}${r.digits(r.chance(0.6) ? 8 : 7)}`,
  },
  {
    code: 'FR', weight: 9, currency: 'EUR', lang: 'fr', locale: [fr, en, base], utc: 1,
    salesRegion: 'EUROPE', streetStyle: 'num-first',
    cities: [
      { name: 'Paris', region: 'Île-de-France', weight: 12, postal: range(75001, 75020, 5) },
      { name: 'Marseille', region: "Provence-Alpes-Côte d'Azur", weight: 4, postal: range(13001, 13016, 5) },
      { name: 'Lyon', region: 'Auvergne-Rhône-Alpes', weight: 4, postal: range(69001, 69009, 5) },
      { name: 'Toulouse', region: 'Occitanie', weight: 3, postal: range(31000, 31500, 5) },
      { name: 'Nice', region: "Provence-Alpes-Côte d'Azur", weight: 2, postal: range(6000, 6300, 5) },
      { name: 'Nantes', region: 'Pays de la Loire', weight: 2, postal: range(44000, 44300, 5) },
      { name: 'Strasbourg', region: 'Grand Est', weight: 2, postal: range(67000, 67200, 5) },
      { name: 'Montpellier', region: 'Occitanie', weight: 2, postal: range(34000, 34090, 5) },
      { name: 'Bordeaux', region: 'Nouvelle-Aquitaine', weight: 2, postal: range(33000, 33800, 5) },
      { name: 'Lille', region: 'Hauts-de-France', weight: 2, postal: range(59000, 59800, 5) },
    ],
    emailDomains: [['gmail.com', 38], ['orange.fr', 16], ['hotmail.fr', 10], ['free.fr', 9], ['laposte.net', 7], ['yahoo.fr', 7], ['sfr.fr', 6], ['outlook.fr', 7]],
    mobile: (r) => `0${r.pick(['6', '7'])}${r.digits(8)}`,
  },
  {
    code: 'ES', weight: 6, currency: 'EUR', lang: 'es', locale: [es, en, base], utc: 1,
    salesRegion: 'EUROPE', streetStyle: 'num-comma',
    cities: [
      { name: 'Madrid', region: 'Comunidad de Madrid', weight: 10, postal: range(28001, 28055, 5) },
      { name: 'Barcelona', region: 'Cataluña', weight: 8, postal: range(8001, 8042, 5) },
      { name: 'Valencia', region: 'Comunidad Valenciana', weight: 4, postal: range(46001, 46026, 5) },
      { name: 'Sevilla', region: 'Andalucía', weight: 3, postal: range(41001, 41020, 5) },
      { name: 'Zaragoza', region: 'Aragón', weight: 2, postal: range(50001, 50021, 5) },
      { name: 'Málaga', region: 'Andalucía', weight: 2, postal: range(29001, 29018, 5) },
      { name: 'Bilbao', region: 'País Vasco', weight: 2, postal: range(48001, 48015, 5) },
      { name: 'Palma', region: 'Illes Balears', weight: 1, postal: range(7001, 7015, 5) },
    ],
    emailDomains: [['gmail.com', 45], ['hotmail.com', 15], ['hotmail.es', 10], ['yahoo.es', 8], ['outlook.es', 10], ['telefonica.net', 4], ['icloud.com', 8]],
    mobile: (r) => `${r.pick(['6', '6', '6', '7'])}${r.digits(8)}`,
  },
  {
    code: 'IT', weight: 5, currency: 'EUR', lang: 'it', locale: [it, en, base], utc: 1,
    salesRegion: 'EUROPE', streetStyle: 'num-last',
    cities: [
      { name: 'Roma', region: 'Lazio', weight: 8, postal: range(118, 199, 5) },
      { name: 'Milano', region: 'Lombardia', weight: 8, postal: range(20121, 20162, 5) },
      { name: 'Napoli', region: 'Campania', weight: 4, postal: range(80121, 80147, 5) },
      { name: 'Torino', region: 'Piemonte', weight: 3, postal: range(10121, 10156, 5) },
      { name: 'Palermo', region: 'Sicilia', weight: 2, postal: range(90121, 90151, 5) },
      { name: 'Bologna', region: 'Emilia-Romagna', weight: 2, postal: range(40121, 40141, 5) },
      { name: 'Firenze', region: 'Toscana', weight: 2, postal: range(50121, 50145, 5) },
      { name: 'Genova', region: 'Liguria', weight: 2, postal: range(16121, 16167, 5) },
    ],
    emailDomains: [['gmail.com', 45], ['libero.it', 16], ['hotmail.it', 10], ['virgilio.it', 8], ['yahoo.it', 7], ['outlook.it', 7], ['alice.it', 4], ['icloud.com', 5]],
    mobile: (r) => `3${r.pick(['20', '28', '29', '30', '31', '33', '34', '35', '36', '38', '39', '40', '45', '46', '47', '48', '49', '88', '89', '91', '92', '93'])}${r.digits(7)}`,
  },
  {
    code: 'NL', weight: 3, currency: 'EUR', lang: 'nl', locale: [nl, en, base], utc: 1,
    salesRegion: 'EUROPE', streetStyle: 'num-last',
    cities: [
      { name: 'Amsterdam', region: 'Noord-Holland', weight: 8, postal: nlPostal(1011, 1109) },
      { name: 'Rotterdam', region: 'Zuid-Holland', weight: 5, postal: nlPostal(3011, 3089) },
      { name: 'Den Haag', region: 'Zuid-Holland', weight: 4, postal: nlPostal(2491, 2597) },
      { name: 'Utrecht', region: 'Utrecht', weight: 3, postal: nlPostal(3511, 3585) },
      { name: 'Eindhoven', region: 'Noord-Brabant', weight: 2, postal: nlPostal(5611, 5658) },
      { name: 'Groningen', region: 'Groningen', weight: 2, postal: nlPostal(9711, 9747) },
    ],
    emailDomains: [['gmail.com', 45], ['hotmail.com', 12], ['outlook.com', 10], ['ziggo.nl', 10], ['kpnmail.nl', 8], ['live.nl', 6], ['icloud.com', 9]],
    mobile: (r) => `06${r.int(1, 5)}${r.digits(7)}`,
  },
  {
    code: 'BR', weight: 7, currency: 'BRL', lang: 'pt', locale: [pt_BR, en, base], utc: -3,
    salesRegion: 'LATIN_AMERICA', streetStyle: 'num-comma',
    cities: [
      { name: 'São Paulo', region: 'SP', weight: 12, postal: brPostal(1000, 5999), dial: ['11'] },
      { name: 'Rio de Janeiro', region: 'RJ', weight: 7, postal: brPostal(20000, 23799), dial: ['21'] },
      { name: 'Belo Horizonte', region: 'MG', weight: 3, postal: brPostal(30000, 31999), dial: ['31'] },
      { name: 'Brasília', region: 'DF', weight: 3, postal: brPostal(70000, 72799), dial: ['61'] },
      { name: 'Salvador', region: 'BA', weight: 3, postal: brPostal(40000, 42499), dial: ['71'] },
      { name: 'Fortaleza', region: 'CE', weight: 2, postal: brPostal(60000, 61599), dial: ['85'] },
      { name: 'Curitiba', region: 'PR', weight: 2, postal: brPostal(80000, 82999), dial: ['41'] },
      { name: 'Porto Alegre', region: 'RS', weight: 2, postal: brPostal(90000, 91999), dial: ['51'] },
      { name: 'Recife', region: 'PE', weight: 2, postal: brPostal(50000, 52999), dial: ['81'] },
    ],
    emailDomains: [['gmail.com', 55], ['hotmail.com', 15], ['outlook.com', 8], ['yahoo.com.br', 8], ['uol.com.br', 6], ['bol.com.br', 4], ['icloud.com', 4]],
    mobile: (r, c) => `${r.pick(c.dial ?? ['11'])}9${r.int(6, 9)}${r.digits(7)}`,
  },
  {
    code: 'MX', weight: 4, currency: 'MXN', lang: 'es', locale: [es_MX, es, en, base], utc: -6,
    salesRegion: 'LATIN_AMERICA', streetStyle: 'num-last',
    cities: [
      { name: 'Ciudad de México', region: 'CDMX', weight: 10, postal: range(1000, 16999, 5), dial: ['55'], utc: -6 },
      { name: 'Guadalajara', region: 'Jalisco', weight: 4, postal: range(44100, 45999, 5), dial: ['33'], utc: -6 },
      { name: 'Monterrey', region: 'Nuevo León', weight: 4, postal: range(64000, 64999, 5), dial: ['81'], utc: -6 },
      { name: 'Puebla', region: 'Puebla', weight: 2, postal: range(72000, 72999, 5), dial: ['222'], utc: -6 },
      { name: 'Tijuana', region: 'Baja California', weight: 2, postal: range(22000, 22699, 5), dial: ['664'], utc: -8 },
      { name: 'Mérida', region: 'Yucatán', weight: 1, postal: range(97000, 97399, 5), dial: ['999'], utc: -6 },
    ],
    emailDomains: [['gmail.com', 50], ['hotmail.com', 25], ['outlook.com', 10], ['yahoo.com.mx', 10], ['icloud.com', 5]],
    mobile: (r, c) => {
      const area = r.pick(c.dial ?? ['55']);
      return `${area}${r.digits(10 - area.length)}`;
    },
  },
  {
    code: 'CA', weight: 5, currency: 'CAD', lang: 'en', locale: [en_CA, en, base], utc: -5,
    salesRegion: 'NORTH_AMERICA', streetStyle: 'en',
    cities: [
      { name: 'Toronto', region: 'ON', weight: 8, postal: caPostal(['M4', 'M5', 'M6']), dial: ['416', '647', '437'], utc: -5 },
      { name: 'Montréal', region: 'QC', weight: 6, postal: caPostal(['H2', 'H3', 'H4']), dial: ['514', '438'], utc: -5 },
      { name: 'Vancouver', region: 'BC', weight: 4, postal: caPostal(['V5', 'V6']), dial: ['604', '778', '236'], utc: -8 },
      { name: 'Calgary', region: 'AB', weight: 3, postal: caPostal(['T2', 'T3']), dial: ['403', '587'], utc: -7 },
      { name: 'Ottawa', region: 'ON', weight: 3, postal: caPostal(['K1', 'K2']), dial: ['613', '343'], utc: -5 },
      { name: 'Edmonton', region: 'AB', weight: 2, postal: caPostal(['T5', 'T6']), dial: ['780', '587'], utc: -7 },
    ],
    emailDomains: [['gmail.com', 45], ['hotmail.com', 15], ['outlook.com', 10], ['yahoo.ca', 8], ['icloud.com', 10], ['rogers.com', 6], ['shaw.ca', 6]],
    mobile: nanpMobile,
    phoneKeyDigits: 4,
  },
  {
    code: 'AU', weight: 3, currency: 'AUD', lang: 'en', locale: [en_AU, en, base], utc: 10,
    salesRegion: 'ASIA_PACIFIC', streetStyle: 'en',
    cities: [
      { name: 'Sydney', region: 'NSW', weight: 8, postal: range(2000, 2234, 4), utc: 10 },
      { name: 'Melbourne', region: 'VIC', weight: 7, postal: range(3000, 3207, 4), utc: 10 },
      { name: 'Brisbane', region: 'QLD', weight: 4, postal: range(4000, 4179, 4), utc: 10 },
      { name: 'Perth', region: 'WA', weight: 3, postal: range(6000, 6199, 4), utc: 8 },
      { name: 'Adelaide', region: 'SA', weight: 2, postal: range(5000, 5199, 4), utc: 9.5 },
      { name: 'Canberra', region: 'ACT', weight: 1, postal: range(2600, 2617, 4), utc: 10 },
    ],
    emailDomains: [['gmail.com', 45], ['hotmail.com', 12], ['outlook.com', 10], ['bigpond.com', 12], ['yahoo.com.au', 8], ['optusnet.com.au', 5], ['icloud.com', 8]],
    mobile: (r) => `04${r.digits(8)}`,
  },
  {
    code: 'JP', weight: 4, currency: 'JPY', lang: 'ja', locale: [ja, en, base], utc: 9,
    salesRegion: 'ASIA_PACIFIC', streetStyle: 'ja',
    cities: [
      { name: '新宿区', region: '東京都', weight: 6, postal: jpPostal(['160', '161', '169']) },
      { name: '世田谷区', region: '東京都', weight: 5, postal: jpPostal(['154', '155', '156', '157', '158']) },
      { name: '横浜市', region: '神奈川県', weight: 5, postal: jpPostal(['220', '221', '222', '231', '232']) },
      { name: '大阪市', region: '大阪府', weight: 5, postal: jpPostal(['530', '540', '541', '542', '543']) },
      { name: '名古屋市', region: '愛知県', weight: 3, postal: jpPostal(['450', '453', '460', '461', '464']) },
      { name: '札幌市', region: '北海道', weight: 3, postal: jpPostal(['060', '062', '064', '065']) },
      { name: '福岡市', region: '福岡県', weight: 2, postal: jpPostal(['810', '812', '814', '815']) },
      { name: '神戸市', region: '兵庫県', weight: 2, postal: jpPostal(['650', '651', '652', '653']) },
      { name: '京都市', region: '京都府', weight: 2, postal: jpPostal(['600', '602', '603', '604', '605']) },
    ],
    emailDomains: [['gmail.com', 40], ['yahoo.co.jp', 25], ['docomo.ne.jp', 10], ['icloud.com', 10], ['ezweb.ne.jp', 6], ['outlook.jp', 5], ['softbank.ne.jp', 4]],
    mobile: (r) => `0${r.pick(['90', '80', '70'])}${r.digits(8)}`,
  },
  {
    code: 'CN', weight: 4, currency: 'CNY', lang: 'zh', locale: [zh_CN, en, base], utc: 8,
    salesRegion: 'ASIA_PACIFIC', streetStyle: 'zh',
    cities: [
      { name: '上海市', region: '上海市', weight: 8, postal: cnPostal('200') },
      { name: '北京市', region: '北京市', weight: 7, postal: cnPostal('100') },
      { name: '广州市', region: '广东省', weight: 5, postal: cnPostal('510') },
      { name: '深圳市', region: '广东省', weight: 5, postal: cnPostal('518') },
      { name: '成都市', region: '四川省', weight: 3, postal: cnPostal('610') },
      { name: '杭州市', region: '浙江省', weight: 3, postal: cnPostal('310') },
      { name: '武汉市', region: '湖北省', weight: 2, postal: cnPostal('430') },
      { name: '南京市', region: '江苏省', weight: 2, postal: cnPostal('210') },
      { name: '西安市', region: '陕西省', weight: 2, postal: cnPostal('710') },
    ],
    emailDomains: [['qq.com', 40], ['163.com', 25], ['126.com', 10], ['gmail.com', 8], ['sina.com', 7], ['outlook.com', 5], ['foxmail.com', 5]],
    mobile: (r) => `1${r.pick(['30', '31', '32', '33', '35', '36', '37', '38', '39', '50', '51', '52', '55', '56', '57', '58', '59', '77', '86', '87', '88', '89', '99'])}${r.digits(8)}`,
  },
];

/** Countries the generator uses, with their currency (tests and docs read this). */
export const DEMO_COUNTRIES: ReadonlyArray<{ code: string; currency: string }> =
  COUNTRIES.map((c) => ({ code: c.code, currency: c.currency }));

/** Minor-unit exponent: JPY and KRW have no cents. */
const CURRENCY_EXPONENT: Record<string, number> = { JPY: 0, KRW: 0 };
export const currencyExponent = (currency: string): number => CURRENCY_EXPONENT[currency] ?? 2;

const STORE_SUFFIX: Record<Lang, readonly string[]> = {
  en: ['Central', 'Mall'], de: ['Zentrum', 'Arkaden'], fr: ['Centre', 'Galerie'], es: ['Centro', 'Plaza'],
  it: ['Centro', 'Galleria'], nl: ['Centrum', 'Passage'], pt: ['Centro', 'Shopping'], ja: ['駅前店', '本店'], zh: ['旗舰店', '万达店'],
};

// Faker has no romanisation for Japanese or Chinese names, and emails are derived from the romanised
// name, so these two locales use a small list of common names with their readings.
const JA_LAST: ReadonlyArray<readonly [string, string]> = [
  ['佐藤', 'sato'], ['鈴木', 'suzuki'], ['高橋', 'takahashi'], ['田中', 'tanaka'], ['伊藤', 'ito'], ['渡辺', 'watanabe'],
  ['山本', 'yamamoto'], ['中村', 'nakamura'], ['小林', 'kobayashi'], ['加藤', 'kato'], ['吉田', 'yoshida'], ['山田', 'yamada'],
  ['佐々木', 'sasaki'], ['山口', 'yamaguchi'], ['松本', 'matsumoto'], ['井上', 'inoue'], ['木村', 'kimura'], ['林', 'hayashi'],
  ['斎藤', 'saito'], ['清水', 'shimizu'], ['山崎', 'yamazaki'], ['森', 'mori'], ['池田', 'ikeda'], ['橋本', 'hashimoto'],
];
const JA_FEMALE: ReadonlyArray<readonly [string, string]> = [
  ['陽菜', 'hina'], ['結衣', 'yui'], ['美咲', 'misaki'], ['さくら', 'sakura'], ['葵', 'aoi'], ['愛', 'ai'], ['優子', 'yuko'],
  ['恵子', 'keiko'], ['真由美', 'mayumi'], ['花子', 'hanako'], ['七海', 'nanami'], ['彩', 'aya'], ['由美', 'yumi'], ['京子', 'kyoko'],
];
const JA_MALE: ReadonlyArray<readonly [string, string]> = [
  ['翔太', 'shota'], ['大輝', 'daiki'], ['蓮', 'ren'], ['健太', 'kenta'], ['拓也', 'takuya'], ['浩', 'hiroshi'], ['誠', 'makoto'],
  ['大翔', 'hiroto'], ['悠真', 'yuma'], ['和也', 'kazuya'], ['直樹', 'naoki'], ['隆', 'takashi'], ['健一', 'kenichi'], ['亮', 'ryo'],
];
const ZH_LAST: ReadonlyArray<readonly [string, string]> = [
  ['王', 'wang'], ['李', 'li'], ['张', 'zhang'], ['刘', 'liu'], ['陈', 'chen'], ['杨', 'yang'], ['黄', 'huang'], ['赵', 'zhao'],
  ['吴', 'wu'], ['周', 'zhou'], ['徐', 'xu'], ['孙', 'sun'], ['马', 'ma'], ['朱', 'zhu'], ['胡', 'hu'], ['郭', 'guo'], ['何', 'he'],
  ['林', 'lin'], ['高', 'gao'], ['罗', 'luo'], ['郑', 'zheng'], ['梁', 'liang'],
];
const ZH_FEMALE: ReadonlyArray<readonly [string, string]> = [
  ['芳', 'fang'], ['娜', 'na'], ['敏', 'min'], ['静', 'jing'], ['丽', 'li'], ['婷', 'ting'], ['雪', 'xue'], ['欣怡', 'xinyi'],
  ['梓涵', 'zihan'], ['雨桐', 'yutong'], ['秀英', 'xiuying'], ['晓燕', 'xiaoyan'], ['慧', 'hui'], ['佳怡', 'jiayi'],
];
const ZH_MALE: ReadonlyArray<readonly [string, string]> = [
  ['伟', 'wei'], ['强', 'qiang'], ['磊', 'lei'], ['军', 'jun'], ['洋', 'yang'], ['勇', 'yong'], ['杰', 'jie'], ['浩然', 'haoran'],
  ['子轩', 'zixuan'], ['宇航', 'yuhang'], ['建国', 'jianguo'], ['志强', 'zhiqiang'], ['鹏', 'peng'], ['俊杰', 'junjie'],
];

// Faker's English street names are surnames plus odd suffixes ("Pfannerstill Stravenue"); North American
// and Australian addresses read better composed from common street names.
const EN_STREETS = [
  'Main', 'Oak', 'Maple', 'Cedar', 'Pine', 'Elm', 'Washington', 'Lake', 'Hill', 'Park', 'Church', 'Spring', 'Ridge', 'Sunset',
  'Highland', 'Lincoln', 'Jefferson', 'Franklin', 'Madison', 'Walnut', 'Chestnut', 'Willow', 'River', 'Meadow', 'Forest', 'Center',
  'Union', 'Mill', 'King', 'Queen', 'Victoria', 'Wellington', 'George', 'Cherry', 'Birch', 'Lakeview', 'Jackson', 'Adams', 'Grant',
  'Harbor', 'Bay', 'Valley', 'Summit', 'Railroad', 'College', '1st', '2nd', '3rd', '4th', '5th', '6th', '7th',
];
const EN_SUFFIXES = ['St', 'St', 'Ave', 'Ave', 'Rd', 'Dr', 'Ln', 'Blvd', 'Ct', 'Way', 'Pl', 'Terrace'];
const EN_LINE2 = ['Apt 1A', 'Apt 2B', 'Apt 3C', 'Apt 4D', 'Apt 12', 'Apt 21', 'Suite 100', 'Suite 210', 'Unit 5', 'Unit 14', 'Apt 305', 'Apt 1102'];

interface NamePart { native: string; latin: string }
interface LocalePools {
  female: NamePart[];
  male: NamePart[];
  last: NamePart[];
  streets: string[];
  line2: string[];
  agents: Array<{ name: string; login: string }>;
}

const FOLD_MAP: Record<string, string> = { ß: 'ss', æ: 'ae', ø: 'o', œ: 'oe', ł: 'l', đ: 'd', þ: 'th', ı: 'i' };
/** ASCII lower-case transliteration for e-mail local parts ("Jürgen Groß" -> "jurgen", "gross"). */
export function foldToAscii(s: string): string {
  return s.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[ßæøœłđþı]/g, (c) => FOLD_MAP[c] ?? '');
}
const asciiTokens = (s: string) => foldToAscii(s).split(/[^a-z0-9]+/).filter(Boolean);

function uniqueFrom(make: () => string, want: number, tries: number): string[] {
  const seen = new Set<string>();
  for (let i = 0; i < tries && seen.size < want; i++) {
    const v = make().trim();
    if (v) seen.add(v);
  }
  return [...seen];
}

function buildPools(country: CountrySpec, index: number): LocalePools {
  const faker = new Faker({ locale: country.locale });
  // Fixed seed: pools are part of the code's reference data, not of the run's seed.
  faker.seed(20_240_601 + index);
  const latin = (native: string): NamePart => ({ native, latin: native });
  let female: NamePart[];
  let male: NamePart[];
  let last: NamePart[];
  if (country.lang === 'ja' || country.lang === 'zh') {
    const [lf, lm, ll] = country.lang === 'ja' ? [JA_FEMALE, JA_MALE, JA_LAST] : [ZH_FEMALE, ZH_MALE, ZH_LAST];
    const toPart = ([native, romaji]: readonly [string, string]): NamePart => ({ native, latin: romaji });
    female = lf.map(toPart);
    male = lm.map(toPart);
    last = ll.map(toPart);
  } else {
    // Large pools keep name (and so e-mail) collisions rare at a million customers.
    female = uniqueFrom(() => faker.person.firstName('female'), 1000, 6000).map(latin);
    male = uniqueFrom(() => faker.person.firstName('male'), 1000, 6000).map(latin);
    last = uniqueFrom(() => faker.person.lastName(), 2000, 12000).map(latin);
  }
  let streets: string[];
  let line2: string[];
  switch (country.streetStyle) {
    case 'en':
      streets = EN_STREETS.flatMap((s) => EN_SUFFIXES.map((x) => `${s} ${x}`));
      line2 = EN_LINE2;
      break;
    case 'ja':
      streets = uniqueFrom(() => faker.location.streetAddress(), 400, 2000);
      line2 = uniqueFrom(() => faker.location.secondaryAddress(), 200, 1000);
      break;
    default:
      streets = uniqueFrom(() => faker.location.street(), 1500, 6000);
      line2 = uniqueFrom(() => faker.location.secondaryAddress(), 200, 1000);
  }
  const agentRng = new Rng(7, index, 3);
  const agents = Array.from({ length: 12 }, () => {
    const first = agentRng.pick(agentRng.chance(0.5) ? female : male);
    const lastName = agentRng.pick(last);
    const loginParts = [...asciiTokens(first.latin).slice(0, 1), ...asciiTokens(lastName.latin).slice(0, 1)];
    return { name: `${first.native} ${lastName.native}`, login: loginParts.join('.') || `agent${index}` };
  });
  return { female, male, last, streets, line2, agents };
}

let poolsCache: LocalePools[] | undefined;
/** Built once per process (~0.3 s): faker is far too slow to call per row at a million customers. */
function pools(): LocalePools[] {
  poolsCache ??= COUNTRIES.map((c, i) => buildPools(c, i));
  return poolsCache;
}

// ---------------------------------------------------------------------------------------------------
// Product catalogue (USD reference prices in cents; localised with psychological price points)
// ---------------------------------------------------------------------------------------------------

export const PRODUCT_CATEGORIES = ['electronics', 'fashion', 'home', 'beauty', 'sports', 'books', 'grocery', 'toys'] as const;
export type ProductCategory = (typeof PRODUCT_CATEGORIES)[number];

const CATALOG: Record<ProductCategory, ReadonlyArray<readonly [string, number]>> = {
  electronics: [
    ['Wireless Earbuds', 7999], ['Noise-Cancelling Headphones', 24999], ['Bluetooth Speaker', 5999], ['USB-C Fast Charger', 2499],
    ['Power Bank 20000 mAh', 3999], ['Smartphone Case', 1999], ['Smartwatch', 19999], ['Fitness Tracker', 6999],
    ['27" 4K Monitor', 32999], ['Mechanical Keyboard', 8999], ['Wireless Mouse', 2999], ['HD Webcam', 5999],
    ['Portable SSD 1 TB', 10999], ['10" Tablet', 29999], ['E-Reader', 12999], ['HDMI Cable 2 m', 1299],
  ],
  fashion: [
    ['Cotton T-Shirt', 1999], ['Slim Fit Jeans', 5999], ['Merino Wool Sweater', 7999], ['Running Sneakers', 8999],
    ['Leather Belt', 3499], ['Rain Jacket', 9999], ['Summer Dress', 4999], ['Chino Trousers', 4999], ['Silk Scarf', 3999],
    ['Ankle Boots', 11999], ['Baseball Cap', 1999], ['Denim Jacket', 7999], ['Linen Shirt', 4499], ['Socks 5-Pack', 1499], ['Hoodie', 4999],
  ],
  home: [
    ['Ceramic Mug Set', 2999], ['Scented Candle', 1999], ['Cotton Bath Towel', 2499], ['Non-Stick Frying Pan', 3999],
    ["Chef's Knife", 5999], ['Throw Blanket', 4999], ['Table Lamp', 6999], ['Storage Baskets (set of 3)', 3499],
    ['Bed Sheet Set', 7999], ['Drip Coffee Maker', 8999], ['Bamboo Cutting Board', 2499], ['Picture Frame', 1799],
    ['Cushion Cover', 1499], ['Glass Food Containers', 3299], ['Cordless Vacuum Cleaner', 24999],
  ],
  beauty: [
    ['Moisturising Face Cream', 2999], ['Vitamin C Serum', 3499], ['Shampoo 500 ml', 1299], ['Conditioner 500 ml', 1299],
    ['Matte Lipstick', 1999], ['Volume Mascara', 1799], ['Eau de Parfum 50 ml', 7999], ['Sunscreen SPF 50', 1999],
    ['Hand Cream', 899], ['Gentle Facial Cleanser', 1599], ['Ionic Hair Dryer', 6999], ['Nail Polish', 999],
  ],
  sports: [
    ['Yoga Mat', 3499], ['Adjustable Dumbbell Set', 14999], ['Running Shorts', 2999], ['Insulated Water Bottle 750 ml', 2499],
    ['Resistance Bands', 1999], ['Cycling Helmet', 6999], ['Tennis Balls (3-pack)', 799], ['Football', 2999],
    ['Sports Bra', 3499], ['Hiking Backpack 30 L', 8999], ['Jump Rope', 1299], ['Foam Roller', 2499],
  ],
  books: [
    ['Mystery Novel (paperback)', 1499], ['Everyday Cookbook', 2999], ["Children's Picture Book", 1299], ['Business Bestseller', 2499],
    ['City Travel Guide', 1999], ['Science Fiction Novel', 1699], ['Biography (hardcover)', 2999], ['Self-Help Book', 1899],
    ['Graphic Novel', 2199], ['Language Course Book', 3499],
  ],
  grocery: [
    ['Organic Coffee Beans 1 kg', 2499], ['Green Tea (40 bags)', 699], ['Dark Chocolate 70%', 399], ['Extra Virgin Olive Oil 1 L', 1499],
    ['Durum Wheat Pasta 500 g', 299], ['Crunchy Granola', 599], ['Almonds 500 g', 999], ['Sparkling Water 6 x 1 L', 599],
    ['Wildflower Honey 500 g', 899], ['Basmati Rice 2 kg', 799],
  ],
  toys: [
    ['Building Blocks Set', 4999], ['Plush Teddy Bear', 1999], ['Jigsaw Puzzle 1000 pcs', 1999], ['Family Board Game', 3499],
    ['Remote Control Car', 5999], ['Wooden Doll House', 8999], ['Arts & Crafts Kit', 2499], ['Wooden Train Set', 4499], ['Card Game', 1299],
  ],
};
const CATEGORY_CODE: Record<ProductCategory, string> = {
  electronics: 'ELE', fashion: 'FAS', home: 'HOM', beauty: 'BEA', sports: 'SPO', books: 'BOO', grocery: 'GRO', toys: 'TOY',
};
const CATEGORY_BASE_WEIGHT: Record<ProductCategory, number> = {
  electronics: 1.0, fashion: 1.3, home: 1.0, beauty: 0.8, sports: 0.7, books: 0.6, grocery: 0.8, toys: 0.5,
};
const VARIANTS: Partial<Record<ProductCategory, ReadonlyArray<readonly [string, string]>>> = {
  fashion: [['Black', 'BK'], ['Navy', 'NV'], ['White', 'WH'], ['Grey', 'GY'], ['Olive', 'OL']],
  electronics: [['Black', 'BK'], ['White', 'WH']],
};

/** What service templates may say about a product: only appliances break or get repaired, only wearables have sizes. */
type ProductKind = 'appliance' | 'wearable';
const APPLIANCES = new Set(['Drip Coffee Maker', 'Cordless Vacuum Cleaner', 'Table Lamp', 'Ionic Hair Dryer', 'Remote Control Car']);
const WEARABLES = new Set(['Running Shorts', 'Sports Bra', 'Cycling Helmet']);
function kindOf(category: ProductCategory, name: string): ProductKind | null {
  if ((category === 'electronics' && name !== 'Smartphone Case') || APPLIANCES.has(name)) return 'appliance';
  if (category === 'fashion' || WEARABLES.has(name)) return 'wearable';
  return null;
}

interface Product { sku: string; name: string; category: ProductCategory; kind: ProductKind | null; usdCents: number }

const PRODUCTS: Product[] = [];
const PRODUCTS_BY_CATEGORY = new Map<ProductCategory, Weighted<number>>();
for (const category of PRODUCT_CATEGORIES) {
  const picks: Array<readonly [number, number]> = [];
  CATALOG[category].forEach(([name, usdCents], i) => {
    const code = `${CATEGORY_CODE[category]}-${1001 + i}`;
    // Early entries are the best sellers: a gentle power law, as in most shops.
    const popularity = 1 / Math.sqrt(i + 1);
    const variants = VARIANTS[category];
    const applies = variants && (category === 'fashion' || i % 3 === 0);
    if (variants && applies) {
      for (const [label, short] of variants) {
        picks.push([PRODUCTS.length, popularity / variants.length]);
        PRODUCTS.push({ sku: `${code}-${short}`, name: `${name}, ${label}`, category, kind: kindOf(category, name), usdCents });
      }
    } else {
      picks.push([PRODUCTS.length, popularity]);
      PRODUCTS.push({ sku: code, name, category, kind: kindOf(category, name), usdCents });
    }
  });
  PRODUCTS_BY_CATEGORY.set(category, new Weighted(picks));
}
const PRODUCTS_BY_KIND: Record<ProductKind, readonly Product[]> = {
  appliance: PRODUCTS.filter((p) => p.kind === 'appliance'),
  wearable: PRODUCTS.filter((p) => p.kind === 'wearable'),
};

// Price-list conversion (how a retailer localises its catalogue), independent of the accounting rates
// in currency_rates so that generated amounts do not shift when the rates table is updated.
const PRICE_FX: Record<string, number> = {
  USD: 1, EUR: 0.92, GBP: 0.79, JPY: 150, CNY: 7.2, CAD: 1.36, AUD: 1.52, BRL: 5.1, MXN: 17.5, INR: 83, CHF: 0.88, SEK: 10.5, KRW: 1330,
};

/** Local shelf price in minor units: x.99 in most currencies, x.90 in BRL, whole yuan/pesos, ¥1,980-style yen. */
function localPrice(usdCents: number, currency: string): number {
  const major = (usdCents / 100) * (PRICE_FX[currency] ?? 1);
  switch (currency) {
    case 'JPY':
      return major >= 1000 ? Math.round(major / 100) * 100 - 20 : Math.max(10, Math.round(major / 10) * 10);
    case 'KRW':
      return Math.max(100, Math.round(major / 100) * 100 - 100);
    case 'CNY':
    case 'MXN':
      return Math.max(1, Math.round(major)) * 100;
    case 'BRL':
      return Math.max(1, Math.round(major)) * 100 - 10;
    default:
      return Math.max(1, Math.round(major)) * 100 - 1;
  }
}

// ---------------------------------------------------------------------------------------------------
// Service interaction templates (agents write in English in this demo's helpdesk)
// ---------------------------------------------------------------------------------------------------

export const INTERACTION_CHANNELS = ['EMAIL', 'PHONE', 'CHAT', 'SOCIAL', 'STORE', 'WEB', 'APP'] as const;
export type InteractionChannel = (typeof INTERACTION_CHANNELS)[number];
export const INTERACTION_TYPES = ['TICKET', 'CALL', 'MESSAGE', 'VISIT', 'FEEDBACK', 'COMPLAINT'] as const;
export type InteractionType = (typeof INTERACTION_TYPES)[number];
export type Sentiment = 'POSITIVE' | 'NEUTRAL' | 'NEGATIVE';

interface InteractionTemplate {
  subject: string;
  summary: string;
  channels: readonly InteractionChannel[];
  /**
   * {order} names one of the customer's earlier orders: any, or one that was shipped (not bought in a
   * store: nobody chases the delivery of a till receipt).
   */
  needsOrder?: 'any' | 'shipped';
  /** {product} must be of this kind (a repaired teddy bear reads wrong). */
  productKind?: ProductKind;
  /** At most once per customer (a welcome call). */
  once?: boolean;
  outbound?: boolean;
  /** Weights for POSITIVE, NEUTRAL, NEGATIVE. */
  mood: readonly [number, number, number];
}

const TPL: Record<InteractionType, readonly InteractionTemplate[]> = {
  TICKET: [
    { subject: 'Late delivery of order {order}', summary: 'Order {order} has not arrived {days} days after dispatch and tracking shows no update. Opened an investigation with the carrier.', channels: ['EMAIL', 'WEB', 'APP', 'CHAT'], needsOrder: 'shipped', mood: [0.05, 0.45, 0.5] },
    { subject: 'Wrong item received in order {order}', summary: 'Customer received a different item instead of the {product}. Return label sent and replacement shipped.', channels: ['EMAIL', 'WEB', 'CHAT'], needsOrder: 'shipped', mood: [0.05, 0.5, 0.45] },
    { subject: 'Refund request for order {order}', summary: 'Customer wants to return the {product} from order {order} and asked for a refund to the original payment method.', channels: ['EMAIL', 'WEB', 'APP'], needsOrder: 'any', mood: [0.05, 0.7, 0.25] },
    { subject: 'Change delivery address for order {order}', summary: 'Customer asked to update the delivery address of order {order} before dispatch. Address changed.', channels: ['EMAIL', 'CHAT', 'APP'], needsOrder: 'shipped', mood: [0.2, 0.75, 0.05] },
    { subject: 'Invoice request for order {order}', summary: 'Customer needs a VAT invoice for order {order}. Invoice sent as PDF.', channels: ['EMAIL', 'WEB'], needsOrder: 'any', mood: [0.15, 0.8, 0.05] },
    { subject: 'Question about size', summary: 'Customer asked which size of the {product} to choose. Sent the size guide and fit recommendations.', channels: ['EMAIL', 'CHAT', 'WEB'], productKind: 'wearable', mood: [0.2, 0.75, 0.05] },
    { subject: 'Cannot log in to my account', summary: 'Password reset e-mail did not arrive. Verified the address and triggered a new reset link.', channels: ['EMAIL', 'WEB', 'APP', 'CHAT'], mood: [0.1, 0.6, 0.3] },
    { subject: 'Promo code not working', summary: 'Discount code was rejected at checkout because it had expired. Applied a goodwill voucher instead.', channels: ['EMAIL', 'CHAT', 'APP'], mood: [0.25, 0.45, 0.3] },
  ],
  CALL: [
    { subject: 'Order status inquiry', summary: 'Customer called to check the status of order {order}. Confirmed delivery within 2 working days.', channels: ['PHONE'], needsOrder: 'shipped', mood: [0.2, 0.7, 0.1] },
    { subject: 'Delivery time slot', summary: 'Customer asked to reschedule the delivery of order {order} to a weekday evening.', channels: ['PHONE'], needsOrder: 'shipped', mood: [0.15, 0.8, 0.05] },
    { subject: 'Question about warranty', summary: 'Customer asked about the warranty on the {product}. Explained the two-year warranty and the repair process.', channels: ['PHONE'], productKind: 'appliance', mood: [0.15, 0.8, 0.05] },
    { subject: 'Payment failed', summary: 'Card payment was declined twice at checkout. Advised to retry with another card or pay by invoice.', channels: ['PHONE'], mood: [0.05, 0.6, 0.35] },
    { subject: 'Loyalty programme welcome call', summary: 'Welcomed the customer to the loyalty programme and explained how points are earned.', channels: ['PHONE'], outbound: true, once: true, mood: [0.5, 0.45, 0.05] },
  ],
  MESSAGE: [
    { subject: 'Product availability question', summary: 'Customer asked when the {product} will be back in stock. Offered a back-in-stock notification.', channels: ['CHAT', 'SOCIAL', 'EMAIL', 'APP'], mood: [0.15, 0.75, 0.1] },
    { subject: 'Store opening hours', summary: 'Customer asked for the holiday opening hours of the {store} store.', channels: ['CHAT', 'SOCIAL'], mood: [0.15, 0.8, 0.05] },
    { subject: 'Shipping costs question', summary: 'Customer asked about shipping costs and the free-delivery threshold.', channels: ['CHAT', 'EMAIL', 'APP'], mood: [0.1, 0.8, 0.1] },
    { subject: 'Thanks for the quick help', summary: 'Customer thanked the team for resolving the issue so quickly.', channels: ['SOCIAL', 'EMAIL', 'CHAT'], mood: [0.85, 0.15, 0] },
    { subject: 'Fewer marketing e-mails', summary: 'Customer asked to receive fewer marketing e-mails. Updated the contact preferences.', channels: ['EMAIL', 'CHAT'], once: true, mood: [0.05, 0.75, 0.2] },
    { subject: 'Personal offer: {category}', summary: 'Sent a personalised offer for {category} products based on recent purchases.', channels: ['EMAIL', 'APP'], outbound: true, mood: [0.3, 0.7, 0] },
  ],
  VISIT: [
    { subject: 'In-store return', summary: 'Customer returned the {product} in store. Refund issued to the original payment method.', channels: ['STORE'], needsOrder: 'any', mood: [0.2, 0.65, 0.15] },
    { subject: 'Click & collect pickup of order {order}', summary: 'Customer picked up order {order} at the {store} store.', channels: ['STORE'], needsOrder: 'shipped', mood: [0.35, 0.6, 0.05] },
    { subject: 'Product advice', summary: 'Customer asked for advice on {category} products. Recommended a few options.', channels: ['STORE'], mood: [0.45, 0.5, 0.05] },
    { subject: 'Repair drop-off', summary: 'Customer dropped off the {product} for repair. Estimated turnaround 10 working days.', channels: ['STORE'], productKind: 'appliance', mood: [0.1, 0.7, 0.2] },
    { subject: 'Gift wrapping', summary: 'Customer asked for gift wrapping and a gift receipt for a {category} purchase.', channels: ['STORE'], mood: [0.5, 0.5, 0] },
    { subject: 'Price match request', summary: 'Customer asked to match a competitor price for the {product}. Matched after checking the offer.', channels: ['STORE'], mood: [0.3, 0.6, 0.1] },
  ],
  FEEDBACK: [
    { subject: 'Survey response: NPS {score}', summary: 'Post-purchase survey for order {order}: scored {score}/10.', channels: ['WEB', 'EMAIL', 'APP'], needsOrder: 'any', mood: [0.5, 0.3, 0.2] },
    { subject: 'Delivery was fast', summary: 'Customer was happy that order {order} arrived a day early.', channels: ['WEB', 'APP', 'EMAIL'], needsOrder: 'shipped', mood: [0.9, 0.1, 0] },
    { subject: 'Great service in store', summary: 'Customer praised the staff at the {store} store for friendly and competent advice.', channels: ['STORE', 'WEB'], mood: [0.9, 0.1, 0] },
    { subject: 'App feedback', summary: 'Customer suggested adding order-tracking notifications to the app.', channels: ['APP'], mood: [0.2, 0.65, 0.15] },
    { subject: 'Suggestion: more sizes', summary: 'Customer would like the {product} in more sizes and colours.', channels: ['WEB', 'EMAIL', 'STORE'], productKind: 'wearable', mood: [0.2, 0.65, 0.15] },
  ],
  COMPLAINT: [
    { subject: 'Complaint: item broke after {days} days', summary: 'The {product} from order {order} stopped working after {days} days. Customer demands a replacement.', channels: ['EMAIL', 'PHONE', 'WEB', 'CHAT'], needsOrder: 'any', productKind: 'appliance', mood: [0.02, 0.13, 0.85] },
    { subject: 'Complaint: refund not received for order {order}', summary: 'Customer returned items from order {order} {days} days ago and has not received the refund yet.', channels: ['EMAIL', 'PHONE', 'CHAT'], needsOrder: 'any', mood: [0.02, 0.13, 0.85] },
    { subject: 'Complaint: charged twice', summary: 'Customer was charged twice for order {order}. Duplicate charge reversed.', channels: ['EMAIL', 'PHONE', 'CHAT'], needsOrder: 'any', mood: [0.05, 0.2, 0.75] },
    { subject: 'Complaint: parcel left at wrong address', summary: 'The courier left the parcel for order {order} with a neighbour without notice.', channels: ['EMAIL', 'SOCIAL', 'WEB'], needsOrder: 'shipped', mood: [0.02, 0.18, 0.8] },
    { subject: 'Complaint: unfriendly staff', summary: 'Customer complains about unfriendly staff at the {store} store.', channels: ['EMAIL', 'SOCIAL', 'WEB', 'PHONE'], mood: [0.02, 0.1, 0.88] },
    { subject: 'Complaint: long waiting time', summary: 'Customer waited 40 minutes on the hotline before reaching an agent.', channels: ['PHONE', 'SOCIAL', 'EMAIL'], mood: [0.02, 0.15, 0.83] },
  ],
};
/** What to say when the picked template does not fit the customer: no order needed, repeatable. */
const repeatable = (type: InteractionType) => TPL[type].filter((t) => !t.needsOrder && !t.once);
const FALLBACK_TPL: Record<InteractionType, readonly InteractionTemplate[]> = {
  TICKET: repeatable('TICKET'), CALL: repeatable('CALL'), MESSAGE: repeatable('MESSAGE'),
  VISIT: repeatable('VISIT'), FEEDBACK: repeatable('FEEDBACK'), COMPLAINT: repeatable('COMPLAINT'),
};
const INTERACTION_TYPE_WEIGHTS = new Weighted<InteractionType>([
  ['TICKET', 30], ['CALL', 15], ['MESSAGE', 20], ['VISIT', 12], ['FEEDBACK', 13], ['COMPLAINT', 10],
]);
const REFUND_TICKET = TPL.TICKET.find((t) => t.subject.startsWith('Refund request'))!;
/** Some complaints get a call back a day or two later. */
const FOLLOW_UP_CALL: InteractionTemplate = {
  subject: 'Follow-up call after complaint', summary: 'Called the customer to follow up on the complaint about {topic}. Customer is satisfied with the solution.',
  channels: ['PHONE'], outbound: true, mood: [0.6, 0.35, 0.05],
};
const STORE_TYPE_WEIGHTS = new Weighted<InteractionType>([
  ['TICKET', 12], ['CALL', 18], ['MESSAGE', 10], ['VISIT', 37], ['FEEDBACK', 13], ['COMPLAINT', 10],
]);
const SENTIMENTS: readonly Sentiment[] = ['POSITIVE', 'NEUTRAL', 'NEGATIVE'];

// ---------------------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------------------

export type TagCategoryKey = 'BASIC' | 'BEHAVIOR' | 'INTEREST' | 'LIFECYCLE' | 'VALUE' | 'CUSTOM';
export type TagValueType = 'BOOLEAN' | 'TEXT' | 'NUMBER' | 'ENUM';
export type TagSource = 'MANUAL' | 'RULE' | 'IMPORT' | 'MODEL';

export interface DemoTagDefinition {
  id: string;
  key: string;
  name: string;
  description: string;
  category: TagCategoryKey;
  valueType: TagValueType;
}

const TAG_DEFS: ReadonlyArray<Omit<DemoTagDefinition, 'id'>> = [
  { key: 'vip', name: 'VIP', description: 'Top spenders: lifetime completed orders worth at least 5,000 in the base currency.', category: 'VALUE', valueType: 'BOOLEAN' },
  { key: 'high_value', name: 'High value', description: 'Lifetime completed orders worth at least 1,500 in the base currency.', category: 'VALUE', valueType: 'BOOLEAN' },
  { key: 'frequent_buyer', name: 'Frequent buyer', description: 'At least 8 completed orders within 365 days.', category: 'BEHAVIOR', valueType: 'BOOLEAN' },
  { key: 'prefers_online', name: 'Prefers online', description: 'At least 3 orders, 70% or more of them online, in the app or on marketplaces.', category: 'BEHAVIOR', valueType: 'BOOLEAN' },
  { key: 'interest_electronics', name: 'Interest: electronics', description: 'Buys or asks about electronics.', category: 'INTEREST', valueType: 'BOOLEAN' },
  { key: 'interest_fashion', name: 'Interest: fashion', description: 'Buys or asks about fashion.', category: 'INTEREST', valueType: 'BOOLEAN' },
  { key: 'interest_home', name: 'Interest: home & living', description: 'Buys or asks about home and living products.', category: 'INTEREST', valueType: 'BOOLEAN' },
  { key: 'interest_beauty', name: 'Interest: beauty', description: 'Buys or asks about beauty and care products.', category: 'INTEREST', valueType: 'BOOLEAN' },
  { key: 'interest_sports', name: 'Interest: sports', description: 'Buys or asks about sports and outdoor products.', category: 'INTEREST', valueType: 'BOOLEAN' },
  { key: 'age_band', name: 'Age band', description: 'Age band from the birth date: 18-24, 25-34, 35-44, 45-54, 55-64, 65+.', category: 'BASIC', valueType: 'TEXT' },
  { key: 'region', name: 'Sales region', description: 'Sales region of the home country: NORTH_AMERICA, LATIN_AMERICA, EUROPE, ASIA_PACIFIC.', category: 'BASIC', valueType: 'ENUM' },
  { key: 'new_customer', name: 'New customer', description: 'First purchase within the last 30 days (expires 30 days after the first purchase).', category: 'LIFECYCLE', valueType: 'BOOLEAN' },
  { key: 'at_risk', name: 'At risk', description: 'Last purchase 90 to 180 days ago.', category: 'LIFECYCLE', valueType: 'BOOLEAN' },
  { key: 'churned', name: 'Churned', description: 'No purchase for more than 180 days.', category: 'LIFECYCLE', valueType: 'BOOLEAN' },
  { key: 'churn_risk_score', name: 'Churn risk score', description: 'Probability of churn (0-1) from the weekly churn model.', category: 'LIFECYCLE', valueType: 'NUMBER' },
  { key: 'newsletter_subscriber', name: 'Newsletter subscriber', description: 'Subscribed to the newsletter (synchronised from the e-mail tool).', category: 'CUSTOM', valueType: 'BOOLEAN' },
];
/**
 * The rules the demo's RULE tags come from (their assignments name them: `rule:<key>@v1`, and point at
 * them by rule id). The seed creates them disabled, so that the generated history stays as generated;
 * `enableTagRule` lets one maintain its tag from then on. Filters in the form `createTagRule` takes.
 */
export const DEMO_TAG_RULES: readonly { key: string; name: string; description: string; tagKey: string; filter: Record<string, unknown> }[] = [
  { key: 'vip', name: 'VIP', tagKey: 'vip', description: 'Lifetime completed orders worth at least 5,000 in the base currency.',
    filter: { transactions: { type: 'ORDER', sum: { min: '5000' } } } },
  { key: 'high_value', name: 'High value', tagKey: 'high_value', description: 'Lifetime completed orders worth at least 1,500 in the base currency.',
    filter: { transactions: { type: 'ORDER', sum: { min: '1500' } } } },
  { key: 'frequent_buyer', name: 'Frequent buyer', tagKey: 'frequent_buyer', description: 'At least 8 completed orders within 365 days.',
    filter: { transactions: { type: 'ORDER', window: { last: 'P365D' }, count: { min: 8 } } } },
  { key: 'prefers_online', name: 'Prefers online', tagKey: 'prefers_online',
    description: 'Buys online: at least 3 orders online, in the app or on marketplaces, and none in store within a year.',
    filter: { and: [{ transactions: { type: 'ORDER', channel: ['online', 'app', 'marketplace'], count: { min: 3 } } },
      { not: { transactions: { type: 'ORDER', channel: ['store'], window: { last: 'P365D' } } } }] } },
  { key: 'new_customer', name: 'New customer', tagKey: 'new_customer', description: 'Lifecycle stage NEW: first purchase within LIFECYCLE_NEW_DAYS.',
    filter: { lifecycleStage: ['NEW'] } },
  { key: 'at_risk', name: 'At risk', tagKey: 'at_risk', description: 'Lifecycle stage AT_RISK: last purchase more than LIFECYCLE_ACTIVE_DAYS ago.',
    filter: { lifecycleStage: ['AT_RISK'] } },
  { key: 'churned', name: 'Churned', tagKey: 'churned', description: 'Lifecycle stage CHURNED: no purchase for more than LIFECYCLE_CHURN_DAYS.',
    filter: { lifecycleStage: ['CHURNED'] } },
];
const VIP_SPEND = 5000;
const HIGH_VALUE_SPEND = 1500;

/** The demo tag taxonomy with ids derived from the seed. */
export function demoTagDefinitions(seed: number): DemoTagDefinition[] {
  const rng = new Rng(seed, 0, 2);
  return TAG_DEFS.map((d) => ({ id: rng.uuid(), ...d }));
}

const INTEREST_TAG: Partial<Record<ProductCategory, string>> = {
  electronics: 'interest_electronics', fashion: 'interest_fashion', home: 'interest_home', beauty: 'interest_beauty', sports: 'interest_sports',
};

// ---------------------------------------------------------------------------------------------------
// Rows (timestamps are epoch milliseconds, dates are YYYY-MM-DD, money is a decimal string)
// ---------------------------------------------------------------------------------------------------

export type Gender = 'FEMALE' | 'MALE' | 'NON_BINARY' | 'UNKNOWN';
export type LifecycleStage = 'PROSPECT' | 'NEW' | 'ACTIVE' | 'AT_RISK' | 'CHURNED' | 'REACTIVATED';
export type SalesChannel = 'online' | 'store' | 'app' | 'marketplace';

export interface DemoCustomer {
  id: string;
  firstName: string;
  lastName: string;
  displayName: string;
  email: string | null;
  emailNormalized: string | null;
  phone: string | null;
  phoneE164: string | null;
  birthDate: string | null;
  gender: Gender;
  addressLine1: string | null;
  addressLine2: string | null;
  city: string;
  region: string;
  postalCode: string | null;
  country: string;
  lifecycleStage: LifecycleStage;
  createdAt: number;
  updatedAt: number;
}
export interface DemoIdentity { customerId: string; source: 'crm' | 'shop' | 'pos'; externalId: string; createdAt: number }
export interface DemoConsent {
  id: string;
  customerId: string;
  purpose: string;
  status: 'GRANTED' | 'DENIED' | 'WITHDRAWN';
  source: 'web_form' | 'pos' | 'import';
  recordedAt: number;
  createdAt: number;
}
export interface DemoCustomerTag {
  customerId: string;
  tagKey: string;
  tagId: string;
  value: string | null;
  source: TagSource;
  actor: string | null;
  confidence: string | null;
  assignedAt: number;
  expiresAt: number | null;
}
export interface DemoTagEvent {
  id: string;
  customerId: string;
  tagKey: string;
  tagId: string;
  action: 'ADDED' | 'CHANGED' | 'REMOVED';
  value: string | null;
  previousValue: string | null;
  source: TagSource;
  actor: string | null;
  occurredAt: number;
}
export interface DemoTransaction {
  id: string;
  customerId: string;
  source: 'shop' | 'pos';
  externalId: string;
  occurredAt: number;
  type: 'ORDER' | 'REFUND';
  status: 'PENDING' | 'COMPLETED' | 'CANCELLED';
  channel: SalesChannel;
  store: string | null;
  currency: string;
  amount: string;
  amountBase: string;
  createdAt: number;
  updatedAt: number;
  /** Not stored (the schema has no link column): the external id of the refunded order, for tests. */
  refundOf: string | null;
}
export interface DemoTransactionItem {
  id: string;
  transactionId: string;
  customerId: string;
  position: number;
  sku: string;
  productName: string;
  category: ProductCategory;
  quantity: number;
  unitPrice: string;
}
export interface DemoInteraction {
  id: string;
  customerId: string;
  source: 'helpdesk';
  externalId: string;
  channel: InteractionChannel;
  type: InteractionType;
  direction: 'INBOUND' | 'OUTBOUND';
  subject: string;
  summary: string;
  sentiment: Sentiment | null;
  status: 'OPEN' | 'PENDING' | 'RESOLVED' | 'CLOSED';
  agent: string | null;
  occurredAt: number;
  createdAt: number;
  updatedAt: number;
}

/** Rows of one or more customers, keyed like the Drizzle schema exports, in foreign-key order. */
export interface DemoBatch {
  customers: DemoCustomer[];
  customerIdentities: DemoIdentity[];
  consents: DemoConsent[];
  customerTags: DemoCustomerTag[];
  customerTagEvents: DemoTagEvent[];
  transactions: DemoTransaction[];
  transactionItems: DemoTransactionItem[];
  interactions: DemoInteraction[];
}
export const DEMO_TABLES = [
  'customers', 'customerIdentities', 'consents', 'customerTags', 'customerTagEvents', 'transactions', 'transactionItems', 'interactions',
] as const satisfies ReadonlyArray<keyof DemoBatch>;
export type DemoTable = (typeof DEMO_TABLES)[number];

export const emptyBatch = (): DemoBatch => ({
  customers: [], customerIdentities: [], consents: [], customerTags: [], customerTagEvents: [], transactions: [], transactionItems: [], interactions: [],
});

// ---------------------------------------------------------------------------------------------------
// Money
// ---------------------------------------------------------------------------------------------------

/** A rate row as stored in currency_rates: 1 unit of `currency` = `rate` units of `baseCurrency`. */
export interface CurrencyRateInput { currency: string; baseCurrency: string; validFrom: string; rate: string }

const RATE_SCALE = 100_000_000n; // numeric(18,8)
function parseScaled(v: string, decimals: number): bigint {
  const s = v.trim();
  const neg = s.startsWith('-');
  const [int = '0', frac = ''] = (neg ? s.slice(1) : s).split('.');
  if (!/^\d+$/.test(int) || !/^\d*$/.test(frac)) throw new Error(`not a decimal: ${v}`);
  const n = BigInt(int + frac.padEnd(decimals, '0').slice(0, decimals));
  return neg ? -n : n;
}

/** Formats an integer amount in 1/10^scale units ("12345", 2 -> "123.45"). */
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

export function formatScaled(units: number | bigint, scale: number): string {
  // Fast path for the common case: a non-negative price or amount in cents.
  if (typeof units === 'number' && scale === 2 && units >= 0) return `${Math.floor(units / 100)}.${PAD2[units % 100]}`;
  const neg = units < 0;
  const s = (neg ? -units : units).toString();
  if (scale === 0) return neg ? `-${s}` : s;
  const padded = s.padStart(scale + 1, '0');
  const out = `${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
  return neg ? `-${out}` : out;
}

interface Rate { from: number; num: bigint; hi: number; lo: number }

/**
 * Converts money to the base currency exactly: amount (1/10^4 units) * rate(c->USD) / rate(base->USD),
 * rounded half-up to 4 decimals. 10^4-scaled amounts times 10^8-scaled rates overflow a double's 53 bits,
 * so the general path is BigInt; the common USD-base path splits the rate instead (a third of the cost).
 */
class Converter {
  private readonly byCurrency = new Map<string, Rate[]>();
  private readonly baseRates: Rate[];

  constructor(rates: readonly CurrencyRateInput[], readonly baseCurrency: string, needed: readonly string[]) {
    const rate = (from: number, num: bigint): Rate => ({ from, num, hi: Number(num / 10_000n), lo: Number(num % 10_000n) });
    for (const r of rates) {
      if (r.baseCurrency.trim() !== 'USD') continue;
      const list = this.byCurrency.get(r.currency.trim()) ?? [];
      list.push(rate(Date.parse(`${r.validFrom}T00:00:00Z`), parseScaled(r.rate, 8)));
      this.byCurrency.set(r.currency.trim(), list);
    }
    for (const list of this.byCurrency.values()) list.sort((a, b) => a.from - b.from);
    if (!this.byCurrency.has('USD')) this.byCurrency.set('USD', [rate(0, RATE_SCALE)]);
    const missing = [...new Set([...needed, baseCurrency])].filter((c) => !this.byCurrency.has(c));
    if (missing.length) {
      throw new Error(`currency_rates has no rate to USD for ${missing.join(', ')}; add one (see drizzle/0002_reference_data.sql)`);
    }
    this.baseRates = this.byCurrency.get(baseCurrency)!;
  }

  /** Latest rate valid at `at`; the oldest one for earlier days (better than no base amount). */
  private static rateAt(list: Rate[], at: number): Rate {
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.from <= at) return list[i]!;
    return list[0]!;
  }

  toBase(minor: number, currency: string, at: number): string {
    const units = minor * 10 ** (4 - currencyExponent(currency));
    if (currency === this.baseCurrency) return formatScaled(units, 4);
    const rate = Converter.rateAt(this.byCurrency.get(currency)!, at);
    if (this.baseCurrency === 'USD' && units < 1e10 && rate.hi < 1e5) {
      // units * (hi * 10^4 + lo) / 10^8 with every intermediate below 2^53.
      const a = units * rate.hi;
      const q = Math.floor(a / 10_000);
      const r = a - q * 10_000;
      return formatScaled(q + Math.floor((r * 10_000 + units * rate.lo + 50_000_000) / 100_000_000), 4);
    }
    const num = BigInt(units) * rate.num;
    const den = Converter.rateAt(this.baseRates, at).num;
    return formatScaled((num * 2n + den) / (2n * den), 4);
  }
}

// ---------------------------------------------------------------------------------------------------
// Calendar: seasonality and time of day
// ---------------------------------------------------------------------------------------------------

const MONTH_FACTOR = [0.85, 0.8, 0.9, 0.95, 1.0, 0.95, 0.95, 0.9, 0.95, 1.0, 1.45, 1.6];
// Monday-based; weekends are busier (the data is a retailer's).
const WEEKDAY_FACTOR = [0.9, 0.9, 0.95, 1.0, 1.1, 1.3, 1.15];
const HOUR_WEIGHTS = new Weighted<number>(
  [0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.7, 1.0, 1.2, 1.4, 1.5, 1.7, 1.6, 1.4, 1.4, 1.5, 1.7, 1.9, 2.1, 2.2, 1.8, 1.2, 0.6].map((w, h) => [h, w] as const),
);
const STORE_HOURS = new Weighted<number>([[9, 0.6], [10, 1], [11, 1.2], [12, 1.4], [13, 1.3], [14, 1.1], [15, 1.1], [16, 1.3], [17, 1.5], [18, 1.4], [19, 0.9]]);

class Calendar {
  readonly firstDayMs: number;
  readonly weights: Float64Array;
  readonly maxWeight: number;
  /** 1 on sale days (Black Friday week, December before Christmas), when promotions are more frequent. */
  readonly sale: Uint8Array;

  constructor(readonly startMs: number, readonly endMs: number) {
    this.firstDayMs = Math.floor(startMs / DAY) * DAY;
    const days = Math.ceil((endMs - this.firstDayMs) / DAY) + 1;
    this.weights = new Float64Array(days);
    this.sale = new Uint8Array(days);
    let max = 0;
    for (let i = 0; i < days; i++) {
      const d = new Date(this.firstDayMs + i * DAY);
      const month = d.getUTCMonth();
      const dom = d.getUTCDate();
      let w = MONTH_FACTOR[month]! * WEEKDAY_FACTOR[(d.getUTCDay() + 6) % 7]!;
      if (month === 11 && dom >= 24) w *= dom >= 27 ? 0.9 : 0.5;
      const bf = blackFriday(d.getUTCFullYear());
      if (month === 10 && dom === bf) w *= 2.6;
      if (month === 10 && dom === bf + 3) w *= 2.0; // Cyber Monday
      if ((month === 10 && dom >= bf - 3) || (month === 11 && dom <= 3) || (month === 11 && dom >= 10 && dom <= 22)) this.sale[i] = 1;
      this.weights[i] = w;
      if (w > max) max = w;
    }
    this.maxWeight = max;
  }

  dayIndex(ms: number): number {
    return Math.floor((ms - this.firstDayMs) / DAY);
  }

  /** A whole-second instant on day `day` at a local hour drawn from the daily curve. */
  atLocalHour(r: Rng, day: number, utcOffsetHours: number): number {
    return this.firstDayMs + day * DAY + (HOUR_WEIGHTS.pick(r) - utcOffsetHours) * HOUR + r.int(0, 3599) * SECOND;
  }

  /**
   * A whole-second instant in [lo, hi) with seasonal day weights and a local time-of-day curve.
   * Falls back to uniform when the interval is too short for the shape to matter.
   */
  sample(r: Rng, lo: number, hi: number, utcOffsetHours: number, store = false): number {
    if (hi - lo > 2 * DAY) {
      const d0 = this.dayIndex(lo);
      const d1 = this.dayIndex(hi);
      for (let attempt = 0; attempt < 12; attempt++) {
        const day = r.int(d0, d1);
        if (r.float() * this.maxWeight > this.weights[day]!) continue;
        const hour = (store ? STORE_HOURS : HOUR_WEIGHTS).pick(r);
        const ms = this.firstDayMs + day * DAY + (hour - utcOffsetHours) * HOUR + r.int(0, 3599) * SECOND;
        if (ms >= lo && ms < hi) return ms;
      }
    }
    return Math.min(hi - SECOND, lo + Math.floor((r.float() * (hi - lo)) / SECOND) * SECOND);
  }
}

function blackFriday(year: number): number {
  const nov1 = new Date(Date.UTC(year, 10, 1)).getUTCDay();
  const firstThursday = 1 + ((4 - nov1 + 7) % 7);
  return firstThursday + 21 + 1;
}

// ---------------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------------

const NEW_DAYS = 30;
const ACTIVE_DAYS = 90;
const CHURN_DAYS = 180;

/**
 * Lifecycle stage from completed order times (ascending) at `anchorMs`:
 * none -> PROSPECT; first purchase < 30 days ago -> NEW; came back within the last 90 days after a gap of
 * more than 180 days -> REACTIVATED; last purchase < 90 days ago -> ACTIVE; 90-180 days -> AT_RISK; older -> CHURNED.
 */
export function lifecycleStageOf(purchases: readonly number[], anchorMs: number): LifecycleStage {
  const n = purchases.length;
  if (n === 0) return 'PROSPECT';
  const first = purchases[0]!;
  const last = purchases[n - 1]!;
  if (anchorMs - first < NEW_DAYS * DAY) return 'NEW';
  if (anchorMs - last < ACTIVE_DAYS * DAY) {
    for (let k = n - 1; k > 0; k--) {
      if (anchorMs - purchases[k]! >= ACTIVE_DAYS * DAY) break;
      if (purchases[k]! - purchases[k - 1]! > CHURN_DAYS * DAY) return 'REACTIVATED';
    }
    return 'ACTIVE';
  }
  if (anchorMs - last <= CHURN_DAYS * DAY) return 'AT_RISK';
  return 'CHURNED';
}

function ageBand(age: number): string {
  if (age < 25) return '18-24';
  if (age < 35) return '25-34';
  if (age < 45) return '35-44';
  if (age < 55) return '45-54';
  if (age < 65) return '55-64';
  return '65+';
}

// ---------------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------------

export interface DemoDataOptions {
  seed: number;
  /** End of the two-year window, truncated to whole seconds. Required: the output depends on it, so it never comes from the clock here. */
  anchor: Date;
  /** Average transactions (orders and refunds) per customer over all customers. Default 10. */
  transactionsPerCustomer?: number;
  /** Average service interactions per customer. Default 5. */
  interactionsPerCustomer?: number;
  /** Currency of amount_base. Default USD. */
  baseCurrency?: string;
  /** Rows of currency_rates (rates to USD; cross rates are derived through USD). */
  rates: readonly CurrencyRateInput[];
  /** Tag ids by key as stored in the target database (defaults to demoTagDefinitions(seed)). */
  tagIds?: ReadonlyMap<string, string>;
}

type Profile = 'online' | 'store' | 'omni';
const GENDERS = new Weighted<Gender>([['FEMALE', 49], ['MALE', 47], ['NON_BINARY', 1.5], ['UNKNOWN', 2.5]]);
const AGE_BANDS = new Weighted<readonly [number, number]>([
  [[18, 24], 12], [[25, 34], 22], [[35, 44], 21], [[45, 54], 18], [[55, 64], 15], [[65, 85], 12],
]);
const PROFILES = new Weighted<Profile>([['online', 62], ['store', 24], ['omni', 14]]);
const ONLINE_CHANNELS = new Weighted<SalesChannel>([['online', 60], ['app', 28], ['marketplace', 12]]);
const OMNI_CHANNELS = new Weighted<SalesChannel>([['store', 45], ['online', 35], ['app', 15], ['marketplace', 5]]);
const ITEM_COUNTS = new Weighted<number>([[1, 45], [2, 25], [3, 15], [4, 10], [5, 5]]);
const QTY_DEFAULT = new Weighted<number>([[1, 85], [2, 12], [3, 3]]);
const QTY_GROCERY = new Weighted<number>([[1, 35], [2, 30], [3, 15], [4, 10], [6, 10]]);
const QTY_SMALL = new Weighted<number>([[1, 70], [2, 22], [3, 8]]);

const BUYER_SHARE = 0.85;
const CHURN_SHARE = 0.45;
const REACTIVATION_SHARE = 0.3;
const REFUND_RATE = 0.055;
/**
 * Mean active span of a buyer in days under the sign-up and churn model below (E[days since sign-up] =
 * 730/3; churners stay active for half of it on average), used to scale purchase rates to the requested
 * average. Calibrated against generated data together with the min-one-order and refund effects.
 */
const MEAN_ACTIVE_DAYS = 205;
const MAX_ORDERS = 400;

interface CustomerContext {
  rng: Rng;
  no: number;
  country: CountrySpec;
  city: CitySpec;
  pools: LocalePools;
  homeStore: string;
  utc: number;
  customerId: string;
  createdAt: number;
}

interface OrderInfo {
  externalId: string;
  at: number;
  status: DemoTransaction['status'];
  /** Delivered, as opposed to bought at a store till. */
  shipped: boolean;
  products: ReadonlyArray<{ name: string; kind: ProductKind | null }>;
}

export class DemoDataGenerator {
  readonly seed: number;
  readonly anchorMs: number;
  readonly windowStartMs: number;
  readonly tagDefinitions: DemoTagDefinition[];
  private readonly txPerCustomer: number;
  private readonly ixPerCustomer: number;
  private readonly calendar: Calendar;
  private readonly converter: Converter;
  private readonly tagIds: ReadonlyMap<string, string>;
  private readonly countries = new Weighted<number>(COUNTRIES.map((c, i) => [i, c.weight] as const));
  private readonly cityPickers = COUNTRIES.map((c) => new Weighted<CitySpec>(c.cities.map((x) => [x, x.weight] as const)));
  private readonly stores = COUNTRIES.map((c) => c.cities.flatMap((city) => storeNames(c, city)));
  private readonly homeStores = new Map(COUNTRIES.flatMap((c) => c.cities.map((city) => [city, storeNames(c, city)[0]!] as const)));
  private readonly prices = new Map<string, Int32Array>();
  private readonly modelRuns: number[];

  constructor(opts: DemoDataOptions) {
    if (!Number.isInteger(opts.seed)) throw new Error('seed must be an integer');
    if (Number.isNaN(opts.anchor.getTime())) throw new Error('anchor must be a valid date');
    this.seed = opts.seed;
    this.anchorMs = Math.floor(opts.anchor.getTime() / SECOND) * SECOND;
    this.windowStartMs = this.anchorMs - WINDOW_DAYS * DAY;
    this.txPerCustomer = Math.max(0, opts.transactionsPerCustomer ?? 10);
    this.ixPerCustomer = Math.max(0, opts.interactionsPerCustomer ?? 5);
    this.calendar = new Calendar(this.windowStartMs, this.anchorMs);
    const currencies = [...new Set(COUNTRIES.map((c) => c.currency))];
    this.converter = new Converter(opts.rates, opts.baseCurrency ?? 'USD', currencies);
    this.tagDefinitions = demoTagDefinitions(opts.seed);
    this.tagIds = opts.tagIds ?? new Map(this.tagDefinitions.map((d) => [d.key, d.id]));
    const missingTags = TAG_DEFS.filter((d) => !this.tagIds.has(d.key)).map((d) => d.key);
    if (missingTags.length) throw new Error(`tag ids missing for ${missingTags.join(', ')}`);
    for (const c of currencies) this.prices.set(c, Int32Array.from(PRODUCTS, (p) => localPrice(p.usdCents, c)));
    // The churn model runs on Mondays at 03:00 UTC; the demo keeps the last eight runs.
    const runs: number[] = [];
    let monday = Math.floor(this.anchorMs / DAY) * DAY;
    while (new Date(monday).getUTCDay() !== 1) monday -= DAY;
    for (let t = monday + 3 * HOUR; runs.length < 8; t -= 7 * DAY) if (t < this.anchorMs) runs.unshift(t);
    this.modelRuns = runs;
    pools();
  }

  /** Customers [start, start + count) with all their rows. */
  batch(start: number, count: number, out: DemoBatch = emptyBatch()): DemoBatch {
    for (let i = start; i < start + count; i++) this.generate(i, out);
    return out;
  }

  /** Appends customer `index` (0-based; external ids use index + 1) and all of its rows to `out`. */
  generate(index: number, out: DemoBatch): void {
    const rng = new Rng(this.seed, index, 1);
    const countryIndex = this.countries.pick(rng);
    const country = COUNTRIES[countryIndex]!;
    const city = this.cityPickers[countryIndex]!.pick(rng);
    const countryStores = this.stores[countryIndex]!;
    const homeStore = this.homeStores.get(city)!;
    const utc = city.utc ?? country.utc;
    const customerId = rng.uuid();
    // Sign-ups grow over time: density of "days ago" falls linearly from today to two years back.
    const daysAgo = WINDOW_DAYS * (1 - Math.sqrt(rng.float()));
    const signupDay = this.anchorMs - daysAgo * DAY;
    const createdAt = Math.max(this.windowStartMs, Math.min(this.calendar.atLocalHour(rng, this.calendar.dayIndex(signupDay), utc), this.anchorMs - MINUTE));
    const ctx: CustomerContext = {
      rng, no: index + 1, country, city, pools: pools()[countryIndex]!, homeStore, utc, customerId, createdAt,
    };

    const customer = this.person(ctx);
    out.customers.push(customer);

    // --- purchase history ---
    const isBuyer = this.txPerCustomer > 0 && rng.chance(BUYER_SHARE);
    const profile = PROFILES.pick(rng);
    const affinity = categoryAffinity(rng);
    const orders: OrderInfo[] = [];
    const completedTimes: number[] = [];
    const completedSpend: number[] = [];
    const itemCategoryTimes = new Map<ProductCategory, number[]>();
    let onlineOrders = 0;
    let storeOrders = 0;
    let firstOnline = Infinity;
    let firstStore = Infinity;
    let itemCount = 0;
    const refundTickets: Array<{ order: OrderInfo; at: number }> = [];

    if (isBuyer) {
      const times = this.purchaseTimes(ctx);
      let seq = 0;
      for (const at of times) {
        const channel: SalesChannel = profile === 'store' ? 'store' : profile === 'online' ? ONLINE_CHANNELS.pick(rng) : OMNI_CHANNELS.pick(rng);
        const source = channel === 'store' ? 'pos' : 'shop';
        const store = channel === 'store' ? (rng.chance(0.8) ? homeStore : rng.pick(countryStores)) : null;
        const age = this.anchorMs - at;
        const status: DemoTransaction['status'] = age < 3 * DAY && rng.chance(0.5) ? 'PENDING' : rng.chance(0.025) ? 'CANCELLED' : 'COMPLETED';
        seq++;
        const order = this.order(ctx, out, { at, channel, source, store, status, seq, affinity });
        orders.push({
          externalId: order.tx.externalId, at, status, shipped: channel !== 'store',
          products: order.products.map((p) => ({ name: p.name, kind: p.kind })),
        });
        if (channel === 'store') {
          storeOrders++;
          firstStore = Math.min(firstStore, at);
        } else {
          onlineOrders++;
          firstOnline = Math.min(firstOnline, at);
        }
        if (status !== 'COMPLETED') continue;
        completedTimes.push(at);
        completedSpend.push(order.baseValue);
        for (const line of order.lines) {
          itemCount++;
          const list = itemCategoryTimes.get(line.category) ?? [];
          list.push(at);
          itemCategoryTimes.set(line.category, list);
        }
        if (rng.chance(REFUND_RATE)) {
          const refundAt = at + rng.int(2 * 24 * 3600, 30 * 24 * 3600) * SECOND;
          if (refundAt < this.anchorMs) {
            seq++;
            this.refund(ctx, out, order, refundAt, seq);
            if (rng.chance(0.6)) refundTickets.push({ order: orders[orders.length - 1]!, at: refundAt - rng.int(3600, 4 * 24 * 3600) * SECOND });
          }
        }
      }
    }

    customer.lifecycleStage = lifecycleStageOf(completedTimes, this.anchorMs);

    // --- identities ---
    out.customerIdentities.push({ customerId, source: 'crm', externalId: `CRM-${pad(ctx.no, 7)}`, createdAt });
    // Everyone who ordered online has a shop account, and a third of online-minded prospects opened one.
    const onlineAccount = profile !== 'store' && (onlineOrders > 0 || rng.chance(0.35));
    if (onlineAccount) {
      // Online customers registered when they signed up; store customers when they first ordered online.
      const at = profile === 'online' || onlineOrders === 0 ? createdAt : firstOnline;
      out.customerIdentities.push({ customerId, source: 'shop', externalId: `SHOP-${pad(ctx.no, 7)}`, createdAt: at });
    }
    if (storeOrders > 0) {
      out.customerIdentities.push({ customerId, source: 'pos', externalId: `POS-${pad(ctx.no, 7)}`, createdAt: firstStore });
    }

    // --- consents ---
    const emailConsent = this.consents(ctx, out, customer, profile);

    // --- interactions ---
    const manualInterest: Array<{ at: number; agentLogin: string }> = [];
    this.interactions(ctx, out, {
      orders, profile, affinity, buyer: isBuyer, orderCount: orders.length, refundTickets, manualInterest,
    });

    // --- tags ---
    this.tags(ctx, out, {
      customer, completedTimes, completedSpend, onlineOrders, storeOrders, itemCategoryTimes, itemCount, emailConsent, manualInterest, affinity,
    });
  }

  // ---- profile ----

  private person(ctx: CustomerContext): DemoCustomer {
    const { rng, country, city, pools: p, createdAt } = ctx;
    const gender = GENDERS.pick(rng);
    const first = rng.pick(gender === 'FEMALE' ? p.female : gender === 'MALE' ? p.male : rng.chance(0.5) ? p.female : p.male);
    const last = rng.pick(p.last);
    const [minAge, maxAge] = AGE_BANDS.pick(rng);
    const hasBirthDate = rng.chance(0.93);
    // Age in whole years at the anchor is in [minAge, maxAge]: born after anchor-(maxAge+1)y, up to anchor-minAge y.
    const anchor = new Date(this.anchorMs);
    const latestBirth = Date.UTC(anchor.getUTCFullYear() - minAge, anchor.getUTCMonth(), anchor.getUTCDate());
    const earliestBirth = Date.UTC(anchor.getUTCFullYear() - maxAge - 1, anchor.getUTCMonth(), anchor.getUTCDate()) + DAY;
    const birthMs = earliestBirth + rng.int(0, Math.floor((latestBirth - earliestBirth) / DAY)) * DAY;
    const birthDate = hasBirthDate ? new Date(birthMs).toISOString().slice(0, 10) : null;

    const email = rng.chance(0.94) ? makeEmail(rng, country, first, last, hasBirthDate ? new Date(birthMs).getUTCFullYear() : null) : null;
    const phone = rng.chance(0.9) ? makePhone(rng, country, city) : null;
    const hasAddress = rng.chance(0.96);
    const updatedAt = rng.chance(0.45) ? createdAt + Math.floor((rng.float() * (this.anchorMs - createdAt)) / SECOND) * SECOND : createdAt;
    return {
      id: ctx.customerId,
      firstName: first.native,
      lastName: last.native,
      // The product's rule (family name first for CJK names, `张伟`), as a customer written through the API gets.
      displayName: deriveDisplayName(first.native, last.native, email, country.code),
      email,
      emailNormalized: email === null ? null : email.trim().toLowerCase(),
      phone: phone?.national ?? null,
      phoneE164: phone?.e164 ?? null,
      birthDate,
      gender,
      addressLine1: hasAddress ? streetLine(rng, country, p) : null,
      addressLine2: hasAddress && rng.chance(0.12) ? rng.pick(p.line2) : null,
      city: city.name,
      region: city.region,
      postalCode: hasAddress ? city.postal(rng) : null,
      country: country.code,
      lifecycleStage: 'PROSPECT',
      createdAt,
      updatedAt: Math.min(updatedAt, this.anchorMs - SECOND),
    };
  }

  // ---- commerce ----

  /** Completed-or-not order instants, ascending, never before sign-up, shaped by churn and comebacks. */
  private purchaseTimes(ctx: CustomerContext): number[] {
    const { rng, createdAt, utc } = ctx;
    const tenure = this.anchorMs - createdAt;
    const churns = rng.chance(CHURN_SHARE);
    const activeEnd = churns ? createdAt + Math.max(HOUR, (0.05 + 0.95 * rng.float()) * tenure) : this.anchorMs;
    const spanDays = (activeEnd - createdAt) / DAY;
    const intensity = rng.lognormal(1.0);
    const mean = (this.txPerCustomer / (BUYER_SHARE * (1 + REFUND_RATE))) * intensity * (spanDays / MEAN_ACTIVE_DAYS);
    const n = Math.min(MAX_ORDERS, Math.max(1, rng.poisson(mean)), Math.floor(spanDays * 1.5) + 1);
    const times: number[] = [];
    // Half the buyers sign up at checkout: their first order is minutes after the account was created.
    if (rng.chance(0.5)) {
      const t = createdAt + rng.int(60, 1800) * SECOND;
      if (t < Math.min(activeEnd, this.anchorMs)) times.push(t);
    }
    while (times.length < n) times.push(this.calendar.sample(rng, createdAt, Math.min(activeEnd, this.anchorMs), utc));
    times.sort((a, b) => a - b);
    // Some churned customers come back: a win-back campaign brings orders in the last 90 days.
    const last = times[times.length - 1]!;
    if (churns && last + (CHURN_DAYS + 1) * DAY < this.anchorMs - DAY && rng.chance(REACTIVATION_SHARE)) {
      const lo = Math.max(last + (CHURN_DAYS + 1) * DAY, this.anchorMs - (ACTIVE_DAYS - 1) * DAY);
      const k = rng.int(1, 3);
      const extra: number[] = [];
      for (let i = 0; i < k; i++) extra.push(this.calendar.sample(rng, lo, this.anchorMs, utc));
      extra.sort((a, b) => a - b);
      times.push(...extra);
    }
    return times;
  }

  private order(
    ctx: CustomerContext,
    out: DemoBatch,
    o: { at: number; channel: SalesChannel; source: 'shop' | 'pos'; store: string | null; status: DemoTransaction['status']; seq: number; affinity: Weighted<ProductCategory> },
  ): { tx: DemoTransaction; lines: DemoTransactionItem[]; products: Product[]; baseValue: number; minorLines: Array<{ qty: number; unit: number }> } {
    const { rng, country, customerId } = ctx;
    const currency = country.currency;
    const prices = this.prices.get(currency)!;
    const exp = currencyExponent(currency);
    const sale = this.calendar.sale[this.calendar.dayIndex(o.at)] === 1;
    const txId = rng.uuid();
    const k = ITEM_COUNTS.pick(rng);
    const chosen: number[] = [];
    const lines: DemoTransactionItem[] = [];
    const minorLines: Array<{ qty: number; unit: number }> = [];
    let total = 0;
    for (let attempt = 0; chosen.length < k && attempt < k * 4; attempt++) {
      const category = o.affinity.pick(rng);
      const p = PRODUCTS_BY_CATEGORY.get(category)!.pick(rng);
      if (chosen.includes(p)) continue;
      chosen.push(p);
      const product = PRODUCTS[p]!;
      const qty = (category === 'grocery' ? QTY_GROCERY : category === 'books' || category === 'beauty' ? QTY_SMALL : QTY_DEFAULT).pick(rng);
      let unit = prices[p]!;
      if (rng.chance(sale ? 0.35 : 0.08)) {
        // Promotions are a percentage off, rounded to the currency's minor unit.
        unit = Math.max(1, Math.round(unit * (sale ? 0.75 : 0.85)));
      }
      total += qty * unit;
      minorLines.push({ qty, unit });
      lines.push({
        id: rng.uuid(), transactionId: txId, customerId, position: lines.length + 1, sku: product.sku, productName: product.name,
        category: product.category, quantity: qty, unitPrice: formatScaled(unit, exp),
      });
    }
    const prefix = o.source === 'pos' ? 'PS' : 'SO';
    const tx: DemoTransaction = {
      id: txId, customerId, source: o.source, externalId: `${prefix}-${pad(ctx.no * 1000 + o.seq, 10)}`, occurredAt: o.at,
      type: 'ORDER', status: o.status, channel: o.channel, store: o.store, currency,
      amount: formatScaled(total, exp), amountBase: this.converter.toBase(total, currency, o.at),
      createdAt: o.at, updatedAt: o.at, refundOf: null,
    };
    out.transactions.push(tx);
    for (const l of lines) out.transactionItems.push(l);
    return { tx, lines, products: chosen.map((i) => PRODUCTS[i]!), baseValue: Number(tx.amountBase), minorLines };
  }

  private refund(
    ctx: CustomerContext,
    out: DemoBatch,
    order: { tx: DemoTransaction; lines: DemoTransactionItem[]; minorLines: Array<{ qty: number; unit: number }> },
    at: number,
    seq: number,
  ): void {
    const { rng, customerId } = ctx;
    const { tx } = order;
    const exp = currencyExponent(tx.currency);
    // Either the whole order or one returned line (its full quantity).
    const partial = order.lines.length > 1 && rng.chance(0.5);
    const picked = partial ? [rng.int(0, order.lines.length - 1)] : order.lines.map((_, i) => i);
    const id = rng.uuid();
    let total = 0;
    picked.forEach((i, pos) => {
      const line = order.lines[i]!;
      const m = order.minorLines[i]!;
      total += m.qty * m.unit;
      out.transactionItems.push({ ...line, id: rng.uuid(), transactionId: id, position: pos + 1 });
    });
    const status: DemoTransaction['status'] = this.anchorMs - at < 2 * DAY ? 'PENDING' : 'COMPLETED';
    out.transactions.push({
      id, customerId, source: tx.source, externalId: `${tx.source === 'pos' ? 'PR' : 'SR'}-${pad(ctx.no * 1000 + seq, 10)}`,
      occurredAt: at, type: 'REFUND', status, channel: tx.channel, store: tx.store, currency: tx.currency,
      amount: formatScaled(total, exp), amountBase: this.converter.toBase(total, tx.currency, at),
      createdAt: at, updatedAt: at, refundOf: tx.externalId,
    });
  }

  // ---- consents ----

  /** Returns the marketing e-mail consent history (grant time and withdrawal time) for the newsletter tag. */
  private consents(ctx: CustomerContext, out: DemoBatch, customer: DemoCustomer, profile: Profile): { grantedAt: number | null; withdrawnAt: number | null } {
    const { rng, customerId, createdAt } = ctx;
    const imported = this.anchorMs - createdAt > 365 * DAY && rng.chance(0.35);
    const source: DemoConsent['source'] = imported ? 'import' : profile === 'store' ? 'pos' : 'web_form';
    let email = { grantedAt: null as number | null, withdrawnAt: null as number | null };
    for (const p of CONSENT_PURPOSES) {
      if (p.needs === 'email' && customer.email === null) continue;
      if (p.needs === 'phone' && customer.phone === null) continue;
      if (!rng.chance(p.recorded)) continue;
      const firstAt = Math.min(createdAt + rng.int(0, 600) * SECOND, this.anchorMs - SECOND);
      const granted = rng.chance(p.grant);
      out.consents.push({ id: rng.uuid(), customerId, purpose: p.purpose, status: granted ? 'GRANTED' : 'DENIED', source, recordedAt: firstAt, createdAt: firstAt });
      let grantedAt = granted ? firstAt : null;
      let withdrawnAt: number | null = null;
      const later = firstAt + Math.floor((rng.float() * (this.anchorMs - firstAt)) / SECOND) * SECOND;
      if (later > firstAt) {
        if (granted && rng.chance(0.12)) {
          withdrawnAt = later;
          out.consents.push({ id: rng.uuid(), customerId, purpose: p.purpose, status: 'WITHDRAWN', source: 'web_form', recordedAt: later, createdAt: later });
        } else if (!granted && rng.chance(0.07)) {
          grantedAt = later;
          out.consents.push({ id: rng.uuid(), customerId, purpose: p.purpose, status: 'GRANTED', source: 'web_form', recordedAt: later, createdAt: later });
        }
      }
      if (p.purpose === 'marketing_email') email = { grantedAt, withdrawnAt };
    }
    return email;
  }

  // ---- service ----

  private interactions(
    ctx: CustomerContext,
    out: DemoBatch,
    c: {
      orders: OrderInfo[]; profile: Profile; affinity: Weighted<ProductCategory>; buyer: boolean; orderCount: number;
      refundTickets: Array<{ order: OrderInfo; at: number }>; manualInterest: Array<{ at: number; agentLogin: string }>;
    },
  ): void {
    if (this.ixPerCustomer <= 0) return;
    const { rng, createdAt } = ctx;
    // Contact volume follows activity: prospects rarely call, heavy buyers more often.
    const activity = c.buyer ? 0.55 + 0.45 * Math.min(3, c.orderCount / Math.max(1, this.txPerCustomer)) : 0.35;
    const n = rng.poisson(this.ixPerCustomer * 1.03 * activity * rng.lognormal(0.8));
    const typePicker = c.profile === 'store' ? STORE_TYPE_WEIGHTS : INTERACTION_TYPE_WEIGHTS;
    let seq = 0;
    const emit = (type: InteractionType, tpl: InteractionTemplate, at: number, order: OrderInfo | null, product: string, topic = ''): void => {
      seq++;
      const channel = rng.pick(tpl.channels);
      const days = order ? Math.max(1, Math.round((at - order.at) / DAY)) : rng.int(3, 60);
      const score = rng.int(0, 10);
      const vars: TemplateVars = {
        order: order?.externalId ?? '', product, days: String(days), store: ctx.homeStore, category: c.affinity.pick(rng), score: String(score), topic,
      };
      let sentiment: Sentiment | null = SENTIMENTS[pickMood(rng, tpl.mood)]!;
      if (tpl.subject.startsWith('Survey')) sentiment = score >= 9 ? 'POSITIVE' : score >= 7 ? 'NEUTRAL' : 'NEGATIVE';
      if (type === 'VISIT' && rng.chance(0.3)) sentiment = null;
      const age = this.anchorMs - at;
      let status: DemoInteraction['status'];
      if (type === 'VISIT' || type === 'FEEDBACK') status = 'CLOSED';
      else if (age < 2 * DAY) status = pickOf(rng, [['OPEN', 50], ['PENDING', 30], ['RESOLVED', 20]]);
      else if (age < 10 * DAY) status = pickOf(rng, [['OPEN', 10], ['PENDING', 25], ['RESOLVED', 50], ['CLOSED', 15]]);
      else status = pickOf(rng, [['RESOLVED', 55], ['CLOSED', 43], ['PENDING', 1], ['OPEN', 1]]);
      const done = status === 'RESOLVED' || status === 'CLOSED';
      const updatedAt = done ? Math.min(this.anchorMs - SECOND, at + rng.int(600, 3 * 24 * 3600) * SECOND) : at;
      const agent = type === 'FEEDBACK' && channel !== 'STORE' && !tpl.outbound ? null : rng.pick(ctx.pools.agents);
      out.interactions.push({
        id: rng.uuid(), customerId: ctx.customerId, source: 'helpdesk', externalId: `HD-${pad(ctx.no * 1000 + seq, 10)}`,
        channel, type, direction: tpl.outbound ? 'OUTBOUND' : 'INBOUND', subject: fillTemplate(tpl.subject, vars), summary: fillTemplate(tpl.summary, vars),
        sentiment, status, agent: agent?.name ?? null, occurredAt: at, createdAt: at, updatedAt: Math.max(at, updatedAt),
      });
      // Agents who advise in store or on the phone sometimes record an interest tag by hand.
      if (agent && (type === 'VISIT' || type === 'CALL') && rng.chance(0.25)) c.manualInterest.push({ at, agentLogin: agent.login });
      const callBack = at + rng.int(4 * 3600, 3 * 24 * 3600) * SECOND;
      if (type === 'COMPLAINT' && rng.chance(0.35) && callBack < this.anchorMs && seq < 999) {
        const about = fillTemplate(tpl.subject, vars).replace(/^Complaint: /, '');
        emit('CALL', FOLLOW_UP_CALL, callBack, null, product, about.charAt(0).toLowerCase() + about.slice(1));
      }
    };

    for (const t of c.refundTickets) {
      if (seq >= 999) break;
      emit('TICKET', REFUND_TICKET, Math.max(t.order.at + MINUTE, t.at), t.order, t.order.products[0]!.name);
    }
    const used = new Set<InteractionTemplate>();
    for (let i = 0; i < n && seq < 999; i++) {
      const type = typePicker.pick(rng);
      let tpl = rng.pick(TPL[type]);
      if (tpl.once && used.has(tpl)) tpl = rng.pick(FALLBACK_TPL[type]);
      let order: OrderInfo | null = null;
      let product: string | null = null;
      if (tpl.needsOrder) {
        // A few tries to find an order the template can talk about; otherwise say something else.
        const wanted = tpl;
        for (let k = 0; k < 4 && order === null && c.orders.length > 0; k++) {
          const candidate = rng.pick(c.orders);
          if (candidate.status === 'CANCELLED' || (wanted.needsOrder === 'shipped' && !candidate.shipped)) continue;
          const line = wanted.productKind ? candidate.products.find((x) => x.kind === wanted.productKind) : candidate.products[0];
          if (!line) continue;
          order = candidate;
          product = line.name;
        }
        if (order === null) tpl = rng.pick(FALLBACK_TPL[type]);
      }
      used.add(tpl);
      product ??= tpl.productKind
        ? rng.pick(PRODUCTS_BY_KIND[tpl.productKind]).name
        : PRODUCTS[PRODUCTS_BY_CATEGORY.get(c.affinity.pick(rng))!.pick(rng)]!.name;
      let at: number;
      if (order) {
        at = order.at + rng.int(1800, 14 * 24 * 3600) * SECOND;
        if (at >= this.anchorMs) at = order.at + Math.floor((rng.float() * (this.anchorMs - order.at)) / SECOND) * SECOND;
      } else {
        at = this.calendar.sample(rng, createdAt, this.anchorMs, ctx.utc);
      }
      emit(type, tpl, at, order, product);
    }
  }

  // ---- tags ----

  private tags(
    ctx: CustomerContext,
    out: DemoBatch,
    c: {
      customer: DemoCustomer; completedTimes: number[]; completedSpend: number[]; onlineOrders: number; storeOrders: number;
      itemCategoryTimes: Map<ProductCategory, number[]>; itemCount: number;
      emailConsent: { grantedAt: number | null; withdrawnAt: number | null };
      manualInterest: Array<{ at: number; agentLogin: string }>; affinity: Weighted<ProductCategory>;
    },
  ): void {
    const { rng, customerId, createdAt, country } = ctx;
    const anchor = this.anchorMs;
    const current = new Set<string>();
    const clampT = (t: number) => Math.min(anchor - SECOND, Math.max(createdAt, t));
    const event = (tagKey: string, action: DemoTagEvent['action'], at: number, value: string | null, previousValue: string | null, source: TagSource, actor: string | null) => {
      out.customerTagEvents.push({
        id: rng.uuid(), customerId, tagKey, tagId: this.tagIds.get(tagKey)!, action, value, previousValue, source, actor, occurredAt: clampT(at),
      });
    };
    /** The current assignment with its ADDED event; the caller updates `value` when later events changed it. */
    const assign = (tagKey: string, value: string | null, source: TagSource, actor: string | null, at: number, extra: { confidence?: string; expiresAt?: number } = {}) => {
      if (current.has(tagKey)) return null;
      current.add(tagKey);
      const assignedAt = clampT(at);
      const row: DemoCustomerTag = {
        customerId, tagKey, tagId: this.tagIds.get(tagKey)!, value, source, actor, confidence: extra.confidence ?? null, assignedAt, expiresAt: extra.expiresAt ?? null,
      };
      out.customerTags.push(row);
      event(tagKey, 'ADDED', assignedAt, value, null, source, actor);
      return row;
    };
    // Each RULE tag names the demo rule that assigns it (DEMO_TAG_RULES, created by the seed): `rule:<key>@v<version>`.
    const ruleActor = (tagKey: string) => `rule:${tagKey}@v1`;

    // BASIC: region from the CRM import, age band by rule (changes on a birthday that crosses a band).
    assign('region', country.salesRegion, 'IMPORT', 'import:crm', createdAt);
    if (c.customer.birthDate) {
      const birth = Date.parse(`${c.customer.birthDate}T00:00:00Z`);
      const ageAt = (t: number) => ageInYears(birth, t);
      const bandThen = ageBand(ageAt(createdAt));
      const bandNow = ageBand(ageAt(anchor - SECOND));
      // The CRM delivers the age band with the record (it recomputes it on birthdays); no rule of this gateway can
      // (a rule assigns one value, or a value from a metric, and age is not one).
      const row = assign('age_band', bandThen, 'IMPORT', 'import:crm', createdAt + MINUTE);
      if (row && bandNow !== bandThen) {
        const b = new Date(birth);
        const years = Number(bandNow.slice(0, 2));
        const birthday = Date.UTC(b.getUTCFullYear() + years, b.getUTCMonth(), b.getUTCDate()) + 2 * HOUR;
        event('age_band', 'CHANGED', birthday, bandNow, bandThen, 'IMPORT', 'import:crm');
        row.value = bandNow;
      }
    }

    // CUSTOM: newsletter, synchronised from the e-mail tool an hour after the consent changes.
    if (c.emailConsent.grantedAt !== null && c.customer.email !== null) {
      const added = c.emailConsent.grantedAt + HOUR;
      if (added < anchor) {
        if (c.emailConsent.withdrawnAt !== null && c.emailConsent.withdrawnAt > c.emailConsent.grantedAt) {
          event('newsletter_subscriber', 'ADDED', added, 'true', null, 'IMPORT', 'import:newsletter');
          event('newsletter_subscriber', 'REMOVED', c.emailConsent.withdrawnAt + HOUR, null, 'true', 'IMPORT', 'import:newsletter');
        } else {
          assign('newsletter_subscriber', 'true', 'IMPORT', 'import:newsletter', added);
        }
      }
    }

    const p = c.completedTimes;
    const n = p.length;
    if (n > 0) {
      // LIFECYCLE history: every gap between purchases that crossed 90 / 180 days left its trace.
      const first = p[0]!;
      if (anchor - first < 2 * NEW_DAYS * DAY) {
        assign('new_customer', 'true', 'RULE', ruleActor('new_customer'), first, { expiresAt: first + NEW_DAYS * DAY });
      } else {
        event('new_customer', 'ADDED', first, 'true', null, 'RULE', ruleActor('new_customer'));
        event('new_customer', 'REMOVED', first + (NEW_DAYS + 1) * DAY, null, 'true', 'RULE', ruleActor('new_customer'));
      }
      for (let k = 0; k < n; k++) {
        const gapEnd = k + 1 < n ? p[k + 1]! : anchor;
        const atRisk = p[k]! + ACTIVE_DAYS * DAY;
        const churned = p[k]! + CHURN_DAYS * DAY;
        if (atRisk >= gapEnd) continue;
        const last = k + 1 === n;
        if (churned < gapEnd) {
          event('at_risk', 'ADDED', atRisk, 'true', null, 'RULE', ruleActor('at_risk'));
          event('at_risk', 'REMOVED', churned, null, 'true', 'RULE', ruleActor('at_risk'));
          if (last) assign('churned', 'true', 'RULE', ruleActor('churned'), churned);
          else {
            event('churned', 'ADDED', churned, 'true', null, 'RULE', ruleActor('churned'));
            event('churned', 'REMOVED', gapEnd, null, 'true', 'RULE', ruleActor('churned'));
          }
        } else if (last) {
          assign('at_risk', 'true', 'RULE', ruleActor('at_risk'), atRisk);
        } else {
          event('at_risk', 'ADDED', atRisk, 'true', null, 'RULE', ruleActor('at_risk'));
          event('at_risk', 'REMOVED', gapEnd, null, 'true', 'RULE', ruleActor('at_risk'));
        }
      }

      // VALUE: assigned when cumulative spend crossed the threshold (the nightly rule run after the order).
      let cum = 0;
      let hvAt: number | null = null;
      let vipAt: number | null = null;
      for (let k = 0; k < n; k++) {
        cum += c.completedSpend[k]!;
        if (hvAt === null && cum >= HIGH_VALUE_SPEND) hvAt = nightly(p[k]!);
        if (vipAt === null && cum >= VIP_SPEND) vipAt = nightly(p[k]!);
      }
      if (hvAt !== null && hvAt < anchor) assign('high_value', 'true', 'RULE', ruleActor('high_value'), hvAt);
      if (vipAt !== null && vipAt < anchor) assign('vip', 'true', 'RULE', ruleActor('vip'), vipAt);
      else if (cum >= VIP_SPEND * 0.6 && c.manualInterest.length > 0 && rng.chance(0.3)) {
        // Store managers promote some near-VIPs by hand.
        const m = c.manualInterest[0]!;
        assign('vip', 'true', 'MANUAL', `agent:${m.agentLogin}`, m.at);
      }

      // BEHAVIOR: frequent buyer = 8 completed orders within 365 days.
      const FREQ = 8;
      let qualifiedAt: number | null = null;
      for (let j = FREQ - 1; j < n; j++) {
        if (p[j]! - p[j - FREQ + 1]! <= 365 * DAY) {
          qualifiedAt = nightly(p[j]!);
          break;
        }
      }
      if (qualifiedAt !== null && qualifiedAt < anchor) {
        const dropsAt = n >= FREQ ? p[n - FREQ]! + 365 * DAY : 0;
        if (dropsAt >= anchor) assign('frequent_buyer', 'true', 'RULE', ruleActor('frequent_buyer'), qualifiedAt);
        else if (dropsAt > qualifiedAt) {
          event('frequent_buyer', 'ADDED', qualifiedAt, 'true', null, 'RULE', ruleActor('frequent_buyer'));
          event('frequent_buyer', 'REMOVED', dropsAt, null, 'true', 'RULE', ruleActor('frequent_buyer'));
        }
      }
      const totalOrders = c.onlineOrders + c.storeOrders;
      if (totalOrders >= 3 && c.onlineOrders / totalOrders >= 0.7 && n >= 3) {
        const at = nightly(p[2]!);
        if (at < anchor) assign('prefers_online', 'true', 'RULE', ruleActor('prefers_online'), at);
      }

      // INTEREST: the affinity model tags a category with at least 3 items and a 30% share of them.
      for (const [category, times] of c.itemCategoryTimes) {
        const tag = INTEREST_TAG[category];
        if (!tag || times.length < 3 || times.length / c.itemCount < 0.3) continue;
        const at = nightly(times[2]!);
        if (at >= anchor) continue;
        const share = times.length / c.itemCount;
        assign(tag, 'true', 'MODEL', 'model:affinity-v2', at, {
          confidence: (Math.min(0.99, 0.5 + share / 2)).toFixed(4),
          expiresAt: at + 365 * DAY,
        });
      }

      // Churn model: weekly scores; a change of 0.05 or more is recorded as CHANGED.
      const scores: Array<{ run: number; value: string }> = [];
      const bias = (rng.float() - 0.5) * 0.06;
      for (const run of this.modelRuns) {
        let lastBefore = -1;
        for (let k = n - 1; k >= 0; k--) {
          if (p[k]! < run) {
            lastBefore = p[k]!;
            break;
          }
        }
        const recency = (run - lastBefore) / DAY;
        // Only customers with a purchase in the last 400 days are in the model's scope.
        if (lastBefore < 0 || recency > 400) continue;
        const score = Math.min(0.99, Math.max(0.01, 1 / (1 + Math.exp(-(recency - 110) / 30)) + bias + (rng.float() - 0.5) * 0.02));
        scores.push({ run, value: score.toFixed(2) });
      }
      if (scores.length > 0) {
        const row = assign('churn_risk_score', scores[0]!.value, 'MODEL', 'model:churn-v3', scores[0]!.run, {
          confidence: (0.6 + rng.float() * 0.35).toFixed(4),
          expiresAt: scores[scores.length - 1]!.run + 14 * DAY,
        });
        for (const s of scores.slice(1)) {
          if (!row || Math.abs(Number(s.value) - Number(row.value)) < 0.05) continue;
          event('churn_risk_score', 'CHANGED', s.run, s.value, row.value, 'MODEL', 'model:churn-v3');
          row.value = s.value;
        }
      }
    }

    // MANUAL interest tags recorded by agents after advice in store or on the phone.
    for (const m of c.manualInterest) {
      const category = c.affinity.pick(rng);
      const tag = INTEREST_TAG[category];
      if (!tag || current.has(tag)) continue;
      assign(tag, 'true', 'MANUAL', `agent:${m.agentLogin}`, m.at);
      break;
    }
  }
}

const CONSENT_PURPOSES: ReadonlyArray<{ purpose: string; recorded: number; grant: number; needs?: 'email' | 'phone' }> = [
  { purpose: 'marketing_email', recorded: 0.85, grant: 0.6, needs: 'email' },
  { purpose: 'marketing_sms', recorded: 0.7, grant: 0.38, needs: 'phone' },
  { purpose: 'profiling', recorded: 0.75, grant: 0.55 },
  { purpose: 'analytics', recorded: 0.85, grant: 0.78 },
  { purpose: 'partner_sharing', recorded: 0.6, grant: 0.18 },
];

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

const pad = (n: number, width: number) => String(n).padStart(width, '0');

interface TemplateVars { order: string; product: string; days: string; store: string; category: string; score: string; topic: string }
const PLACEHOLDER = /\{(order|product|days|store|category|score|topic)\}/g;
const fillTemplate = (template: string, vars: TemplateVars) =>
  template.replace(PLACEHOLDER, (_m, key: keyof TemplateVars) => vars[key]);
/** Rules run at 02:00 UTC the night after the triggering event. */
const nightly = (t: number) => Math.floor(t / DAY) * DAY + DAY + 2 * HOUR;

function ageInYears(birthMs: number, atMs: number): number {
  const b = new Date(birthMs);
  const a = new Date(atMs);
  let age = a.getUTCFullYear() - b.getUTCFullYear();
  if (a.getUTCMonth() < b.getUTCMonth() || (a.getUTCMonth() === b.getUTCMonth() && a.getUTCDate() < b.getUTCDate())) age--;
  return age;
}

function pickMood(rng: Rng, mood: readonly [number, number, number]): number {
  const x = rng.float() * (mood[0] + mood[1] + mood[2]);
  return x < mood[0] ? 0 : x < mood[0] + mood[1] ? 1 : 2;
}

function pickOf<T>(rng: Rng, entries: ReadonlyArray<readonly [T, number]>): T {
  let total = 0;
  for (const e of entries) total += e[1];
  let x = rng.float() * total;
  for (const e of entries) {
    x -= e[1];
    if (x < 0) return e[0];
  }
  return entries[entries.length - 1]![0];
}

/** Every customer has one or two favourite categories that dominate their baskets. */
function categoryAffinity(rng: Rng): Weighted<ProductCategory> {
  const fav1 = rng.pick(PRODUCT_CATEGORIES);
  const fav2 = rng.chance(0.5) ? rng.pick(PRODUCT_CATEGORIES) : null;
  return new Weighted(PRODUCT_CATEGORIES.map((c) => [c, CATEGORY_BASE_WEIGHT[c] * (c === fav1 ? 6 : c === fav2 ? 3 : 1)] as const));
}

function storeNames(country: CountrySpec, city: CitySpec): string[] {
  const suffixes = STORE_SUFFIX[country.lang];
  const join = country.lang === 'ja' || country.lang === 'zh' ? '' : ' ';
  const count = city.weight >= 5 ? 2 : 1;
  return suffixes.slice(0, count).map((s) => `${city.name}${join}${s}`);
}

function streetLine(rng: Rng, country: CountrySpec, p: LocalePools): string {
  const street = rng.pick(p.streets);
  // House numbers cluster low in European streets; US numbers run into the thousands.
  const num = rng.chance(0.7) ? rng.int(1, 60) : rng.int(61, 250);
  switch (country.streetStyle) {
    case 'en':
      return `${rng.chance(0.6) ? rng.int(1, 999) : rng.int(1000, 9999)} ${street}`;
    case 'num-first':
      return `${num} ${street}`;
    case 'num-last':
      return `${street} ${num}`;
    case 'num-comma':
      return `${street}, ${num}`;
    case 'ja':
      return street;
    case 'zh':
      return `${street}${num}号`;
  }
}

// Most people whose plain first.last is taken add digits: that keeps collisions at a few percent.
const EMAIL_PATTERNS = new Weighted<number>([[0, 20], [1, 8], [2, 7], [3, 20], [4, 4], [5, 4], [6, 12], [7, 25]]);
/** Lower-case e-mail derived from the romanised name, at a domain common in the customer's country. */
function makeEmail(rng: Rng, country: CountrySpec, first: NamePart, last: NamePart, birthYear: number | null): string {
  const domain = pickOf(rng, country.emailDomains);
  if (domain === 'qq.com') return `${rng.int(1, 9)}${rng.digits(rng.int(7, 9))}@qq.com`;
  const f = asciiTokens(first.latin).join('') || 'user';
  const lt = asciiTokens(last.latin);
  // Spanish-speaking customers carry two surnames and usually use the first one.
  const l = (lt.length > 1 && (country.lang === 'es' || rng.chance(0.5)) ? lt[0] : lt.join('')) || 'mail';
  let local: string;
  // The romanised name lists for Japan and China are short: those addresses nearly always carry digits.
  const pattern = country.lang === 'ja' || country.lang === 'zh' ? rng.pick([3, 6, 7, 7]) : EMAIL_PATTERNS.pick(rng);
  switch (pattern) {
    case 0: local = `${f}.${l}`; break;
    case 1: local = `${f}${l}`; break;
    case 2: local = `${f[0]}${l}`; break;
    case 3: local = `${f}.${l}${rng.int(1, 99)}`; break;
    case 4: local = `${f}_${l}`; break;
    case 5: local = `${l}.${f}`; break;
    case 6: local = `${f}${birthYear !== null ? String(birthYear).slice(2) : rng.int(10, 99)}`; break;
    default: local = `${f}.${l}${rng.int(100, 9999)}`;
  }
  return `${local}@${domain}`;
}

/**
 * libphonenumber-js decides validity and the national format from the leading digits and the length of
 * a number (number ranges are allocated by prefix); the trailing digits are free. Parsing costs ~20 µs,
 * a third of a customer's generation time, so each (country, leading digits, length) is parsed once and
 * later numbers of the same shape reuse its verdict and format. The unit test re-parses every generated
 * number with libphonenumber-js; 300,000 customers were checked when the key lengths were chosen.
 */
type PhoneShape =
  | { kind: 'invalid' }
  /** `national` shows the dialled digits in order: later numbers of the shape substitute theirs. */
  | { kind: 'template'; national: string; e164Prefix: string }
  /** Formatting does not map digit for digit: this result is for this number only (never cached). */
  | { kind: 'exact'; national: string; e164: string };
const phoneShapes = new Map<string, PhoneShape>();

function shapeOf(candidate: string, country: CountryCode, keyDigits: number): PhoneShape {
  const key = `${country}${candidate.length}:${candidate.slice(0, keyDigits)}`;
  const known = phoneShapes.get(key);
  if (known) return known;
  const parsed = parsePhoneNumberFromString(candidate, country);
  if (!parsed || !parsed.isValid() || parsed.country !== country) {
    const invalid: PhoneShape = { kind: 'invalid' };
    phoneShapes.set(key, invalid);
    return invalid;
  }
  const national = parsed.formatNational();
  const tail = candidate.slice(keyDigits);
  if (national.replace(/\D/g, '') !== candidate || !parsed.number.endsWith(tail)) {
    return { kind: 'exact', national, e164: parsed.number };
  }
  const shape: PhoneShape = { kind: 'template', national, e164Prefix: parsed.number.slice(0, parsed.number.length - tail.length) };
  phoneShapes.set(key, shape);
  return shape;
}

/** A number valid for the country per libphonenumber-js (max metadata): national format and E.164. */
function makePhone(rng: Rng, country: CountrySpec, city: CitySpec): { national: string; e164: string } | null {
  for (let attempt = 0; attempt < 25; attempt++) {
    const candidate = country.mobile(rng, city);
    const keyDigits = country.phoneKeyDigits ?? 6;
    const shape = shapeOf(candidate, country.code, keyDigits);
    if (shape.kind === 'invalid') continue;
    if (shape.kind === 'exact') return { national: shape.national, e164: shape.e164 };
    let national = '';
    let d = 0;
    for (const ch of shape.national) national += ch >= '0' && ch <= '9' ? candidate[d++] : ch;
    return { national, e164: shape.e164Prefix + candidate.slice(keyDigits) };
  }
  return null;
}
