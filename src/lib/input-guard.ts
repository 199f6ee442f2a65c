import { Kind, visit, type DocumentNode } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { badUserInput, forbidden } from '../errors';

/**
 * PostgreSQL text cannot contain NUL (U+0000): a string carrying one would fail deep inside a query as
 * an internal error. Refuse it up front, in variables and in inline literals, as BAD_USER_INPUT.
 */
export function hasNul(value: unknown, depth = 0): boolean {
  if (depth > 50) return false;
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some((v) => hasNul(v, depth + 1));
  if (value && typeof value === 'object') return Object.values(value).some((v) => hasNul(v, depth + 1));
  return false;
}

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
          if (hasNul(request.variables) || documentHasNul(document)) {
            throw badUserInput('Strings must not contain NUL (U+0000) characters');
          }
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
