/**
 * What the commerce domain offers the rest of the gateway. Other code imports this file, never the
 * domain's repositories or other files (an ESLint rule holds it); the registry reads module.ts.
 */
export type { TransactionRow } from './commerce.mappers';
export { mapTransaction } from './commerce.repository';
export type { TxDbRow } from './commerce.repository';
