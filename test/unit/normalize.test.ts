import { describe, expect, it } from 'vitest';
import {
  cleanText, deriveDisplayName, normalizeCountry, normalizeCurrency, normalizeDecimal, normalizeEmail, normalizePhone, normalizePhoneIn, phoneRegions,
} from '../../src/lib/normalize';

describe('normalizeEmail', () => {
  it('trims and lowercases a valid address', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM ')).toBe('ada.lovelace@example.com');
  });

  it.each(['not-an-email', 'a@b', 'a b@example.com', '@example.com', 'ada@', 'a@@example.com', ''])('rejects %j', (raw) => {
    expect(normalizeEmail(raw)).toBeNull();
  });

  it.each(['user@.example.com', 'user@example.com.', 'user@example..com', 'user@-example.com', 'user@example-.com', 'user@example.-com',
    'user@exa mple.com', 'us er@example.com', 'user@example', 'user@.com', 'user@example.com-', `user@${'a'.repeat(64)}.com`])('rejects the malformed domain or local part of %j', (raw) => {
    expect(normalizeEmail(raw)).toBeNull();
  });

  it.each(['first.last+tag@mail.example.co.uk', 'a@b.io', 'o\'brien@my-shop.example.com', 'user@xn--mnchen-3ya.de', 'user@münchen.de', '张伟@例子.中国'])('accepts %j', (raw) => {
    expect(normalizeEmail(raw)).toBe(raw.toLowerCase());
  });

  it('rejects addresses longer than 254 characters', () => {
    expect(normalizeEmail(`${'a'.repeat(250)}@example.com`)).toBeNull();
  });
});

describe('normalizePhone', () => {
  it('reads a national number with the default region', () => {
    expect(normalizePhone('(415) 555-0132', 'US')).toBe('+14155550132');
  });

  it('keeps the country of an international number whatever the default region', () => {
    expect(normalizePhone('+44 20 7946 0958', 'US')).toBe('+442079460958');
  });

  it('reads the same national digits differently in another default region', () => {
    expect(normalizePhone('020 7946 0958', 'GB')).toBe('+442079460958');
  });

  it.each(['12345', 'call me', '', '   ', `+1 ${'4'.repeat(40)}`])('returns null for %j', (raw) => {
    expect(normalizePhone(raw, 'US')).toBeNull();
  });
});

describe('phone regions of a record', () => {
  it.each([
    ['020 7946 0018', 'GB', '+442079460018'], ['138-0013-8043', 'CN', '+8613800138043'], ['030 12345000', 'DE', '+493012345000'],
  ])('reads %s in the record\'s country %s', (raw, country, e164) => {
    expect(normalizePhone(raw, 'US')).toBeNull();
    expect(normalizePhoneIn(raw, phoneRegions(country, 'US'))).toBe(e164);
  });

  it('falls back to the default region for a number that is not valid in the record\'s country', () => {
    expect(phoneRegions('GB', 'US')).toEqual(['GB', 'US']);
    expect(normalizePhoneIn('(415) 555-0132', phoneRegions('GB', 'US'))).toBe('+14155550132');
  });

  it('uses the default region alone without a country, or for a country without a numbering plan', () => {
    expect(phoneRegions(null, 'US')).toEqual(['US']);
    expect(phoneRegions('AQ', 'DE')).toEqual(['DE']);
    expect(normalizePhone('030 12345000', 'AQ')).toBeNull();
  });
});

describe('normalizeCountry', () => {
  it('uppercases a known alpha-2 code', () => {
    expect(normalizeCountry(' de ')).toBe('DE');
  });

  it.each(['XX', 'DEU', 'D', '12', ''])('returns null for %j', (raw) => {
    expect(normalizeCountry(raw)).toBeNull();
  });
});

describe('normalizeCurrency', () => {
  it('uppercases a three-letter code', () => {
    expect(normalizeCurrency(' eur')).toBe('EUR');
  });

  it.each(['EURO', 'E1R', '€', ''])('returns null for %j', (raw) => {
    expect(normalizeCurrency(raw)).toBeNull();
  });
});

describe('cleanText', () => {
  it('trims and collapses inner whitespace', () => {
    expect(cleanText('  Ada \t  Lovelace\n')).toBe('Ada Lovelace');
  });

  it.each([null, undefined, '', '   '])('returns null for %j', (raw) => {
    expect(cleanText(raw)).toBeNull();
  });
});

describe('deriveDisplayName', () => {
  it('joins first and last name', () => {
    expect(deriveDisplayName('Ada', 'Lovelace', 'ada@example.com')).toBe('Ada Lovelace');
  });

  it('uses one name part when the other is missing', () => {
    expect(deriveDisplayName(null, 'Lovelace', null)).toBe('Lovelace');
  });

  it('falls back to the email, then to a placeholder', () => {
    expect(deriveDisplayName(null, null, 'ada@example.com')).toBe('ada@example.com');
    expect(deriveDisplayName(null, null, null)).toBe('Unnamed customer');
  });
});

describe('normalizeDecimal', () => {
  it.each([['12', '12'], [' 12.5 ', '12.5'], ['-3.1415', '-3.1415'], ['0.0001', '0.0001'], ['99999999999999.9999', '99999999999999.9999']])(
    'accepts %j as %j', (raw, expected) => {
      expect(normalizeDecimal(raw)).toBe(expected);
    },
  );

  it.each(['1e3', '1,000.00', '12.34567', '.5', '5.', 'abc', '', '+1', '123456789012345'])('rejects %j', (raw) => {
    expect(normalizeDecimal(raw)).toBeNull();
  });
});
