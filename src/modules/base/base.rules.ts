import { can, isAuthenticated, reachable, READERS } from '../../auth/rules';
import type { RuleTree } from '../../auth/permissions';

export const baseRules: RuleTree = {
  Query: {
    node: can(READERS, 'customers:read'),
    viewer: isAuthenticated,
  },
  PageInfo: reachable,
  Money: reachable,
  UserError: reachable,
  Viewer: reachable,
};
