import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { badUserInput } from '../errors';
import { fieldKeyring, nextIv, type Keyring } from './crypto';

/**
 * Opaque, authenticated cursors (AES-256-GCM, node:crypto).
 *
 * A cursor is the keyset position of an edge (its sort values and id), encrypted: it never carries a
 * value in the clear, so a viewer who gets `anon_…` for a name cannot read the name back from the
 * cursor of a NAME_ASC page. The plaintext is padded to 16 bytes, so the length tells little either.
 *
 * The *scope* of the cursor (the connection: field, parent, and every argument but `first` and
 * `after`) is the GCM additional data: it is not stored in the cursor, but a cursor presented under
 * another scope (another orderBy, search or filter, `customers` vs `Customer.transactions`, the
 * transactions of another customer) fails authentication exactly like a tampered or made-up one.
 *
 * Keys: one cursor key per key of ENCRYPTION_KEYS, derived with HKDF-SHA256 (so no new setting, and in
 * development the data directory's key serves). New cursors use the active key; cursors made under
 * any other configured key still open, so rotating ENCRYPTION_KEYS keeps clients' cursors working
 * until the old key is removed (then they answer BAD_USER_INPUT and the client starts over).
 *
 * Layout (base64url): version (1 byte) | IV (12) | ciphertext | tag (16).
 */

export type CursorValue = string | number | null;

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PAD = 16;
/** Longest cursor accepted (a 400-character name in a NAME cursor is ~600 characters). */
export const MAX_CURSOR_LENGTH = 4096;
const HKDF_INFO = Buffer.from('c360 cursor key v1');

// ---------------------------------------------------------------------------------------------
// Keys

const derived = new WeakMap<Keyring, KeyObject[]>();

