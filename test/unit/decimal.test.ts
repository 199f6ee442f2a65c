import { describe, expect, it } from 'vitest';
import { fromUnits, lineTotal, toUnits } from '../../src/lib/decimal';

describe('toUnits', () => {
  it.each([
    ['0', 0n], ['1', 10_000n], ['19.99', 199_900n], ['5.5', 55_000n], ['0.0001', 1n], ['-0.5', -5_000n], ['-12.3456', -123_456n], [' 7 ', 70_000n],
  ])('converts %j to %d units', (dec, units) => {
    expect(toUnits(dec)).toBe(units);
  });

  it.each(['1e3', '1.23456', 'abc', '', '1,5', '--1'])('throws a RangeError for %j', (dec) => {
    expect(() => toUnits(dec)).toThrow(RangeError);
  });

  it('is exact beyond float precision', () => {
    expect(toUnits('90071992547409.9999')).toBe(900_719_925_474_099_999n);
  });
});

describe('fromUnits', () => {
  it.each([
    [0n, '0.0000'], [1n, '0.0001'], [199_900n, '19.9900'], [-5_000n, '-0.5000'], [-1n, '-0.0001'], [123_456_789n, '12345.6789'],
  ])('formats %d units as %j', (units, dec) => {
    expect(fromUnits(units)).toBe(dec);
  });

  it('round-trips through toUnits', () => {
    for (const dec of ['0.0000', '19.9900', '-3.1415', '90071992547409.9999']) expect(fromUnits(toUnits(dec))).toBe(dec);
  });
});

describe('lineTotal', () => {
  it('sums quantity times unit price exactly', () => {
    expect(lineTotal([{ quantity: 2, unitPrice: '19.99' }, { quantity: 1, unitPrice: '5.5' }])).toBe('45.4800');
  });

  it('does not accumulate float errors', () => {
    expect(lineTotal([{ quantity: 1, unitPrice: '0.1' }, { quantity: 1, unitPrice: '0.2' }])).toBe('0.3000');
  });

  it('is zero for no lines', () => {
    expect(lineTotal([])).toBe('0.0000');
  });
});
