import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { validate, type DocumentNode, type GraphQLSchema, type ValidationContext } from 'graphql';
import type { Config } from '../config';
import type { Context } from '../context';
import { queryTooComplex } from '../errors';
import type { Role } from '../__generated__/resolvers-types';

/**
 * Abuse limits. graphql-armor enforces the global ceilings during validation (depth, aliases,
 * directives; field suggestions off in production; no batched HTTP operations). The cost
 * budget depends on who asks, so it is checked per operation once the viewer is known.
 */
export const COST_BUDGET_SHARE: Record<Role, number> = { ADMIN: 1, AGENT: 0.5, MARKETER: 0.5, ANALYST: 0.5, PARTNER: 0.25 };

/** Messages graphql-armor uses for its rejections: they become QUERY_TOO_COMPLEX. */
export const ARMOR_REJECTION = /^Syntax Error: ((Query Cost limit|Query depth limit|Aliases limit|Directives limit|Token limit) of |Document contains more th(?:an|at) \d+ tokens)/;

export function armorProtection(config: Pick<Config, 'limits' | 'nodeEnv'>) {
  const armor = new ApolloArmor({
    costLimit: { enabled: false },
    maxDepth: { enabled: true, n: config.limits.maxDepth, propagateOnRejection: true },
    maxAliases: { enabled: true, n: config.limits.maxAliases, propagateOnRejection: true },
    maxDirectives: { enabled: true, n: config.limits.maxDirectives, propagateOnRejection: true },
    // Tokens are limited by graphql-js's own parser option (see buildServer): a parse failure, HTTP 400.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: config.nodeEnv === 'production' },
  });
  return armor.protect();
}

/**
 * graphql-armor's cost rule, reporting its rejection as a validation error. (With
 * `propagateOnRejection` it throws out of `validate()` instead: the plugin's own QUERY_TOO_COMPLEX,
 * with its HTTP 400, was never reached and the armor error went out as HTTP 500.)
 */
function budgetRule(maxCost: number) {
  return costLimitRule({ maxCost, propagateOnRejection: false, onReject: [(ctx, err) => (ctx as ValidationContext).reportError(err)] });
}

export function costBudgetPlugin(schema: GraphQLSchema, config: Pick<Config, 'limits'>): ApolloServerPlugin<Context> {
  const rules = new Map<Role, ReturnType<typeof costLimitRule>>();
  const ruleFor = (role: Role) => {
    let r = rules.get(role);
    if (!r) {
      r = budgetRule(Math.max(1, Math.floor(config.limits.maxCost * COST_BUDGET_SHARE[role])));
      rules.set(role, r);
    }
    return r;
  };
  // Apollo hands out the same DocumentNode for a cached query string, so the verdict per document and
  // budget is computed once, not per request (the validation walk was a visible share of CPU).
  const verdicts = new WeakMap<DocumentNode, Map<string, string | null>>();
  return {
    async requestDidStart({ contextValue }) {
      return {
        async didResolveOperation({ document }) {
          const v = contextValue.viewer;
          const budgetKey = v.kind === 'apiKey' && v.maxCost ? `key:${v.maxCost}` : `role:${v.role}`;
          let perDoc = verdicts.get(document);
          if (!perDoc) { perDoc = new Map(); verdicts.set(document, perDoc); }
          let verdict = perDoc.get(budgetKey);
          if (verdict === undefined) {
            const rule = v.kind === 'apiKey' && v.maxCost ? budgetRule(v.maxCost) : ruleFor(v.role);
            const [error] = validate(schema, document, [rule]);
            verdict = error ? error.message.replace(/^Syntax Error: /, '') : null;
            perDoc.set(budgetKey, verdict);
          }
          if (verdict) throw queryTooComplex(verdict);
        },
      };
    },
  };
}

/**
 * Field suggestions ("Did you mean "email"?") describe the schema one guess at a time: API keys never
 * get them, since they may not introspect either (users get them outside production, for tooling).
 */
export function suggestionGuardPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      if (contextValue.viewer?.kind !== 'apiKey') return {};
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single' || !response.body.singleResult.errors) return;
          response.body.singleResult.errors = response.body.singleResult.errors.map((e) => ({ ...e, message: e.message.replace(/\s*Did you mean .*$/s, '') }));
        },
      };
    },
  };
}
