import { allow } from 'graphql-shield';
import { can, hasRole, reachable, READERS, scoped } from '../../auth/rules';
import type { RuleTree } from '../../auth/permissions';
import type { PrivacyPolicy } from '../../auth/privacy';

/** Who writes tags by hand: ADMIN, AGENT, MARKETER (and keys with tags:write). */
const tagWriters = can(['ADMIN', 'AGENT', 'MARKETER'], 'tags:write');
/** Taxonomy and rules: ADMIN and MARKETER users only. */
const curators = hasRole('ADMIN', 'MARKETER');

export const tagRules: RuleTree = {
  Query: {
    tagDefinitions: can(READERS, 'tags:read'),
    tagRules: curators,
    tagRule: curators,
    previewTagRule: curators,
  },
  Mutation: {
    assignTag: tagWriters,
    removeTag: tagWriters,
    bulkAssignTag: tagWriters,
    bulkRemoveTag: tagWriters,
    createTagDefinition: curators,
    updateTagDefinition: curators,
    renameTagDefinition: curators,
    mergeTagDefinitions: curators,
    deprecateTagDefinition: curators,
    createTagRule: curators,
    updateTagRule: curators,
    enableTagRule: curators,
    disableTagRule: curators,
    runTagRule: curators,
  },
  Customer: {
    tags: scoped('tags:read'),
    tagHistory: scoped('tags:read'),
    lifecycleHistory: scoped('customers:read'),
  },
  // Population counts and the rules behind a tag are for staff, not partner keys (their row scope
  // does not apply to a count over all customers).
  TagDefinition: { '*': allow, customerCount: hasRole(...READERS), usedBy: curators },
  CustomerTag: { '*': allow, rule: curators },
  TagChange: { '*': allow, rule: curators },
  TagUsage: reachable,
  TagRule: reachable,
  TagRuleRun: reachable,
  TagValueFrom: reachable,
  TagValueBand: reachable,
  TagRulePayload: reachable,
  TagRulePreview: reachable,
  TagDefinitionPayload: reachable,
  MergeTagDefinitionsPayload: reachable,
  BulkTagPayload: reachable,
  LifecycleChange: reachable,
  Rfm: reachable,
  AssignTagPayload: reachable,
  RemoveTagPayload: reachable,
};

/** Who tagged a customer is a staff user id. */
export const tagPrivacy: PrivacyPolicy = {
  'CustomerTag.actor': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'ALLOW', ANALYST: 'NULL', PARTNER: 'NULL' },
  'TagChange.actor': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'ALLOW', ANALYST: 'NULL', PARTNER: 'NULL' },
};
