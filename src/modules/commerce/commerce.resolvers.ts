import type {
  CustomerResolvers, MutationResolvers, Resolvers, TransactionStatus, TransactionType,
} from '../../__generated__/resolvers-types';
import { toGlobalId } from '../../lib/global-id';
import { toConnection } from '../../lib/pagination';
import { transactionPageRequest } from './commerce.loaders';
import { recordTransaction } from './commerce.service';
import { afterCustomerWrite } from '../tags';

const Customer: CustomerResolvers = {
  transactions: async (c, a, ctx) => {
    const { page, args, argsKey } = transactionPageRequest(c.id, a);
    const rows = await ctx.loaders.transactionPage.load({ customerId: c.id, args, argsKey });
    return toConnection(rows.rows, page.limit, a.after, page.cursorOf, rows.totalCount);
  },
};

const Mutation: MutationResolvers = {
  recordTransaction: async (_p, { input }, ctx) => {
    const r = await recordTransaction(ctx.db, ctx.config, input);
    if (r.transaction) {
      ctx.audit.noteAction('WRITE', r.transaction.customerId, ['recordTransaction']);
      // Tag rules and the lifecycle stage follow the write (restricted to this customer).
      await afterCustomerWrite(ctx.db, ctx.config, [r.transaction.customerId]);
    }
    return r;
  },
};

export const commerceResolvers: Resolvers = {
  Customer,
  Mutation,
  Transaction: {
    id: (t) => toGlobalId('Transaction', t.id),
    type: (t) => t.type as TransactionType,
    status: (t) => t.status as TransactionStatus,
    amount: (t) => ({ amount: t.amount, currency: t.currency }),
    amountInBaseCurrency: (t, _a, ctx) => ({ amount: t.amountBase, currency: ctx.config.baseCurrency }),
    items: (t, _a, ctx) => t.items ?? ctx.loaders.itemsByTransactionId.load(t.id),
  },
  TransactionItem: {
    unitPrice: (i) => ({ amount: i.unitPrice, currency: i.currency }),
  },
};
