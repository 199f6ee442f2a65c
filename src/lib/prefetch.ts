import {
  getArgumentValues, isObjectType, Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode,
} from 'graphql';
import type { SQL } from 'drizzle-orm';
import type { PagedKey } from './batch';

/**
 * Look-ahead batching for a customer 360. A root resolver that returns customers (`customer`,
 * `customers`) can see which relations of `Customer` the operation selects below it, fetch all of
 * them for all its customers in ONE statement (each relation's own batch query, see `execParts`),
 * and prime the per-request DataLoaders with the results. The child resolvers then run exactly as
 * before and find their loader already filled: same code path, same rows, one round trip instead of
 * one per relation. Anything the plan does not cover (aliases of a relation with other arguments,
 * arguments that fail validation) simply goes through the loaders as usual.
 */
export interface CustomerRelation<L> {
  /** The `Customer` field this relation serves. */
  field: string;
  /**
   * The batch query for `ids` given the field's arguments, and how to put its rows into the
   * loaders. Throws (e.g. BAD_USER_INPUT) when the arguments are invalid, or returns null when the
   * relation cannot be batched: it is then left to its resolver, which reports any error at the right path.
   */
  plan(ids: readonly string[], args: Record<string, unknown>): { query: SQL; prime(rows: unknown[], loaders: L): void } | null;
}

/** The selected fields of `Customer` below the current field at `path` (e.g. ['edges', 'node']), first occurrence of each name. */
export function selectedCustomerFields(info: GraphQLResolveInfo, path: readonly string[]): Map<string, Record<string, unknown>> {
  let sets: SelectionSetNode[] = info.fieldNodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
  for (const step of path) sets = collect(info, sets).filter((f) => f.name.value === step).flatMap((f) => (f.selectionSet ? [f.selectionSet] : []));
  const customer = info.schema.getType('Customer');
  const out = new Map<string, Record<string, unknown>>();
  if (!isObjectType(customer)) return out;
  const defs = customer.getFields();
  for (const node of collect(info, sets)) {
    const name = node.name.value;
    const def = defs[name];
    if (!def || out.has(name) || def.args.length === 0 && !node.selectionSet) continue;
    try {
      out.set(name, getArgumentValues(def, node, info.variableValues));
    } catch {
      // Invalid arguments: the field's own resolver reports them at its path.
    }
  }
  return out;
}

/** Field nodes of the selection sets, through inline fragments and fragment spreads. */
function collect(info: GraphQLResolveInfo, sets: readonly SelectionSetNode[]): FieldNode[] {
  const out: FieldNode[] = [];
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode) => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) out.push(sel);
      else if (sel.kind === Kind.INLINE_FRAGMENT) visit(sel.selectionSet);
      else if (!seen.has(sel.name.value)) {
        seen.add(sel.name.value);
        const frag = info.fragments[sel.name.value];
        if (frag) visit(frag.selectionSet);
      }
    }
  };
  for (const s of sets) visit(s);
  return out;
}

/**
 * A paginated child list (transactions, interactions, timeline) as a look-ahead relation: the loader
 * key is (customer, page arguments), so the field's own arguments decide what is primed.
 */
export function pagedRelation<L, A, P>(spec: {
  field: string;
  /** The page request of one customer's list (cursors are bound to their customer). */
  request(customerId: string, fieldArgs: Record<string, unknown>): { args: A; argsKey: string };
  query(ids: readonly string[], args: A): SQL;
  /** Rows of the batch query -> page per customer id. */
  pages(rows: unknown[]): Map<string, P>;
  loader(loaders: L): { prime(key: PagedKey<A>, value: P): unknown };
  empty(): P;
}): CustomerRelation<L> {
  return {
    field: spec.field,
    plan(ids, fieldArgs) {
      // Without a cursor the page arguments are the same for every customer. A cursor belongs to one
      // customer's list: with several customers each resolver checks it (and reports it) at its own path.
      if (fieldArgs.after != null && ids.length !== 1) return null;
      const { args, argsKey } = spec.request(ids[0] ?? '', fieldArgs);
      return {
        query: spec.query(ids, args),
        prime(rows, loaders) {
          const pages = spec.pages(rows);
          const loader = spec.loader(loaders);
          for (const id of ids) loader.prime({ customerId: id, args, argsKey }, pages.get(id) ?? spec.empty());
        },
      };
    },
  };
}
