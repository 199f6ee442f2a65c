import { hasRole, reachable } from '../../auth/rules';
import type { RuleTree } from '../../auth/permissions';

/**
 * Identity resolution is data stewardship: ADMIN and AGENT (the service desk finds and merges
 * duplicates). Provenance and quality of a profile ride on `Customer` (reachable like its other fields).
 */
export const ingestRules: RuleTree = {
  Query: {
    duplicateCandidates: hasRole('ADMIN', 'AGENT'),
    previewMerge: hasRole('ADMIN', 'AGENT'),
  },
  Mutation: {
    mergeCustomers: hasRole('ADMIN', 'AGENT'),
    unmergeCustomers: hasRole('ADMIN', 'AGENT'),
  },
  FieldSource: reachable,
  CustomerQuality: reachable,
  DuplicateCandidate: reachable,
  MergePreview: reachable,
  CustomerMerge: reachable,
  MergeCustomersPayload: reachable,
  UnmergeCustomersPayload: reachable,
};
