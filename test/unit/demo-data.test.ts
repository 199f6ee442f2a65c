import { createHash } from 'node:crypto';
import countries from 'i18n-iso-countries';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { beforeAll, describe, expect, it } from 'vitest';
import { deriveDisplayName } from '../../src/lib/normalize';
import {
  DEMO_COUNTRIES, DEMO_TABLES, DemoDataGenerator, Rng, WINDOW_DAYS, emptyBatch, formatScaled,
  type CurrencyRateInput, type DemoBatch, type DemoCustomer, type DemoTransaction,
} from '../../src/modules/ingest/demo-data';

// The reference rates of drizzle/0002_reference_data.sql (the seed reads them from the table).
const RATES: CurrencyRateInput[] = Object.entries({
  USD: '1', EUR: '1.0850', GBP: '1.2700', JPY: '0.0067', CNY: '0.1380', CAD: '0.7350', AUD: '0.6600', BRL: '0.1950',
  INR: '0.0120', MXN: '0.0560', CHF: '1.1300', SEK: '0.0950', KRW: '0.00075',
}).map(([currency, rate]) => ({ currency, baseCurrency: 'USD', validFrom: '2000-01-01', rate }));

const ANCHOR = new Date('2025-06-01T00:00:00Z');
const ANCHOR_MS = ANCHOR.getTime();
const DAY = 86_400_000;
const WINDOW_START = ANCHOR_MS - WINDOW_DAYS * DAY;
const N = 2000;
/** sha256 of the first 25 customers of seed 42 (see the fingerprint test). */
const FINGERPRINT_SEED_42 = 'a9addb0419605a8ecbfd723e5a40d1d558ea83fed0f40b6fac8d6be7c496e046';

const generator = (seed: number, extra: Partial<ConstructorParameters<typeof DemoDataGenerator>[0]> = {}) =>
  new DemoDataGenerator({ seed, anchor: ANCHOR, rates: RATES, ...extra });

/** Decimal string -> integer number of 1/10,000 units (numeric(18,4)). */
const units = (v: string): bigint => {
  const [int, frac = ''] = v.split('.');
  return BigInt(int! + frac.padEnd(4, '0'));
};

function rowsOfCustomers(batch: DemoBatch, ids: ReadonlySet<string>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const t of DEMO_TABLES) {
    out[t] = (batch[t] as Array<{ id?: string; customerId?: string }>).filter((r) => ids.has(r.customerId ?? r.id ?? ''));
  }
  return out;
}

