/**
 * What the admin domain offers the rest of the gateway. Other code imports this file, never the
 * domain's repositories or other files (an ESLint rule holds it); the registry reads module.ts.
 */
export { looksLikeApiKey, verifyApiKey } from './admin.service';
export type { Scope } from './admin.service';
export { apikeyCommand } from './apikey.command';
export { identityHashes, isErased } from './gdpr.service';
export { countPending, encryptRemainingPlaintext, fillBlindIndexes, reencryptAll } from './keys.service';
