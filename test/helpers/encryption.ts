import { configureFieldEncryption, parseKeyring } from '../../src/lib/crypto';

/** Test keys of the encrypted columns (startApp passes the same ones to the server). */
export const TEST_ENCRYPTION_KEYS = 'test1:dGVzdC1rZXktb2YtdGhlLWVuY3J5cHRlZC1jb2x1bW4=';

// Every test worker encrypts and decrypts like the server does, also without startApp (seed tests).
configureFieldEncryption(parseKeyring(TEST_ENCRYPTION_KEYS));
