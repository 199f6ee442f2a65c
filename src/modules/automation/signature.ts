import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures: `X-C360-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * The timestamp is signed with the body so a captured request cannot be replayed later with a new
 * time; receivers reject signatures older than their tolerance (5 minutes is usual).
 */
export const SIGNATURE_HEADER = 'x-c360-signature';

export function sign(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export const signatureHeader = (secret: string, timestamp: number, body: string): string => `t=${timestamp},v1=${sign(secret, timestamp, body)}`;

/** What a receiver does (and what the README shows): parse, check the age, compare in constant time. */
export function verifySignature(secret: string, header: string | null | undefined, body: string, opts: { toleranceSeconds?: number; now?: number } = {}): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  const v1 = parts.v1;
  if (!Number.isInteger(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (opts.toleranceSeconds ?? 300)) return false;
  return timingSafeEqual(Buffer.from(sign(secret, t, body), 'hex'), Buffer.from(v1, 'hex'));
}
