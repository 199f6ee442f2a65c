import type { GraphQLError } from 'graphql';
import type { RuleTree } from '../auth/permissions';
import type { Viewer } from '../auth/viewer';
import { forbidden } from '../errors';

/**
 * Asks the shield rule tree (the same rule objects the resolver path runs) about a field, for one
 * viewer, at plan time. Only rules that read nothing but the context (graphql-shield's `contextual`
 * cache, and logic rules made of such rules) can be answered without data; any other rule makes the
 * field not compilable.
 */
export type Verdict = { kind: 'allow' } | { kind: 'refuse'; error: () => GraphQLError } | { kind: 'dynamic' };

interface ShieldRuleLike {
  resolve(parent: unknown, args: unknown, ctx: unknown, info: unknown, options: unknown): Promise<unknown>;
  cache?: unknown;
  func?: unknown;
  getRules?: () => ShieldRuleLike[];
}

const isRule = (x: unknown): x is ShieldRuleLike =>
  typeof x === 'object' && x !== null && typeof (x as { resolve?: unknown }).resolve === 'function';

/** The rule graphql-shield applies to `type.field`: the type's rule, the field's, the type's `*`, or deny. */
export function ruleOf(tree: RuleTree, type: string, field: string): ShieldRuleLike | undefined {
  const t = tree[type];
  if (t === undefined) return undefined;
  if (isRule(t)) return t;
  const r = (t as Record<string, unknown>)[field] ?? (t as Record<string, unknown>)['*'];
  return isRule(r) ? r : undefined;
}

function viewerOnly(rule: ShieldRuleLike): boolean {
  if (typeof rule.getRules === 'function') return rule.getRules().every(viewerOnly);
  return rule.cache === 'contextual';
}

/** Options as src/auth/permissions.ts gives them to shield (debug off: a throwing rule counts as false). */
const OPTIONS = { debug: false, allowExternalErrors: true, fallbackError: () => forbidden() };

export async function verdictFor(tree: RuleTree, type: string, field: string, viewer: Viewer): Promise<Verdict> {
  const rule = ruleOf(tree, type, field);
  // No rule at all: shield's fallback rule (deny) answers with its fallback error.
  if (!rule) return { kind: 'refuse', error: () => forbidden() };
  if (!viewerOnly(rule)) return { kind: 'dynamic' };
  const res = await rule.resolve(undefined, {}, { viewer, _shield: { cache: {} } }, undefined, OPTIONS);
  if (res === true) return { kind: 'allow' };
  if (res === false) return { kind: 'refuse', error: () => forbidden() };
  // A rule that answers with its own error: not reproduced at plan time.
  return { kind: 'dynamic' };
}
