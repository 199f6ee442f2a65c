import type { tagDefinitions } from '../../db/schema/index';

export type TagDefinitionRow = typeof tagDefinitions.$inferSelect;
export interface CustomerTagRow {
  customerId: string;
  tag: TagDefinitionRow;
  value: string | null;
  source: string;
  actor: string | null;
  confidence: string | null;
  assignedAt: Date;
  expiresAt: Date | null;
}
export interface TagChangeRow {
  __typename?: 'TagChange';
  id: string;
  customerId: string;
  tagId: string;
  action: string;
  value: string | null;
  previousValue: string | null;
  source: string;
  actor: string | null;
  occurredAt: Date;
  /** occurred_at with microseconds, for cursors. */
  occurredKey: string;
}

export type TagDefinitionMapper = TagDefinitionRow;
export type CustomerTagMapper = CustomerTagRow;
export type TagChangeMapper = TagChangeRow;
