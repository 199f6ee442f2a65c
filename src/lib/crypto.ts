import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, randomFillSync } from 'node:crypto';
import type { Config } from '../config';
import { devSecret } from '../auth/token';

/**
 * Application-layer encryption of the most sensitive columns (AES-256-GCM, node:crypto).
 *
 * Stored form: `v1:<kid>:<iv>:<tag>:<ciphertext>` (base64url parts). The key id travels with the value,
 * so keys can be rotated: new writes use the active key, old values stay readable while their key is
 * configured, and `npm run keys -- rotate` re-encrypts them under the active one. The column name is
 * the GCM additional data: a value copied into another column (a national id pasted into a summary)
 * fails authentication instead of decrypting.
 *
 * The keyring is process configuration (one per process, set at start-up from ENCRYPTION_KEYS, like
 * the database URL), so repositories can encrypt and decrypt without threading it through every call.
 */

/** The columns held encrypted: `table.column`, also the additional authenticated data. */
export const ENCRYPTED_COLUMNS = ['customers.birth_date', 'customers.national_id', 'interactions.subject', 'interactions.summary'] as const;
export type EncryptedColumn = (typeof ENCRYPTED_COLUMNS)[number];

export interface Keyring {
  /** Key id -> 32-byte key. */
  keys: ReadonlyMap<string, Buffer>;
  /** Id of the key new values are encrypted with. */
  active: string;
}

const VERSION = 'v1';
const KID = /^[A-Za-z0-9_-]{1,32}$/;

export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

/** `kid:base64key,kid2:base64key` (standard or url-safe base64 of 32 bytes) -> Keyring; the active key defaults to the first. */
export function parseKeyring(spec: string, active?: string): Keyring {
  const keys = new Map<string, Buffer>();
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const i = part.indexOf(':');
    const kid = i > 0 ? part.slice(0, i) : '';
    if (!KID.test(kid)) throw new KeyringError(`key id "${kid}" must be 1-32 letters, digits, _ or -`);
    const key = Buffer.from(part.slice(i + 1).replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length !== 32) throw new KeyringError(`key ${kid} must be 32 bytes of base64 (got ${key.length}); make one with: npm run keys -- generate`);
    if (keys.has(kid)) throw new KeyringError(`key id ${kid} appears twice`);
    keys.set(kid, key);
  }
  const first = keys.keys().next().value;
  if (first === undefined) throw new KeyringError('no keys given');
  const activeKid = active ?? first;
  if (!keys.has(activeKid)) throw new KeyringError(`active key ${activeKid} is not among the keys (${[...keys.keys()].join(', ')})`);
  return { keys, active: activeKid };
}

/** A new random key as `kid:base64key`, ready for ENCRYPTION_KEYS. */
export function generateKey(kid = `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`): string {
  if (!KID.test(kid)) throw new KeyringError(`key id "${kid}" must be 1-32 letters, digits, _ or -`);
  return `${kid}:${randomBytes(32).toString('base64')}`;
}

/** ENCRYPTION_KEYS, or (outside production) a development key created once in the data directory. */
export function resolveKeyring(config: Pick<Config, 'encryption' | 'devSecretsDir'>): Keyring {
  if (config.encryption.keys) return parseKeyring(config.encryption.keys, config.encryption.activeKey);
  const dev = devSecret(config.devSecretsDir, 'dev-encryption-key');
  return parseKeyring(`dev:${dev}`);
}

let current: Keyring | null = null;

/** Sets the keyring of this process (start-up, CLIs, tests). */
export function configureFieldEncryption(keyring: Keyring): void {
  current = keyring;
}

export function fieldKeyring(): Keyring {
  if (!current) throw new KeyringError('field encryption is not configured (configureFieldEncryption was not called)');
  return current;
}

/**
 * IVs come from a pool of random bytes refilled 4 KiB at a time (one call to the CSPRNG per 341 values
 * instead of one per value: imports encrypt tens of thousands). Every IV is still 12 fresh random bytes.
 */
const IV_POOL = Buffer.alloc(4092);
let ivOffset = IV_POOL.length;
export function nextIv(): Buffer {
  if (ivOffset + 12 > IV_POOL.length) { randomFillSync(IV_POOL); ivOffset = 0; }
  const iv = Buffer.from(IV_POOL.subarray(ivOffset, ivOffset + 12));
  ivOffset += 12;
  return iv;
}

