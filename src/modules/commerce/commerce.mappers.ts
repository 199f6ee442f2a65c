import type { Connection, Edge } from '../../lib/pagination';

export interface TransactionItemRow {
  sku: string;
  productName: string;
  category: string | null;
  quantity: number;
  unitPrice: string;
  currency: string;
}
export interface TransactionRow {
  __typename?: 'Transaction';
  id: string;
  customerId: string;
  source: string;
  externalId: string;
  occurredAt: Date;
  /** occurred_at with microseconds, for cursors. */
  occurredKey: string;
  type: string;
  status: string;
  channel: string | null;
  store: string | null;
  currency: string;
  amount: string;
  amountBase: string;
  /** Present when the batch that loaded the transaction also loaded its lines. */
  items?: TransactionItemRow[];
}

export type TransactionMapper = TransactionRow;
export type TransactionItemMapper = TransactionItemRow;
export type TransactionEdgeMapper = Edge<TransactionRow>;
export type TransactionConnectionMapper = Connection<TransactionRow>;
