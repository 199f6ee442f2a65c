import { hasRole, reachable, scoped } from '../../auth/rules';
import type { RuleTree } from '../../auth/permissions';

export const commerceRules: RuleTree = {
  Mutation: {
    recordTransaction: hasRole('ADMIN', 'AGENT'),
  },
  Customer: { transactions: scoped('transactions:read') },
  Transaction: reachable,
  TransactionItem: reachable,
  TransactionEdge: reachable,
  TransactionConnection: reachable,
  RecordTransactionPayload: reachable,
};
