import { isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildRuleTree, type RuleTree } from '../../src/auth/permissions';
import { buildBareSchema, ruleTree } from '../../src/schema';

const isFieldMap = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && typeof (x as { resolve?: unknown }).resolve !== 'function';

describe('shield rule tree', () => {
  const schema = buildBareSchema();
  const tree = ruleTree();

  it('has an explicit rule for every root field', () => {
    const missing: string[] = [];
    for (const root of ['Query', 'Mutation'] as const) {
      const type = schema.getType(root);
      if (!isObjectType(type)) throw new Error(`the schema has no ${root} type`);
      const rules = tree[root];
      for (const field of Object.keys(type.getFields())) {
        if (!isFieldMap(rules) || !(field in rules)) missing.push(`${root}.${field}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('covers every object type (the fallback would deny it)', () => {
    const uncovered = Object.values(schema.getTypeMap())
      .filter((t) => isObjectType(t) && !t.name.startsWith('__') && t.name !== 'Query' && t.name !== 'Mutation')
      .filter((t) => {
        const rule = tree[t.name];
        if (rule === undefined) return true;
        return isFieldMap(rule) && !('*' in rule) && isObjectType(t) && Object.keys(t.getFields()).some((f) => !(f in rule));
      })
      .map((t) => t.name);
    expect(uncovered).toEqual([]);
  });

  it('names only types and fields that exist (no rule lost to a typo)', () => {
    const unknown: string[] = [];
    for (const [typeName, rule] of Object.entries(tree)) {
      const type = schema.getType(typeName);
      if (!isObjectType(type)) { unknown.push(typeName); continue; }
      if (isFieldMap(rule)) {
        for (const field of Object.keys(rule)) if (field !== '*' && !(field in type.getFields())) unknown.push(`${typeName}.${field}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('refuses a field defined by two domains', () => {
    const rule = (tree.Query as Record<string, RuleTree[string]>).customer!;
    const frag = { Query: { customer: rule } } as RuleTree;
    expect(() => buildRuleTree([frag, frag])).toThrow(/two rules/);
  });
});
