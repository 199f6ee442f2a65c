import { allow, and, rule, type IRule } from 'graphql-shield';
import type { Role } from '../__generated__/resolvers-types';
import type { Context } from '../context';
import type { Scope } from '../modules/admin';

/**
 * Shared shield rules. All read only the viewer, so they use the contextual cache (evaluated once
 * per request). Users are governed by their role; API keys by their role AND their scopes.
 */
export const isAuthenticated = rule({ cache: 'contextual' })((_p, _a, ctx: Context) => Boolean(ctx.viewer));

const memo = new Map<string, IRule>();
const cached = (name: string, make: () => IRule): IRule => {
  let r = memo.get(name);
  if (!r) { r = make(); memo.set(name, r); }
  return r;
};

/** Users with one of these roles (no API keys). */
export function hasRole(...roles: Role[]): IRule {
  const key = `hasRole:${[...roles].sort().join(',')}`;
  return cached(key, () => rule(key, { cache: 'contextual' })((_p, _a, ctx: Context) =>
    ctx.viewer?.kind === 'user' && roles.includes(ctx.viewer.role)));
}

/** Users with one of these roles, or API keys (partners, or service accounts of these roles) holding `scope`. */
export function can(roles: Role[], scope: Scope): IRule {
  const key = `can:${[...roles].sort().join(',')}:${scope}`;
  return cached(key, () => rule(key, { cache: 'contextual' })((_p, _a, ctx: Context) => {
    const v = ctx.viewer;
    if (!v) return false;
    if (v.kind === 'user') return roles.includes(v.role);
    return (v.role === 'PARTNER' || roles.includes(v.role)) && v.scopes.includes(scope);
  }));
}

/** For relation fields below a guarded root: users pass, API keys need the scope. */
export function scoped(...scopes: Scope[]): IRule {
  const key = `scoped:${[...scopes].sort().join(',')}`;
  return cached(key, () => rule(key, { cache: 'contextual' })((_p, _a, ctx: Context) =>
    ctx.viewer?.kind === 'user' || scopes.every((s) => ctx.viewer?.scopes.includes(s))));
}

export const READERS: Role[] = ['ADMIN', 'AGENT', 'MARKETER', 'ANALYST'];

/** Object types below a guarded root field: reachable only through it. Field privacy is the policy table. */
export const reachable = allow;
export { and };
