/**
 * Exact decimal arithmetic for money strings with up to 4 decimals (numeric(18,4)), using BigInt in
 * units of 1/10,000. Never floats.
 */
const SCALE = 10_000n;

export function toUnits(dec: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,4}))?$/.exec(dec.trim());
  if (!m) throw new RangeError(`not a decimal: ${dec}`);
  const units = BigInt(m[2]!) * SCALE + BigInt((m[3] ?? '').padEnd(4, '0') || '0');
  return m[1] ? -units : units;
}

export function fromUnits(units: bigint): string {
  const neg = units < 0n;
  const abs = neg ? -units : units;
  const s = `${abs / SCALE}.${(abs % SCALE).toString().padStart(4, '0')}`;
  return neg ? `-${s}` : s;
}

/** Sum of quantity x unit price over lines. */
export const lineTotal = (lines: readonly { quantity: number; unitPrice: string }[]): string =>
  fromUnits(lines.reduce((acc, l) => acc + BigInt(l.quantity) * toUnits(l.unitPrice), 0n));