describe('demo data determinism', () => {
  it('gives identical rows for the same seed, whatever the batch boundaries and the total asked for', () => {
    const whole = generator(42).batch(0, 120);
    const pieces = emptyBatch();
    const g = generator(42);
    g.batch(0, 7, pieces);
    g.batch(7, 50, pieces);
    g.batch(57, 63, pieces);
    expect(JSON.stringify(pieces)).toBe(JSON.stringify(whole));

    // Customer #30 is the same whether 40 or 120 customers are generated.
    const small = generator(42).batch(0, 40);
    const ids = new Set(small.customers.map((c) => c.id));
    expect(rowsOfCustomers(whole, ids)).toEqual(rowsOfCustomers(small, ids));
  });

  it('gives different data for a different seed', () => {
    const a = generator(42).batch(0, 50);
    const b = generator(43).batch(0, 50);
    const idsA = new Set(a.customers.map((c) => c.id));
    expect(b.customers.filter((c) => idsA.has(c.id))).toHaveLength(0);
    expect(b.customers.map((c) => c.displayName)).not.toEqual(a.customers.map((c) => c.displayName));
  });

  it('matches the recorded fingerprint of seed 42 (same output on every machine)', () => {
    // If this fails after an intended change to the generator or a dependency bump (faker,
    // libphonenumber-js metadata), the demo data changed: update the hash in the same commit.
    const hash = createHash('sha256').update(JSON.stringify(generator(42).batch(0, 25))).digest('hex');
    expect(hash).toBe(FINGERPRINT_SEED_42);
  });

  it('derives valid, distinct v4 UUIDs from the seeded generator', () => {
    const rng = new Rng(1, 2, 3);
    const ids = Array.from({ length: 5000 }, () => rng.uuid());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('demo data validity', () => {
  let b: DemoBatch;
  let byCustomer: Map<string, DemoCustomer>;
  let txByCustomer: Map<string, DemoTransaction[]>;

  beforeAll(() => {
    b = generator(42).batch(0, N);
    byCustomer = new Map(b.customers.map((c) => [c.id, c]));
    txByCustomer = new Map();
    for (const t of b.transactions) txByCustomer.set(t.customerId, [...(txByCustomer.get(t.customerId) ?? []), t]);
  });

  it('stores every phone in national format with the E.164 form libphonenumber-js derives from it', () => {
    const withPhone = b.customers.filter((c) => c.phone !== null);
    expect(withPhone.length).toBeGreaterThan(N * 0.8);
    expect(withPhone.length).toBeLessThan(N);
    const wrong = withPhone.filter((c) => {
      const parsed = parsePhoneNumberFromString(c.phone!, c.country as CountryCode);
      return !parsed?.isValid() || parsed.number !== c.phoneE164 || parsePhoneNumberFromString(c.phoneE164!)?.country !== c.country;
    });
    expect(wrong.map((c) => `${c.country} ${c.phone} ${c.phoneE164}`)).toEqual([]);
    expect(b.customers.filter((c) => c.phone === null).every((c) => c.phoneE164 === null)).toBe(true);
  });

  it('derives lower-case e-mails at real domains, with the normalized copy', () => {
    const withEmail = b.customers.filter((c) => c.email !== null);
    expect(withEmail.length).toBeGreaterThan(N * 0.85);
    expect(withEmail.length).toBeLessThan(N);
    const email = /^[a-z0-9]+([._+-][a-z0-9]+)*@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$/;
    expect(withEmail.filter((c) => !email.test(c.email!)).map((c) => c.email)).toEqual([]);
    expect(withEmail.filter((c) => c.emailNormalized !== c.email!.trim().toLowerCase())).toEqual([]);
    expect(b.customers.filter((c) => c.email === null).every((c) => c.emailNormalized === null)).toBe(true);
  });

  it('spreads customers over many countries with ISO 3166 alpha-2 codes and real addresses', () => {
    const seen = new Set(b.customers.map((c) => c.country));
    for (const code of ['US', 'GB', 'DE', 'FR', 'ES', 'BR', 'JP', 'CN']) expect(seen.has(code)).toBe(true);
    expect(b.customers.filter((c) => !countries.isValid(c.country) || !c.city || !c.region)).toEqual([]);
    expect(b.customers.filter((c) => c.addressLine1 !== null && c.postalCode !== null).length).toBeGreaterThan(N * 0.9);
    expect(b.customers.filter((c) => c.country === 'US').every((c) => c.postalCode === null || /^\d{5}$/.test(c.postalCode))).toBe(true);
    expect(b.customers.filter((c) => c.country === 'GB').every((c) => c.postalCode === null || /^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$/.test(c.postalCode))).toBe(true);
  });

  it('fills names, birth dates (18 to 85 years old), genders and timestamps consistently', () => {
    const genders = new Map<string, number>();
    for (const c of b.customers) {
      expect(c.displayName).toBe(deriveDisplayName(c.firstName, c.lastName, c.email, c.country));
      // Chinese and Japanese names: family name first, no space (张伟, 山田太郎).
      expect(c.displayName).toBe(c.country === 'CN' || c.country === 'JP' ? `${c.lastName}${c.firstName}` : `${c.firstName} ${c.lastName}`);
      expect(c.firstName.trim()).not.toBe('');
      genders.set(c.gender, (genders.get(c.gender) ?? 0) + 1);
      expect(c.createdAt).toBeGreaterThanOrEqual(WINDOW_START);
      expect(c.createdAt).toBeLessThan(ANCHOR_MS);
      expect(c.updatedAt).toBeGreaterThanOrEqual(c.createdAt);
      expect(c.updatedAt).toBeLessThan(ANCHOR_MS);
      if (c.birthDate !== null) {
        const birth = new Date(`${c.birthDate}T00:00:00Z`);
        let age = ANCHOR.getUTCFullYear() - birth.getUTCFullYear();
        const beforeBirthday = ANCHOR.getUTCMonth() < birth.getUTCMonth()
          || (ANCHOR.getUTCMonth() === birth.getUTCMonth() && ANCHOR.getUTCDate() < birth.getUTCDate());
        if (beforeBirthday) age--;
        expect(age).toBeGreaterThanOrEqual(18);
        expect(age).toBeLessThanOrEqual(85);
      }
    }
    expect([...genders.keys()].sort()).toEqual(['FEMALE', 'MALE', 'NON_BINARY', 'UNKNOWN']);
    expect(genders.get('FEMALE')! + genders.get('MALE')!).toBeGreaterThan(N * 0.9);
  });

  it('writes money as decimal strings with at most 4 decimals, in the currency of the country', () => {
    const currency = new Map(DEMO_COUNTRIES.map((c) => [c.code, c.currency]));
    const decimal = /^\d+(\.\d{1,4})?$/;
    expect(b.transactions.filter((t) => !decimal.test(t.amount) || !decimal.test(t.amountBase))).toEqual([]);
    expect(b.transactions.filter((t) => t.currency !== currency.get(byCustomer.get(t.customerId)!.country))).toEqual([]);
    expect(b.transactionItems.filter((i) => !decimal.test(i.unitPrice))).toEqual([]);
  });

  it('converts amount_base exactly with the rate to USD, rounded half-up to 4 decimals', () => {
    const rate = new Map(RATES.map((r) => [r.currency, units(r.rate)]));
    // amount (1/10^4) times rate (1/10^4 here) is in 1/10^8 units: round half-up to 1/10^4.
    const wrong = b.transactions.filter((t) => units(t.amountBase) !== (units(t.amount) * rate.get(t.currency)! + 5_000n) / 10_000n);
    expect(wrong).toEqual([]);
  });

  it('derives cross rates through USD when the base currency is not USD', () => {
    const eur = generator(42, { baseCurrency: 'EUR' }).batch(0, 200);
    for (const t of eur.transactions) {
      if (t.currency === 'EUR') expect(t.amountBase).toBe(formatScaled(units(t.amount), 4));
      if (t.currency === 'USD') {
        // 1 USD = 1 / 1.085 EUR
        const expected = (units(t.amount) * 10_000n * 2n + 10_850n) / (2n * 10_850n);
        expect(units(t.amountBase)).toBe(expected);
      }
    }
  });

  it('makes every order amount the sum of quantity times unit price of its 1 to 5 items', () => {
    const items = new Map<string, typeof b.transactionItems>();
    for (const i of b.transactionItems) items.set(i.transactionId, [...(items.get(i.transactionId) ?? []), i]);
    const wrong = b.transactions.filter((t) => {
      const lines = items.get(t.id) ?? [];
      const sum = lines.reduce((acc, l) => acc + BigInt(l.quantity) * units(l.unitPrice), 0n);
      return lines.length < 1 || lines.length > 5 || sum !== units(t.amount)
        || lines.some((l, k) => l.position !== k + 1 || l.customerId !== t.customerId || l.quantity <= 0 || !/^[A-Z]{3}-\d{4}(-[A-Z]{2})?$/.test(l.sku));
    });
    expect(wrong).toEqual([]);
    expect(b.transactionItems.length).toBe([...items.values()].reduce((a, l) => a + l.length, 0));
  });

  it('keeps every transaction within the two-year window and after the customer signed up', () => {
    const outside = b.transactions.filter((t) => t.occurredAt < WINDOW_START || t.occurredAt >= ANCHOR_MS
      || t.occurredAt < byCustomer.get(t.customerId)!.createdAt || t.occurredAt % 1000 !== 0);
    expect(outside).toEqual([]);
  });

  it('refunds an earlier completed order of the same customer, for at most its amount', () => {
    const refunds = b.transactions.filter((t) => t.type === 'REFUND');
    const orders = b.transactions.filter((t) => t.type === 'ORDER');
    const share = refunds.length / b.transactions.length;
    expect(share).toBeGreaterThan(0.03);
    expect(share).toBeLessThan(0.08);
    const byExternalId = new Map(orders.map((o) => [o.externalId, o]));
    for (const r of refunds) {
      const order = byExternalId.get(r.refundOf ?? '');
      expect(order?.customerId).toBe(r.customerId);
      expect(order?.status).toBe('COMPLETED');
      expect(r.occurredAt).toBeGreaterThan(order!.occurredAt);
      expect(units(r.amount)).toBeLessThanOrEqual(units(order!.amount));
      expect(r.currency).toBe(order!.currency);
    }
  });

  it('uses realistic channels, stores and sources with unique external ids per source', () => {
    const channels = new Set(['online', 'store', 'app', 'marketplace']);
    const statuses = new Set(['PENDING', 'COMPLETED', 'CANCELLED']);
    const wrong = b.transactions.filter((t) => !channels.has(t.channel) || !statuses.has(t.status)
      || t.source !== (t.channel === 'store' ? 'pos' : 'shop') || (t.store === null) !== (t.channel !== 'store'));
    expect(wrong).toEqual([]);
    expect(new Set(b.transactions.map((t) => `${t.source}/${t.externalId}`)).size).toBe(b.transactions.length);
    expect(new Set(b.transactions.map((t) => t.channel))).toEqual(channels);
    const completed = b.transactions.filter((t) => t.status === 'COMPLETED').length;
    expect(completed / b.transactions.length).toBeGreaterThan(0.9);
  });

  it('averages about 10 transactions per customer, skewed, with about 15% of customers buying nothing', () => {
    const counts = b.customers.map((c) => txByCustomer.get(c.id)?.length ?? 0).sort((x, y) => x - y);
    const mean = counts.reduce((a, x) => a + x, 0) / N;
    expect(mean).toBeGreaterThan(8.5);
    expect(mean).toBeLessThan(11.5);
    const none = counts.filter((x) => x === 0).length / N;
    expect(none).toBeGreaterThan(0.1);
    expect(none).toBeLessThan(0.2);
    // Skew: the median customer buys far less than the mean; the top 10% buy several times the mean.
    expect(counts[N / 2]!).toBeLessThan(mean / 1.5);
    expect(counts[Math.floor(N * 0.9)]!).toBeGreaterThan(mean * 1.8);
  });

  it('follows the seasons: December busier than October, weekends busier than weekdays', () => {
    const perMonth = (year: number, month: number) => b.transactions.filter((t) => {
      const d = new Date(t.occurredAt);
      return d.getUTCFullYear() === year && d.getUTCMonth() === month;
    }).length;
    expect(perMonth(2024, 11)).toBeGreaterThan(perMonth(2024, 9) * 1.2);
    const weekday = new Array<number>(7).fill(0);
    for (const t of b.transactions) weekday[new Date(t.occurredAt).getUTCDay()]!++;
    const weekend = (weekday[0]! + weekday[6]!) / 2;
    const midweek = (weekday[1]! + weekday[2]! + weekday[3]!) / 3;
    expect(weekend).toBeGreaterThan(midweek * 1.1);
  });

  it('derives the lifecycle stage from the completed orders', () => {
    const stages = new Map<string, number>();
    for (const c of b.customers) {
      const p = (txByCustomer.get(c.id) ?? [])
        .filter((t) => t.type === 'ORDER' && t.status === 'COMPLETED').map((t) => t.occurredAt).sort((x, y) => x - y);
      stages.set(c.lifecycleStage, (stages.get(c.lifecycleStage) ?? 0) + 1);
      const days = (t: number) => (ANCHOR_MS - t) / DAY;
      let expected: string;
      if (p.length === 0) expected = 'PROSPECT';
      else if (days(p[0]!) < 30) expected = 'NEW';
      else if (days(p.at(-1)!) < 90) {
        const comeback = p.some((t, k) => k > 0 && days(t) < 90 && t - p[k - 1]! > 180 * DAY);
        expected = comeback ? 'REACTIVATED' : 'ACTIVE';
      } else expected = days(p.at(-1)!) <= 180 ? 'AT_RISK' : 'CHURNED';
      expect(c.lifecycleStage, c.id).toBe(expected);
    }
    for (const stage of ['PROSPECT', 'NEW', 'ACTIVE', 'AT_RISK', 'CHURNED', 'REACTIVATED']) expect(stages.get(stage) ?? 0).toBeGreaterThan(N * 0.01);
  });

  it('gives every customer a CRM identity, most a shop account and some a POS card', () => {
    const crm = b.customerIdentities.filter((i) => i.source === 'crm');
    expect(crm).toHaveLength(N);
    expect(crm[0]!.externalId).toBe('CRM-0000001');
    const share = (s: string) => b.customerIdentities.filter((i) => i.source === s).length / N;
    expect(share('shop')).toBeGreaterThan(0.5);
    expect(share('shop')).toBeLessThan(0.8);
    expect(share('pos')).toBeGreaterThan(0.2);
    expect(share('pos')).toBeLessThan(0.45);
    expect(new Set(b.customerIdentities.map((i) => `${i.source}/${i.externalId}`)).size).toBe(b.customerIdentities.length);
    expect(b.customerIdentities.filter((i) => i.createdAt < byCustomer.get(i.customerId)!.createdAt || i.createdAt >= ANCHOR_MS)).toEqual([]);
  });

  it('records consents per purpose with a realistic history (grants, denials, withdrawals)', () => {
    const purposes = new Set(['marketing_email', 'marketing_sms', 'profiling', 'analytics', 'partner_sharing']);
    const sources = new Set(['web_form', 'pos', 'import']);
    expect(b.consents.filter((c) => !purposes.has(c.purpose) || !sources.has(c.source)
      || c.recordedAt < byCustomer.get(c.customerId)!.createdAt || c.recordedAt >= ANCHOR_MS)).toEqual([]);
    const history = new Map<string, typeof b.consents>();
    for (const c of b.consents) history.set(`${c.customerId}/${c.purpose}`, [...(history.get(`${c.customerId}/${c.purpose}`) ?? []), c]);
    // A history starts with a grant or a denial; later entries come later.
    expect([...history.values()].filter((rows) => rows[0]!.status === 'WITHDRAWN'
      || rows.some((r, k) => k > 0 && r.recordedAt < rows[k - 1]!.recordedAt))).toEqual([]);
    const statuses = new Set(b.consents.map((c) => c.status));
    expect([...statuses].sort()).toEqual(['DENIED', 'GRANTED', 'WITHDRAWN']);
    const noEmail = new Set(b.customers.filter((c) => c.email === null).map((c) => c.id));
    expect(b.consents.some((c) => c.purpose === 'marketing_email' && noEmail.has(c.customerId))).toBe(false);
  });

  it('assigns tags consistent with the data, each with an ADDED event at its assignment time', () => {
    const g = generator(42);
    const defs = new Map(g.tagDefinitions.map((d) => [d.key, d]));
    expect(new Set(g.tagDefinitions.map((d) => d.category))).toEqual(new Set(['BASIC', 'BEHAVIOR', 'INTEREST', 'LIFECYCLE', 'VALUE', 'CUSTOM']));
    const added = new Set(b.customerTagEvents.filter((e) => e.action === 'ADDED').map((e) => `${e.customerId}/${e.tagId}/${e.occurredAt}`));
    const wrong = b.customerTags.filter((t) => defs.get(t.tagKey)?.id !== t.tagId
      || !added.has(`${t.customerId}/${t.tagId}/${t.assignedAt}`)
      || (t.confidence === null) !== (t.source !== 'MODEL')
      || t.assignedAt >= ANCHOR_MS || t.assignedAt < byCustomer.get(t.customerId)!.createdAt
      || (t.expiresAt !== null && t.expiresAt <= t.assignedAt));
    expect(wrong).toEqual([]);
    expect(new Set(b.customerTags.map((t) => `${t.customerId}/${t.tagKey}`)).size).toBe(b.customerTags.length);
    expect(b.customerTagEvents.filter((e) => e.occurredAt >= ANCHOR_MS || e.occurredAt < byCustomer.get(e.customerId)!.createdAt)).toEqual([]);
    const stage = (id: string) => byCustomer.get(id)!.lifecycleStage;
    const tagged = (key: string) => b.customerTags.filter((t) => t.tagKey === key);
    expect(tagged('at_risk').every((t) => stage(t.customerId) === 'AT_RISK')).toBe(true);
    expect(tagged('at_risk')).toHaveLength(b.customers.filter((c) => c.lifecycleStage === 'AT_RISK').length);
    expect(tagged('churned')).toHaveLength(b.customers.filter((c) => c.lifecycleStage === 'CHURNED').length);
    expect(tagged('age_band').every((t) => /^(18-24|25-34|35-44|45-54|55-64|65\+)$/.test(t.value ?? ''))).toBe(true);
    expect(tagged('churn_risk_score').every((t) => /^0\.\d\d$/.test(t.value ?? '') && t.source === 'MODEL')).toBe(true);
    // VIPs are the top spenders.
    const spend = (id: string) => (txByCustomer.get(id) ?? [])
      .filter((t) => t.type === 'ORDER' && t.status === 'COMPLETED').reduce((a, t) => a + Number(t.amountBase), 0);
    expect(tagged('vip').filter((t) => t.source === 'RULE').every((t) => spend(t.customerId) >= 5000)).toBe(true);
    expect(tagged('vip').length).toBeGreaterThan(0);
    // Some tags have expired, and there is history beyond additions.
    expect(b.customerTags.some((t) => t.expiresAt !== null && t.expiresAt < ANCHOR_MS)).toBe(true);
    const actions = new Set(b.customerTagEvents.map((e) => e.action));
    expect([...actions].sort()).toEqual(['ADDED', 'CHANGED', 'REMOVED']);
    expect(new Set(b.customerTags.map((t) => t.source))).toEqual(new Set(['MANUAL', 'RULE', 'IMPORT', 'MODEL']));
  });

  it('generates about 5 interactions per customer that fit their type and follow the customer history', () => {
    const mean = b.interactions.length / N;
    expect(mean).toBeGreaterThan(4);
    expect(mean).toBeLessThan(6);
    const complaints = b.interactions.filter((i) => i.type === 'COMPLAINT');
    expect(complaints.length / b.interactions.length).toBeGreaterThan(0.06);
    expect(complaints.length / b.interactions.length).toBeLessThan(0.14);
    expect(complaints.filter((i) => i.sentiment === 'NEGATIVE').length / complaints.length).toBeGreaterThan(0.7);
    const orderIds = new Set(b.transactions.map((t) => `${t.customerId}/${t.externalId}`));
    const wrong = b.interactions.filter((i) => {
      // Contacts about an order name one of the customer's own orders.
      const ref = /\b(SO|PS)-\d{10}\b/.exec(i.subject + i.summary);
      return i.occurredAt < byCustomer.get(i.customerId)!.createdAt || i.occurredAt >= ANCHOR_MS || i.updatedAt < i.occurredAt
        || i.source !== 'helpdesk' || (i.type === 'CALL' && i.channel !== 'PHONE') || (i.type === 'VISIT' && i.channel !== 'STORE')
        || /[{}]/.test(i.subject + i.summary) || (ref !== null && !orderIds.has(`${i.customerId}/${ref[0]}`));
    });
    expect(wrong).toEqual([]);
    expect(new Set(b.interactions.map((i) => i.externalId)).size).toBe(b.interactions.length);
    expect(b.interactions.some((i) => /\b(SO|PS)-\d{10}\b/.test(i.subject))).toBe(true);
  });
});
