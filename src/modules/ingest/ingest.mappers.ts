import type { UserError } from '../../errors';
import type { CustomerRow } from '../profile';
import type { MergeRow } from './merge.repository';

export interface FieldSourceRow { customerId: string; field: string; source: string; updatedAt: Date; rule: string }
export type CustomerMergeMapper = MergeRow;
export interface DuplicateCandidateMapper { customerIds: string[]; score: number; reasons: string[] }
export interface MergePreviewMapper {
  survivorId: string | null;
  mergedIds: string[];
  result: CustomerRow | null;
  fieldSources: FieldSourceRow[];
  userErrors: UserError[];
}
export type FieldSourceMapper = FieldSourceRow;
export interface MergeCustomersPayloadMapper { mergeId: string | null; survivorId: string | null; userErrors: UserError[] }
export interface UnmergeCustomersPayloadMapper { customerIds: string[]; userErrors: UserError[] }
