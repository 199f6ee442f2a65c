import { checkRenderingAgainstDrizzle } from '../../src/db/render';
import { configureBlindIndexKey, configureFieldEncryption, parseKeyring } from '../../src/lib/crypto';

/** Test keys of the encrypted columns (startApp passes the same ones to the server). */
export const TEST_ENCRYPTION_KEYS = 'test1:dGVzdC1rZXktb2YtdGhlLWVuY3J5cHRlZC1jb2x1bW4=';

/** PRIVACY_HASH_KEY of the tests (startApp passes it to the server; blind indexes are keyed with it). */
export const TEST_HASH_KEY = 'test-privacy-hash-key-0123456789-abcdefghijklmnop';

// Every test worker encrypts, decrypts and computes blind indexes like the server does, also without startApp (seed tests).
configureFieldEncryption(parseKeyring(TEST_ENCRYPTION_KEYS));
configureBlindIndexKey(TEST_HASH_KEY);

// Every statement the fast path renders in the tests is also rendered by Drizzle and must be identical.
checkRenderingAgainstDrizzle(true);
