import { can, reachable, READERS, scoped } from '../../auth/rules';
import type { RuleTree } from '../../auth/permissions';
import type { PrivacyPolicy } from '../../auth/privacy';

export const tagRules: RuleTree = {
  Query: {
    tagDefinitions: can(READERS, 'tags:read'),
  },
  Mutation: {
    assignTag: can(['ADMIN', 'AGENT', 'MARKETER'], 'tags:write'),
    removeTag: can(['ADMIN', 'AGENT', 'MARKETER'], 'tags:write'),
  },
  Customer: { tags: scoped('tags:read') },
  TagDefinition: reachable,
  CustomerTag: reachable,
  TagChange: reachable,
  AssignTagPayload: reachable,
  RemoveTagPayload: reachable,
};

/** Who tagged a customer is a staff user id. */
export const tagPrivacy: PrivacyPolicy = {
  'CustomerTag.actor': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'ALLOW', ANALYST: 'NULL', PARTNER: 'NULL' },
  'TagChange.actor': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'ALLOW', ANALYST: 'NULL', PARTNER: 'NULL' },
};
