import { scoped } from '../../auth/rules';
import type { RuleTree } from '../../auth/permissions';

/** Contactability reads consents: the same rule as `Customer.consents`. */
export const contactabilityRules: RuleTree = {
  Customer: { contactable: scoped('consents:read') },
};
