import type { SQL } from 'drizzle-orm';
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../../context';
import { execParts, type Db } from '../../db/client';
import { batched, noteBatch } from '../../lib/batch';
import { selectedCustomerFields, type CustomerRelation } from '../../lib/prefetch';
import type { Loaders } from '../../loaders';
import { modules } from '../index';
import { customerRowsPart } from './profile.loaders';
import type { CustomerRow } from './profile.mappers';

let relations: readonly CustomerRelation<Loaders>[] | undefined;
/** Relations of Customer that a root field can fetch ahead for all its customers in one statement: every module's, in registry order. */
export const customerRelations = (): readonly CustomerRelation<Loaders>[] =>
  (relations ??= modules.flatMap((m): readonly CustomerRelation<Loaders>[] => ('relations' in m ? m.relations : [])));

interface Part { query: SQL; keys: number; prime(rows: unknown[], loaders: Loaders): void }
/** The selected relations with their arguments; `sig` identifies the plan (same selection, same arguments). */
interface Plan { relations: { relation: CustomerRelation<Loaders>; args: Record<string, unknown> }[]; sig: string }

function planFor(info: GraphQLResolveInfo, path: readonly string[]): Plan {
  const selected = selectedCustomerFields(info, path);
  const chosen = customerRelations().flatMap((relation) => {
    const args = selected.get(relation.field);
    return args ? [{ relation, args }] : [];
  });
  return { relations: chosen, sig: JSON.stringify(chosen.map((r) => [r.relation.field, r.args])) };
}

function partsFor(plan: Plan, ids: readonly string[]): Part[] {
  return plan.relations.flatMap(({ relation, args }) => {
    try {
      const part = relation.plan(ids, args);
      return part ? [{ ...part, keys: ids.length }] : [];
    } catch {
      // Invalid arguments (e.g. first: 1000): the field's resolver reports them at its own path.
      return [];
    }
  });
}

async function run(db: Db, loaders: Loaders, parts: Part[]): Promise<void> {
  if (parts.length === 0) return;
  let results: unknown[][];
  try {
    results = await execParts(db, parts.map((p) => p.query));
  } catch {
    // Look-ahead is an optimization: when the combined statement fails, nothing is primed and every
    // field loads through its own loader, so a failure surfaces at the path of the field it belongs to.
    return;
  }
  // Each relation part is one batch over all parents, like the loader batch it replaces (/metrics).
  parts.forEach((p, i) => { noteBatch(db, p.keys); p.prime(results[i] ?? [], loaders); });
}

/**
 * Fills the loaders of every Customer relation the operation selects below the current field (at
 * `path`, e.g. ['edges', 'node'] for a connection) for all `ids` with one statement. The child
 * resolvers then find their loaders primed (the same rows their own batch would return).
 */
export async function prefetchCustomerRelations(ctx: Context, info: GraphQLResolveInfo, path: readonly string[], ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await run(ctx.db, ctx.loaders, partsFor(planFor(info, path), ids));
}

interface Customer360Key { id: string; plan: Plan }

/**
 * `customer(id)` with the relations the operation selects: one statement for every `customer`
 * root field of the request that shares the same selection (aliases batch like any loader).
 * With a row scope (partner keys) the customers are read first and relations only for those the
 * viewer may see, so nothing is ever fetched for a customer outside the scope.
 */
export function createCustomer360Loader(db: Db, rowScope: SQL | undefined, loaders: () => Loaders) {
  return batched<Customer360Key, CustomerRow | null, string>(db, async (keys) => {
    const l = loaders();
    const groups = new Map<string, { plan: Plan; ids: Set<string> }>();
    for (const k of keys) {
      const g = groups.get(k.plan.sig) ?? { plan: k.plan, ids: new Set<string>() };
      g.ids.add(k.id);
      groups.set(k.plan.sig, g);
    }
    await Promise.all([...groups.values()].map(async ({ plan, ids }) => {
      if (rowScope) {
        const rows = await l.customerById.loadMany([...ids]);
        const visible = rows.flatMap((r) => (r && !(r instanceof Error) ? [r.id] : []));
        if (visible.length) await run(db, l, partsFor(plan, visible));
        return;
      }
      const parts = partsFor(plan, [...ids]);
      if (parts.length) await run(db, l, [{ ...customerRowsPart([...ids], undefined), keys: ids.size }, ...parts]);
    }));
    return l.customerById.loadMany(keys.map((k) => k.id)) as Promise<(CustomerRow | null)[]>;
  }, { cacheKeyFn: (k) => `${k.plan.sig}|${k.id}` });
}

/** One customer by id with every relation the operation selects below the current field. */
export function loadCustomer360(ctx: Context, info: GraphQLResolveInfo, id: string): Promise<CustomerRow | null> {
  return ctx.loaders.customer360.load({ id, plan: planFor(info, []) });
}
