import type { customerRfm, tagDefinitions, tagRuleRuns, tagRules } from '../../db/schema/index';

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
  ruleId: string | null;
  ruleVersion: number | null;
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
  reason?: string | null;
  ruleId?: string | null;
  ruleVersion?: number | null;
  confidence?: string | null;
}
export type TagRuleRow = typeof tagRules.$inferSelect & { __typename?: 'TagRule' };
export type TagRuleRunRow = typeof tagRuleRuns.$inferSelect;
/** A customer's RFM row with the refresh it is as of (`rfm_refresh`). */
export type RfmRow = typeof customerRfm.$inferSelect & { recencyDays: number; computedAt: Date };
export interface LifecycleChangeRow {
  id: string;
  customerId: string;
  fromStage: string | null;
  toStage: string;
  reason: string;
  occurredAt: Date;
}

export type TagDefinitionMapper = TagDefinitionRow;
export type CustomerTagMapper = CustomerTagRow;
export type TagChangeMapper = TagChangeRow;
export type TagRuleMapper = TagRuleRow;
export type TagRuleRunMapper = TagRuleRunRow;
export type RfmMapper = RfmRow;
export type LifecycleChangeMapper = LifecycleChangeRow;
