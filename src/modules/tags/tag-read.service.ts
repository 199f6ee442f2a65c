import type { Db } from '../../db/client';
import type { TagRuleRow } from './tags.mappers';
import { listTagRules } from './tags.repository';

/** Rule lists for `tagRules` (small table: no loader needed). */
export const listRules = (db: Db, enabled: boolean | null): Promise<TagRuleRow[]> => listTagRules(db, enabled);
