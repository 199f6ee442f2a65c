/**
 * What every CLI that opens the database does first, as the gateway does at start-up: the keyring of the
 * encrypted columns and the blind-index key (ENCRYPTION_KEYS / PRIVACY_HASH_KEY, or the development secrets).
 * Without it, reading or writing an encrypted column fails ("field encryption is not configured").
 */
import { resolvePrivacyHashKey } from '../auth/privacy';
import type { Config } from '../config';
import { configureBlindIndexKey, configureFieldEncryption, resolveKeyring } from '../lib/crypto';

export function configureCrypto(config: Config): void {
  configureFieldEncryption(resolveKeyring(config));
  configureBlindIndexKey(resolvePrivacyHashKey(config));
}
