import { can, hasRole, reachable, READERS, scoped } from '../../auth/rules';
import type { RuleTree } from '../../auth/permissions';
import type { PrivacyPolicy } from '../../auth/privacy';

export const profileRules: RuleTree = {
  Query: {
    customer: can(READERS, 'customers:read'),
    customerByExternalId: can(READERS, 'customers:read'),
    customers: can(READERS, 'customers:read'),
    explainCustomerFilter: can(READERS, 'customers:read'),
  },
  Mutation: {
    upsertCustomer: hasRole('ADMIN', 'AGENT'),
    recordConsent: hasRole('ADMIN', 'AGENT'),
  },
  // Other domains add their relation fields (tags, transactions, ...) to this map.
  Customer: { '*': reachable, consents: scoped('consents:read'), consentHistory: scoped('consents:read') },
  ConsentRecord: reachable,
  RecordConsentPayload: reachable,
  CustomerEdge: reachable,
  CustomerConnection: reachable,
  Address: reachable,
  ExternalId: reachable,
  Consent: reachable,
  UpsertCustomerPayload: reachable,
  FilterExplanation: reachable,
};

/**
 * Privacy of the profile's personal data, per role (see src/auth/privacy.ts for the actions).
 * AGENT (service desk) sees contact data; MARKETER gets it masked; ANALYST gets pseudonyms for
 * identifiers and no names or contact data. PARTNER: the column applies to fields missing from the
 * key's field allow-list (allow-listed fields are ALLOW).
 */
export const profilePrivacy: PrivacyPolicy = {
  'Customer.displayName': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'ALLOW', ANALYST: 'HASH', PARTNER: 'HASH' },
  'Customer.firstName': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'ALLOW', ANALYST: 'NULL', PARTNER: 'NULL' },
  'Customer.lastName': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'ALLOW', ANALYST: 'NULL', PARTNER: 'NULL' },
  'Customer.email': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'MASK', ANALYST: 'HASH', PARTNER: 'NULL' },
  'Customer.phone': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'MASK', ANALYST: 'HASH', PARTNER: 'NULL' },
  'Customer.birthDate': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'MASK', ANALYST: 'MASK', PARTNER: 'NULL' },
  // DENY for everyone but ADMIN and AGENT (last four characters), and no partner allow-list opens it.
  'Customer.nationalId': { ADMIN: 'ALLOW', AGENT: 'MASK', MARKETER: 'DENY', ANALYST: 'DENY', PARTNER: 'DENY' },
  'Customer.address': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'MASK', ANALYST: 'MASK', PARTNER: 'NULL' },
  'ExternalId.externalId': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'ALLOW', ANALYST: 'HASH', PARTNER: 'HASH' },
};
