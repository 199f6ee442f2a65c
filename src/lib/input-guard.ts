import { Kind, visit, type DocumentNode } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { badUserInput, forbidden } from '../errors';

/**
 * Variable values are coerced by graphql-js recursively: a filter whose `and` nests a few thousand
 * levels deep overflows the stack ("Maximum call stack size exceeded", an internal error). No input of
 * the schema needs more than a few levels (filters nest at most 6), so values deeper than this, or with
 * more values than this in all, are refused before coercion.
 */
export const MAX_VARIABLE_DEPTH = 32;
export const MAX_VARIABLE_VALUES = 50_000;

export type VariableVerdict = { ok: true } | { ok: false; message: string };

/**
 * Walks the variables once, without recursion (so it cannot overflow itself): depth, number of values
 * and NUL characters. PostgreSQL text cannot contain NUL (U+0000): a string carrying one would fail
 * deep inside a query as an internal error.
 */
export function checkVariables(variables: unknown): VariableVerdict {
  if (variables === null || typeof variables !== 'object') return { ok: true };
  const stack: [unknown, number][] = [[variables, 0]];
  let values = 0;
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (++values > MAX_VARIABLE_VALUES) return { ok: false, message: `Variables hold more than ${MAX_VARIABLE_VALUES} values` };
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return { ok: false, message: NUL_MESSAGE };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_VARIABLE_DEPTH) return { ok: false, message: `Variables nest deeper than ${MAX_VARIABLE_DEPTH} levels` };
    for (const v of Array.isArray(value) ? value : Object.values(value)) stack.push([v, depth + 1]);
  }
  return { ok: true };
}

const NUL_MESSAGE = 'Strings must not contain NUL (U+0000) characters';

const nulVerdicts = new WeakMap<DocumentNode, boolean>();
const introspectionVerdicts = new WeakMap<DocumentNode, boolean>();

/** Apollo reuses the DocumentNode of a cached query string: walk each document once. */
function documentHasNul(doc: DocumentNode): boolean {
  const hit = nulVerdicts.get(doc);
  if (hit !== undefined) return hit;
  let found = false;
  visit(doc, {
    [Kind.STRING](node) {
      if (node.value.includes('\u0000')) found = true;
    },
  });
  nulVerdicts.set(doc, found);
  return found;
}

export function inputGuardPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          // didResolveOperation runs before execution, where graphql-js coerces the variables.
          const verdict = checkVariables(request.variables);
          if (!verdict.ok) throw badUserInput(verdict.message);
          if (documentHasNul(document)) throw badUserInput(NUL_MESSAGE);
        },
      };
    },
  };
}

/** Whether an operation asks for `__schema` or `__type` (through fragments too). */
export function requestsIntrospection(doc: DocumentNode): boolean {
  const hit = introspectionVerdicts.get(doc);
  if (hit !== undefined) return hit;
  let found = false;
  visit(doc, {
    [Kind.FIELD](node) {
      if (node.name.value === '__schema' || node.name.value === '__type') found = true;
    },
  });
  introspectionVerdicts.set(doc, found);
  return found;
}

/**
 * Introspection is a map of the API: off for partner keys always, and for everybody in production
 * (Apollo's `introspection` option covers the latter; this covers keys in any environment).
 */
export function introspectionGuardPlugin<C extends { viewer: { kind: string } }>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async didResolveOperation({ document }) {
          if (contextValue.viewer.kind === 'apiKey' && requestsIntrospection(document)) {
            throw forbidden('Introspection is not available to API keys');
          }
        },
      };
    },
  };
}
