import type { customers, consents } from '../../db/schema/index';
import type { Connection, Edge } from '../../lib/pagination';

export type CustomerRow = typeof customers.$inferSelect;
export type ConsentRow = Pick<typeof consents.$inferSelect, 'customerId' | 'purpose' | 'status' | 'source' | 'recordedAt'>;
export interface IdentityRow { customerId: string; source: string; externalId: string }

export type CustomerMapper = CustomerRow;
export type CustomerEdgeMapper = Edge<CustomerRow>;
export type CustomerConnectionMapper = Connection<CustomerRow>;
export type ConsentMapper = ConsentRow;