/** The cursor keys of a keyring, the active one first. */
export function cursorKeys(keyring: Keyring): KeyObject[] {
  let keys = derived.get(keyring);
  if (!keys) {
    const kids = [keyring.active, ...[...keyring.keys.keys()].filter((k) => k !== keyring.active)];
    keys = kids.map((kid) => createSecretKey(Buffer.from(hkdfSync('sha256', keyring.keys.get(kid)!, Buffer.alloc(0), HKDF_INFO, 32))));
    derived.set(keyring, keys);
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------
// Scope

/** Canonical JSON (sorted keys; Dates as ISO strings) so equal arguments give equal scopes. */
function canonical(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * What a cursor is bound to: the connection (`customers`, `Customer.transactions`), its parent (the
 * customer, segment or webhook id; null for root lists) and the arguments that shape the list
 * (orderBy, search, filter, from, to, ...; never `first` or `after`).
 */
export function cursorScope(connection: string, parent: string | null, args: Record<string, unknown> = {}): string {
  return `${connection}\u0000${parent ?? ''}\u0000${canonical(args)}`;
}

// ---------------------------------------------------------------------------------------------
// Position codec: the number of values, then a tag byte per value; uuids and microsecond timestamps packed (16 and 8 bytes).

const T_NULL = 0, T_UUID = 1, T_TIME = 2, T_STRING = 3, T_NUMBER = 4;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TS_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** `YYYY-MM-DDTHH:MM:SS.ffffffZ` -> microseconds since the epoch, or null when it is not a real instant. */
function timeKeyMicros(v: string): bigint | null {
  if (!TS_KEY.test(v)) return null;
  const ms = Date.parse(`${v.slice(0, 23)}Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 23) !== v.slice(0, 23)) return null;
  return BigInt(ms) * 1000n + BigInt(v.slice(23, 26));
}

function microsTimeKey(us: bigint): string {
  const rest = ((us % 1000n) + 1000n) % 1000n;
  const ms = Number((us - rest) / 1000n);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(rest).padStart(3, '0')}Z`;
}

const encodedLength = (v: CursorValue): number => {
  if (v === null) return 1;
  if (typeof v === 'number') return 9;
  if (UUID.test(v)) return 17;
  if (timeKeyMicros(v) !== null) return 9;
  return 3 + Buffer.byteLength(v, 'utf8');
};

/** One buffer: the count, each value, zero padding to a multiple of 16 bytes. */
function pack(values: readonly CursorValue[]): Buffer {
  if (values.length > 0xff) throw new Error('too many cursor values');
  let size = 1;
  for (const v of values) size += encodedLength(v);
  const buf = Buffer.alloc(Math.ceil(size / PAD) * PAD);
  buf[0] = values.length;
  let i = 1;
  for (const v of values) {
    if (v === null) { buf[i++] = T_NULL; continue; }
    if (typeof v === 'number') { buf[i] = T_NUMBER; buf.writeDoubleBE(v, i + 1); i += 9; continue; }
    if (UUID.test(v)) { buf[i] = T_UUID; buf.write(v.replace(/-/g, ''), i + 1, 16, 'hex'); i += 17; continue; }
    const us = timeKeyMicros(v);
    if (us !== null) { buf[i] = T_TIME; buf.writeBigInt64BE(us, i + 1); i += 9; continue; }
    const n = Buffer.byteLength(v, 'utf8');
    if (n > 0xffff) throw new Error('cursor value too long');
    buf[i] = T_STRING; buf.writeUInt16BE(n, i + 1);
    buf.write(v, i + 3, n, 'utf8');
    i += 3 + n;
  }
  return buf;
}

/** Exactly `arity` values (as counted at the start) followed by zero padding, or null. */
function unpack(buf: Buffer, arity: number): CursorValue[] | null {
  const out: CursorValue[] = [];
  if (buf[0] !== arity) return null;
  let i = 1;
  const need = (n: number) => i + n <= buf.length;
  while (out.length < arity) {
    if (!need(1)) return null;
    const tag = buf[i++];
    if (tag === T_NULL) out.push(null);
    else if (tag === T_NUMBER) { if (!need(8)) return null; out.push(buf.readDoubleBE(i)); i += 8; }
    else if (tag === T_UUID) {
      if (!need(16)) return null;
      const h = buf.toString('hex', i, i + 16); i += 16;
      out.push(`${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`);
    } else if (tag === T_TIME) { if (!need(8)) return null; out.push(microsTimeKey(buf.readBigInt64BE(i))); i += 8; }
    else if (tag === T_STRING) {
      if (!need(2)) return null;
      const n = buf.readUInt16BE(i); i += 2;
      if (!need(n)) return null;
      out.push(buf.toString('utf8', i, i + n)); i += n;
    } else return null;
  }
  for (; i < buf.length; i++) if (buf[i] !== 0) return null;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Seal and open

const aadOf = (scope: string) => Buffer.from(`c360-cursor:${VERSION}\u0000${scope}`, 'utf8');

/**
 * A sealer for the edges of one page: key and additional data prepared once, then one AES-GCM call
 * per cursor (microseconds; toConnection seals only the cursors a query reads).
 */
export function cursorSealer(scope: string, keyring: Keyring = fieldKeyring()): (values: readonly CursorValue[]) => string {
  const key = cursorKeys(keyring)[0]!;
  const aad = aadOf(scope);
  return (values) => {
    const plain = pack(values);
    const iv = nextIv();
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad);
    const body = cipher.update(plain);
    cipher.final();
    const out = Buffer.allocUnsafe(1 + IV_BYTES + body.length + TAG_BYTES);
    out[0] = VERSION;
    iv.copy(out, 1);
    body.copy(out, 1 + IV_BYTES);
    cipher.getAuthTag().copy(out, 1 + IV_BYTES + body.length);
    return out.toString('base64url');
  };
}

/** Encrypts a position under the active key, bound to `scope`. */
export function sealCursor(scope: string, values: readonly CursorValue[], keyring: Keyring = fieldKeyring()): string {
  return cursorSealer(scope, keyring)(values);
}

/**
 * The position in a cursor made by `sealCursor` for the same scope with any configured key, else
 * BAD_USER_INPUT (tampered, made up, from another list, ordering or arguments, or from a removed key).
 */
export function openCursor(cursor: string, scope: string, arity: number, field = 'after', keyring: Keyring = fieldKeyring()): CursorValue[] {
  const fail = () => badUserInput(`${field} is not a valid cursor for this list (cursors are valid only for the list, ordering and arguments they were issued for)`, field);
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw fail();
  const buf = Buffer.from(cursor, 'base64url');
  if (buf.length < 1 + IV_BYTES + PAD + TAG_BYTES || buf[0] !== VERSION) throw fail();
  const iv = buf.subarray(1, 1 + IV_BYTES);
  const body = buf.subarray(1 + IV_BYTES, buf.length - TAG_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const aad = aadOf(scope);
  for (const key of cursorKeys(keyring)) {
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      plain = Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      continue;
    }
    const values = unpack(plain, arity);
    if (!values) throw fail();
    return values;
  }
  throw fail();
}