export function encryptWith(keyring: Keyring, column: EncryptedColumn, plaintext: string): string {
  const key = keyring.keys.get(keyring.active)!;
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(column));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${VERSION}:${keyring.active}:${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${ct.toString('base64url')}`;
}

/** Encrypts under the active key; null stays null. */
export function encryptField<T extends string | null | undefined>(column: EncryptedColumn, plaintext: T): T extends string ? string : T {
  if (plaintext === null || plaintext === undefined) return plaintext as T extends string ? string : T;
  return encryptWith(fieldKeyring(), column, plaintext) as T extends string ? string : T;
}

export const isEncrypted = (stored: string): boolean => stored.startsWith(`${VERSION}:`);

/** Key id of a stored value, or null for plaintext (written before encryption was introduced). */
export function keyIdOf(stored: string): string | null {
  if (!isEncrypted(stored)) return null;
  return stored.split(':', 3)[1] ?? null;
}

export function decryptWith(keyring: Keyring, column: EncryptedColumn, stored: string): string {
  // Values written before migration 0013 are plaintext until start-up (or `npm run keys -- rotate`)
  // encrypts them; they are read as they are so a rolling upgrade keeps working.
  if (!isEncrypted(stored)) return stored;
  const parts = stored.split(':');
  if (parts.length !== 5) throw new KeyringError(`${column}: malformed encrypted value`);
  const [, kid, iv, tag, ct] = parts as [string, string, string, string, string];
  const key = keyring.keys.get(kid);
  if (!key) throw new KeyringError(`${column}: value is encrypted with key ${kid}, which is not configured in ENCRYPTION_KEYS`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(column));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new KeyringError(`${column}: value fails authentication (tampered, or moved from another column)`);
  }
}

/** Decrypts with the process keyring; null stays null. */
export function decryptField<T extends string | null | undefined>(column: EncryptedColumn, stored: T): T {
  if (stored === null || stored === undefined) return stored;
  return decryptWith(fieldKeyring(), column, stored) as T;
}

/**
 * Makes `row[key]` decrypt on first read (then keep the clear value): most reads never select the
 * encrypted fields, and AES-GCM costs ~25 us a value (measured: about a quarter of the gateway's CPU on
 * a 360 read with ten interactions, when every row was decrypted as it was mapped). Reading the field
 * (a resolver, a spread, JSON.stringify) gives the clear value as before; writing it stores the given
 * value.
 */
export function decryptOnRead<T extends object>(row: T, key: keyof T & string, column: EncryptedColumn): T {
  const stored = (row as Record<string, unknown>)[key] as string | null | undefined;
  if (stored === null || stored === undefined || !isEncrypted(stored)) return row;
  let value: string | undefined;
  let known = false;
  Object.defineProperty(row, key, {
    enumerable: true,
    configurable: true,
    get() {
      if (!known) { value = decryptField(column, stored); known = true; }
      return value;
    },
    set(v: string) { value = v; known = true; },
  });
  return row;
}

// ---------------------------------------------------------------------------------------------
// Blind indexes: equality on an encrypted column without decrypting it.
//
// The ciphertext has a random IV, so two equal birth dates never compare equal in SQL. A blind index
// is a keyed hash of the normalized clear value (HMAC-SHA256 under PRIVACY_HASH_KEY, with the column
// name as domain separation so it never equals a pseudonym of the HASH policy): equal values give equal
// indexes, and without the key a reader of the database cannot test guesses (36,500 plausible birth
// dates would be a trivial dictionary for a plain hash). The value starts with a fingerprint of the key
// (`<fp>:<hmac>`), so the start-up pass can find and recompute indexes made under another key.

/** Encrypted columns that carry a blind index, and the column that holds it. */
export const BLIND_INDEXES = { 'customers.birth_date': 'birth_date_bidx' } as const satisfies Partial<Record<EncryptedColumn, string>>;
export type BlindIndexedColumn = keyof typeof BLIND_INDEXES;

export interface BlindIndexKey { key: Buffer; fingerprint: string }

/** A blind-index key from PRIVACY_HASH_KEY (resolvePrivacyHashKey); the fingerprint names it in stored values. */
export function blindIndexKey(privacyHashKey: string): BlindIndexKey {
  const key = Buffer.from(privacyHashKey, 'utf8');
  const fingerprint = createHash('sha256').update('c360 blind index key\u0000').update(key).digest('base64url').slice(0, 8);
  return { key, fingerprint };
}

let currentBlindKey: BlindIndexKey | null = null;

/** Sets the blind-index key of this process (start-up, CLIs, tests), next to configureFieldEncryption. */
export function configureBlindIndexKey(privacyHashKey: string): void {
  currentBlindKey = blindIndexKey(privacyHashKey);
}

export function fieldBlindIndexKey(): BlindIndexKey {
  if (!currentBlindKey) throw new KeyringError('blind indexes are not configured (configureBlindIndexKey was not called)');
  return currentBlindKey;
}

export function blindIndexWith(k: BlindIndexKey, column: BlindIndexedColumn, normalized: string): string {
  return `${k.fingerprint}:${createHmac('sha256', k.key).update(column).update('\u0000').update(normalized).digest('base64url')}`;
}

/** Blind index of a clear value with the process key; null stays null. */
export function blindIndex(column: BlindIndexedColumn, normalized: string | null | undefined): string | null {
  if (normalized === null || normalized === undefined) return null;
  return blindIndexWith(fieldBlindIndexKey(), column, normalized);
}
