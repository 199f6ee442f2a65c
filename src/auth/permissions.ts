import type { GraphQLSchema } from 'graphql';
import { allow, deny, shield, type IRules } from 'graphql-shield';

type ShieldRule = NonNullable<NonNullable<Parameters<typeof shield>[1]>['fallbackRule']>;
import { forbidden } from '../errors';

/** A domain's fragment of the shield tree: a rule per type, or per field of a type. */
export type RuleTree = Record<string, ShieldRule | Record<string, ShieldRule>>;

/** The whole tree: the union of every domain's fragment (src/schema.ts passes the registry's). A field defined twice is a bug. */
export function buildRuleTree(fragments: readonly RuleTree[]): RuleTree {
  const tree: RuleTree = {};
  for (const frag of fragments) {
    for (const [type, rule] of Object.entries(frag)) {
      const existing = tree[type];
      if (existing === undefined) {
        tree[type] = typeof rule === 'object' && !isRule(rule) ? { ...rule } : rule;
        continue;
      }
      if (isRule(existing) || isRule(rule)) throw new Error(`shield: type ${type} has rules in two places`);
      for (const [field, r] of Object.entries(rule)) {
        if (field in existing) throw new Error(`shield: ${type}.${field} has two rules`);
        existing[field] = r;
      }
    }
  }
  return tree;
}

function isRule(x: unknown): x is ShieldRule {
  return typeof x === 'object' && x !== null && typeof (x as { resolve?: unknown }).resolve === 'function';
}

/** Deny by default: a field without a rule answers FORBIDDEN. */
export function permissions(tree: RuleTree) {
  return shield(tree as IRules, {
    fallbackRule: deny,
    allowExternalErrors: true,
    fallbackError: () => forbidden(),
  });
}

type FieldMiddlewareMap = Record<string, Record<string, unknown>>;

/**
 * The shield middleware for a schema, minus the wrappers of fields whose rule is exactly `allow`
 * (types below a guarded root, `reachable`). Wrapping them changes nothing but costs a promise and a
 * rule evaluation per field per row; measured on the full 360 query it was most of the
 * authorization overhead. Fields without a rule keep the deny fallback: deny by default holds.
 */
export function permissionsFor(schema: GraphQLSchema, tree: RuleTree): FieldMiddlewareMap {
  const generated = (permissions(tree) as unknown as { generate(s: GraphQLSchema): FieldMiddlewareMap }).generate(schema);
  for (const [typeName, fields] of Object.entries(generated)) {
    const rule = tree[typeName];
    for (const fieldName of Object.keys(fields)) {
      const fieldRule = rule === undefined ? undefined : isRule(rule) ? rule : (rule[fieldName] ?? rule['*']);
      if (fieldRule === allow) delete fields[fieldName];
    }
  }
  return generated;
}
