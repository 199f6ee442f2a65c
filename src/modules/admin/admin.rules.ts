import { hasRole, reachable } from '../../auth/rules';
import type { RuleTree } from '../../auth/permissions';

/** Key management is for ADMIN users only (not for service accounts acting as ADMIN). */
export const adminRules: RuleTree = {
  Query: { apiKeys: hasRole('ADMIN'), exportCustomerData: hasRole('ADMIN'), auditLog: hasRole('ADMIN') },
  AuditEntry: reachable,
  Mutation: { createApiKey: hasRole('ADMIN'), revokeApiKey: hasRole('ADMIN'), eraseCustomer: hasRole('ADMIN') },
  CustomerDataExport: reachable,
  EraseCustomerPayload: reachable,
  ApiKey: reachable,
  CreateApiKeyPayload: reachable,
  RevokeApiKeyPayload: reachable,
};
