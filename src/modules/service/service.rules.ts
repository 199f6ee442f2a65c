import { hasRole, reachable, scoped } from '../../auth/rules';
import type { RuleTree } from '../../auth/permissions';
import type { PrivacyPolicy } from '../../auth/privacy';

export const serviceRules: RuleTree = {
  Mutation: {
    recordInteraction: hasRole('ADMIN', 'AGENT'),
  },
  Customer: { interactions: scoped('interactions:read') },
  Interaction: reachable,
  InteractionEdge: reachable,
  InteractionConnection: reachable,
  RecordInteractionPayload: reachable,
};

/** Support texts may quote the customer; staff names are personal data too. */
export const servicePrivacy: PrivacyPolicy = {
  'Interaction.subject': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'ALLOW', ANALYST: 'NULL', PARTNER: 'NULL' },
  'Interaction.summary': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'NULL', ANALYST: 'NULL', PARTNER: 'NULL' },
  'Interaction.agent': { ADMIN: 'ALLOW', AGENT: 'ALLOW', MARKETER: 'NULL', ANALYST: 'NULL', PARTNER: 'NULL' },
};
