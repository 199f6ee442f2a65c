import type { apiKeys } from '../../db/schema/index';

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type ApiKeyMapper = ApiKeyRow;
export type { AuditRow as AuditEntryMapper } from './gdpr.service';
