import { keepsHttpStatus } from '../errors';
import type { ApolloServerPlugin, GraphQLResponse } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import type { GraphQLError} from 'graphql';
import { getVariableValues, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { RuleTree } from '../auth/permissions';
import { piiFields } from '../auth/privacy';
import { privacyPolicy, ruleTree } from '../schema';
import type { Viewer } from '../auth/viewer';
import type { Context } from '../context';
import { compiledRoots, notCompilableFields } from './domains/index';
import { executePlan } from './execute';
import { buildPlan, type PlannerInput, type PlanResult } from './plan';

export { buildPlan } from './plan';
export { executePlan } from './execute';

/**
 * The compiled read path as an Apollo plugin: after parsing, validation, armor, the cost budget and
 * authentication have run, `responseForOperation` looks up the plan of (document, operation name,
 * viewer policy) and, when the planner covers the operation, answers with the plan's result; Apollo's
 * own execution (graphql-js, shield and privacy middleware) is skipped. Otherwise it answers null and
 * the operation runs on the resolver path. The audit and request-log plugins run on both paths.
 */
export interface CompiledReadsOptions {
  /** The bare executable schema (resolvers without shield and privacy middleware). */
  schema: GraphQLSchema;
  hashKey: string;
  /** Plans kept, least recently used evicted. */
  maxPlans: number;
  /** Apollo's formatError of the server (closed list of codes, masking). */
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Errors of the compiled path also reach the request log (request id of masked errors). */
  didEncounterErrors?: (errors: readonly GraphQLError[], ctx: Context) => void;
  includeStacktrace?: boolean;
  tree?: RuleTree;
}

/** What the shield rules and the privacy policy read of a viewer: its kind, role, scopes and field allow-list. */
const fingerprints = new WeakMap<Viewer, string>();
export function policyFingerprint(viewer: Viewer): string {
  let fp = fingerprints.get(viewer);
  if (fp === undefined) {
    fp = JSON.stringify([viewer.kind, viewer.role, [...viewer.scopes].sort(), viewer.kind === 'apiKey' ? [...viewer.fieldAllowList].sort() : []]);
    fingerprints.set(viewer, fp);
  }
  return fp;
}

export function compiledReadsPlugin(opts: CompiledReadsOptions): ApolloServerPlugin<Context> {
  const input: PlannerInput = {
    schema: opts.schema,
    tree: opts.tree ?? ruleTree(),
    policy: privacyPolicy(),
    pii: piiFields(opts.schema),
    hashKey: opts.hashKey,
    roots: compiledRoots(),
    notCompilable: notCompilableFields(),
  };
  const plans = new LRUCache<string, Promise<PlanResult>>({ max: opts.maxPlans });
  return {
    async requestDidStart() {
      return {
        async responseForOperation(rc): Promise<GraphQLResponse | null> {
          const ctx = rc.contextValue;
          const stats = ctx.stats;
          if (stats) stats.executionPath = 'resolvers';
          if (!rc.operation || !ctx.viewer) return null;
          // While the audit buffer is full the resolver path refuses each personal-data field at its path
          // (SERVICE_UNAVAILABLE) and serves the rest; the compiled path leaves such requests to it.
          if (!ctx.audit.acceptsReads) return null;
          const key = `${rc.queryHash}\u0000${rc.operationName ?? ''}\u0000${policyFingerprint(ctx.viewer)}`;
          let planned = plans.get(key);
          if (!planned) {
            planned = buildPlan(input, rc.document, rc.operation, ctx.viewer);
            plans.set(key, planned);
            planned.catch(() => plans.delete(key));
          }
          const result = await planned;
          if (!('plan' in result)) return null;
          const coerced = getVariableValues(opts.schema, rc.operation.variableDefinitions ?? [], rc.request.variables ?? {}, { maxErrors: 50 });
          // Variable errors: the resolver path reports them exactly as graphql-js does.
          if (coerced.errors) return null;
          const started = performance.now();
          const { data, errors } = await executePlan(opts.schema, result.plan, ctx, coerced.coerced);
          if (stats) {
            stats.executionPath = 'compiled';
            stats.executionMs = performance.now() - started;
          }
          if (errors.length) opts.didEncounterErrors?.(errors, ctx);
          const http = { status: undefined as number | undefined, headers: new HeaderMap() };
          const formatted = errors.map((e) => format(e, opts, http));
          return { http, body: { kind: 'single', singleResult: formatted.length ? { errors: formatted, data } : { data } } };
        },
      };
    },
  };
}

/** Apollo's normalizeAndFormatErrors for one error: code defaulted, `extensions.http` lifted, then formatError. */
function format(error: GraphQLError, opts: CompiledReadsOptions, http: { status: number | undefined; headers: HeaderMap }): GraphQLFormattedError {
  try {
    const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions.code ?? 'INTERNAL_SERVER_ERROR' };
    const h = extensions.http as { status?: number; headers?: Map<string, string> } | undefined;
    if (h && typeof h === 'object') {
      // Field errors are partial results (HTTP 200) unless they refuse the whole request (errors.ts).
      if (typeof h.status === 'number' && keepsHttpStatus(error)) http.status = h.status;
      if (h.headers instanceof Map) for (const [k, v] of h.headers) http.headers.set(k, v);
      delete extensions.http;
    }
    if (opts.includeStacktrace) extensions.stacktrace = error.stack?.split('\n');
    return opts.formatError({ ...error.toJSON(), extensions }, error);
  } catch {
    return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
}
