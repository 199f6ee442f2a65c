import type { Db } from '../../db/client';
import { batched, groupByKeys, orderByKeys, pagedLoader, type PagedKey } from '../../lib/batch';
import type { CustomerRelation } from '../../lib/prefetch';
import type { Loaders } from '../../loaders';
import type { CustomerTagRow, LifecycleChangeRow, RfmRow, TagChangeRow, TagDefinitionRow, TagRuleRow, TagRuleRunRow } from './tags.mappers';
import * as repo from './tags.repository';

export type TagHistoryKey = PagedKey<repo.TagHistoryArgs>;
export type LifecycleHistoryKey = PagedKey<{ limit: number }>;
export interface RuleRunsKey { ruleId: string; limit: number }

/** The tag loaders as factories: src/loaders.ts makes each one on its first use in a request. */
export const tagLoaders = {
  tagDefinitionById: (db: Db) => batched<string, TagDefinitionRow | null>(db, async (ids) =>
    orderByKeys(ids, await repo.tagDefinitionsByIds(db, ids), (r) => r.id)),
  tagsByCustomerId: (db: Db) => batched<string, CustomerTagRow[]>(db, async (ids) =>
    groupByKeys(ids, await repo.tagsByCustomerIds(db, ids), (r) => r.customerId)),
  tagChangeById: (db: Db) => batched<string, TagChangeRow | null>(db, async (ids) =>
    orderByKeys(ids, await repo.tagChangesByIds(db, ids), (r) => r.id)),
  tagCustomerCount: (db: Db) => batched<string, number>(db, async (ids) =>
    orderByKeys(ids, await repo.tagCustomerCounts(db, ids), (r) => r.tagId).map((r) => r?.n ?? 0)),
  tagUsagesByTagId: (db: Db) => batched<string, repo.TagUsageRow[]>(db, async (ids) =>
    groupByKeys(ids, await repo.tagUsages(db, ids), (r) => r.tagId)),
  tagRuleById: (db: Db) => batched<string, TagRuleRow | null>(db, async (ids) =>
    orderByKeys(ids, await repo.tagRulesByIds(db, ids), (r) => r.id)),
  ruleCustomerCount: (db: Db) => batched<string, number>(db, async (ids) =>
    orderByKeys(ids, await repo.ruleCustomerCounts(db, ids), (r) => r.ruleId).map((r) => r?.n ?? 0)),
  ruleRuns: (db: Db) => batched<RuleRunsKey, TagRuleRunRow[], string>(db, async (keys) => {
    const byLimit = new Map<number, string[]>();
    for (const k of keys) byLimit.set(k.limit, [...(byLimit.get(k.limit) ?? []), k.ruleId]);
    const results = new Map<string, TagRuleRunRow[]>();
    for (const [limit, ids] of byLimit) {
      for (const [ruleId, runs] of await repo.ruleRuns(db, [...new Set(ids)], limit)) results.set(`${limit}|${ruleId}`, runs);
    }
    return keys.map((k) => results.get(`${k.limit}|${k.ruleId}`) ?? []);
  }, { cacheKeyFn: (k) => `${k.limit}|${k.ruleId}` }),
  tagHistoryPage: (db: Db) => pagedLoader<repo.TagHistoryArgs, TagChangeRow[]>(db, (ids, args) => repo.tagHistories(db, ids, args), () => []),
  lifecycleHistoryPage: (db: Db) => pagedLoader<{ limit: number }, LifecycleChangeRow[]>(db, (ids, args) => repo.lifecycleHistories(db, ids, args.limit), () => []),
  rfmByCustomerId: (db: Db) => batched<string, RfmRow | null>(db, async (ids) =>
    orderByKeys(ids, await repo.rfmByCustomerIds(db, ids), (r) => r.customerId)),
};

/** Look-ahead batching of Customer.tags (see src/lib/prefetch.ts). */
export const tagRelations: CustomerRelation<Loaders>[] = [
  {
    field: 'tags',
    plan(ids) {
      return {
        query: repo.tagsByCustomerIdsQuery(ids),
        prime(rows, loaders) {
          const lists = groupByKeys(ids, repo.mapCustomerTags(rows as repo.CustomerTagDbRow[]), (r) => r.customerId);
          ids.forEach((id, i) => loaders.tagsByCustomerId.prime(id, lists[i] ?? []));
        },
      };
    },
  },
];
