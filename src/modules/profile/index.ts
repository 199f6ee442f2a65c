/**
 * What the profile domain offers the rest of the gateway. Other code imports this file, never the
 * domain's repositories or other files (an ESLint rule holds it); the registry reads module.ts.
 */
export { compileCustomerFilter, isBehavioural } from './customer-filter';
export type { CustomerRow } from './profile.mappers';
export { birthMonthOf, customersByIds, encryptCustomerFields } from './profile.repository';
export { explainCustomerFilter, listCustomers, lockSourceKey, resolveCustomerRef, validateSourceKey } from './profile.service';
