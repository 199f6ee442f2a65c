import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { generateKey, parseKeyring } from '../../src/lib/crypto';
import { cursorScope, MAX_CURSOR_LENGTH, openCursor, sealCursor, type CursorValue } from '../../src/lib/cursor';

function thrownBy(fn: () => unknown): GraphQLError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GraphQLError);
    return e as GraphQLError;
  }
  throw new Error('expected the call to throw');
}

const UUID = '0b6f3c52-1d4e-4b8a-9c3e-2f1a5d7e9b10';
const SCOPE = cursorScope('customers', null, { orderBy: ['NAME_ASC'], search: null, filter: null });

describe('sealCursor / openCursor', () => {
  it.each<[string, CursorValue[]]>([
    ['a name and a uuid', ['Aaltje van Beek', UUID]],
    ['microsecond timestamps (also before 1970 and in year 0)', ['2025-06-01T12:00:00.123456Z', '1969-12-31T23:59:59.999999Z', '0000-01-01T00:00:00.000001Z', UUID]],
    ['decimals, numbers and nulls', ['-12345.6789', 42, 0.5, null, '']],
    ['text that only looks like a timestamp or uuid', ['2025-13-45T99:99:99.000000Z', UUID.toUpperCase(), `${UUID}x`]],
    ['non-ASCII text', ['Zoë Ødegård 日本', 'é'.repeat(300)]],
  ])('round-trips %s', (_label, values) => {
    expect(openCursor(sealCursor(SCOPE, values), SCOPE, values.length)).toEqual(values);
  });

  it('is url-safe and carries no value in the clear (base64 or hex)', () => {
    const c = sealCursor(SCOPE, ['Aaltje van Beek', UUID]);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    const bytes = Buffer.from(c, 'base64url');
    for (const text of [bytes.toString('latin1'), bytes.toString('utf8'), bytes.toString('hex')]) {
      expect(text).not.toContain('Aaltje');
      expect(text).not.toContain(UUID.replace(/-/g, '').slice(0, 12));
    }
  });

  it('is short: a transactions cursor is under 90 characters, a name cursor under 120', () => {
    expect(sealCursor(SCOPE, ['2025-06-01T12:00:00.123456Z', UUID]).length).toBeLessThan(90);
    expect(sealCursor(SCOPE, ['Aaltje van Beek', UUID]).length).toBeLessThan(120);
  });

  it('pads the position: names of 1 and 10 characters give cursors of the same length', () => {
    expect(sealCursor(SCOPE, ['A', UUID]).length).toBe(sealCursor(SCOPE, ['Aaltje van', UUID]).length);
  });

  it.each([
    ['another orderBy', cursorScope('customers', null, { orderBy: ['NAME_DESC'], search: null, filter: null })],
    ['another search', cursorScope('customers', null, { orderBy: ['NAME_ASC'], search: 'ada', filter: null })],
    ['another filter', cursorScope('customers', null, { orderBy: ['NAME_ASC'], search: null, filter: { countries: ['DE'] } })],
    ['another field', cursorScope('Customer.transactions', null, { orderBy: ['NAME_ASC'], search: null, filter: null })],
    ['another parent', cursorScope('customers', UUID, { orderBy: ['NAME_ASC'], search: null, filter: null })],
  ])('refuses a cursor under %s with BAD_USER_INPUT', (_label, scope) => {
    const c = sealCursor(SCOPE, ['Ada', UUID]);
    expect(thrownBy(() => openCursor(c, scope, 2)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('binds arguments regardless of key order and Date vs ISO string', () => {
    const a = cursorScope('x', 'p', { from: new Date('2025-01-01T00:00:00Z'), to: null });
    const b = cursorScope('x', 'p', { to: null, from: '2025-01-01T00:00:00.000Z' });
    expect(openCursor(sealCursor(a, ['v']), b, 1)).toEqual(['v']);
  });

  it('refuses every single flipped bit', () => {
    const bytes = Buffer.from(sealCursor(SCOPE, ['Ada', UUID]), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const copy = Buffer.from(bytes);
      copy[i]! ^= 0x01;
      expect(thrownBy(() => openCursor(copy.toString('base64url'), SCOPE, 2)).extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  it.each([
    ['an empty string', ''],
    ['base64 JSON (the old format)', Buffer.from(JSON.stringify(['customers:NAME_ASC:', 'Ada', UUID])).toString('base64url')],
    ['characters outside base64url', 'abc+/def=='],
    ['a truncated cursor', sealCursor(SCOPE, ['Ada', UUID]).slice(0, 30)],
    ['an oversized cursor', 'A'.repeat(MAX_CURSOR_LENGTH + 1)],
  ])('refuses %s with BAD_USER_INPUT', (_label, c) => {
    expect(thrownBy(() => openCursor(c, SCOPE, 2)).extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a valid cursor read with another arity', () => {
    const c = sealCursor(SCOPE, ['Ada', UUID]);
    expect(thrownBy(() => openCursor(c, SCOPE, 3)).extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('names the given field in the error', () => {
    expect(thrownBy(() => openCursor('x', SCOPE, 1, 'before')).extensions).toMatchObject({ field: 'before' });
  });
});

describe('cursor keys rotate with ENCRYPTION_KEYS', () => {
  const oldKey = generateKey('old');
  const newKey = generateKey('new');
  const before = parseKeyring(oldKey);
  const during = parseKeyring(`${newKey},${oldKey}`);
  const after = parseKeyring(newKey);

  it('opens cursors of a retired key while it is configured, and seals new ones with the active key', () => {
    const issued = sealCursor(SCOPE, ['Ada', UUID], before);
    expect(openCursor(issued, SCOPE, 2, 'after', during)).toEqual(['Ada', UUID]);
    const fresh = sealCursor(SCOPE, ['Ada', UUID], during);
    expect(openCursor(fresh, SCOPE, 2, 'after', after)).toEqual(['Ada', UUID]);
    expect(thrownBy(() => openCursor(fresh, SCOPE, 2, 'after', before)).extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses cursors of a key once it is removed', () => {
    const issued = sealCursor(SCOPE, ['Ada', UUID], before);
    expect(thrownBy(() => openCursor(issued, SCOPE, 2, 'after', after)).extensions?.code).toBe('BAD_USER_INPUT');
  });

});
