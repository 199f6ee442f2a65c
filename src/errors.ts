import { HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';

/** The closed list of `extensions.code` values. Anything else is masked as INTERNAL_SERVER_ERROR. */
export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  'QUERY_TOO_COMPLEX',
  'TIMEOUT',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
const codeSet: ReadonlySet<string> = new Set(ERROR_CODES);
export const isErrorCode = (c: unknown): c is ErrorCode => typeof c === 'string' && codeSet.has(c);

/**
 * The HTTP status of a request refused with this code before execution (authentication, limits, input
 * guards, introspection): Apollo takes `extensions.http` of errors thrown from the context function and
 * from request-pipeline hooks. Errors raised while executing fields are partial results and leave the
 * status alone (`fieldErrorStatusPlugin`), so one FORBIDDEN field does not turn a response into a 403.
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  QUERY_TOO_COMPLEX: 400,
  TIMEOUT: 504,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

function make(code: ErrorCode, message: string, extra: Record<string, unknown> = {}, headers?: [string, string][]): GraphQLError {
  const status = HTTP_STATUS[code];
  return new GraphQLError(message, {
    extensions: { code, ...extra, http: { status, ...(headers ? { headers: new HeaderMap(headers) } : {}) } },
  });
}

/**
 * Errors of field execution (they carry a `path`) are partial results: the response keeps HTTP 200
 * and its data, as GraphQL over HTTP asks for `application/json`. Their `http` extension is dropped
 * before Apollo reads it. Refusals before execution keep theirs (400, 401, 403, 429, ...).
 */
export function fieldErrorStatusPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const e of errors) {
            if (e.extensions && 'http' in e.extensions && !keepsHttpStatus(e)) delete (e.extensions as Record<string, unknown>).http;
          }
        },
      };
    },
  };
}

export const unauthenticated = (message = 'Authentication required') => make('UNAUTHENTICATED', message);
export const forbidden = (message = 'Not allowed') => make('FORBIDDEN', message);
export const notFound = (what = 'Resource') => make('NOT_FOUND', `${what} not found`);
export const badUserInput = (message: string, field?: string) =>
  make('BAD_USER_INPUT', message, field ? { field } : {});
export const conflict = (message: string) => make('CONFLICT', message);
export const rateLimited = (retryAfterSeconds: number) =>
  make('RATE_LIMITED', `Rate limit exceeded; retry in ${retryAfterSeconds} s`, { retryAfter: retryAfterSeconds }, [['retry-after', String(retryAfterSeconds)]]);
export const queryTooComplex = (message: string) => make('QUERY_TOO_COMPLEX', message);
export const timeout = (message = 'The request took longer than its deadline') => make('TIMEOUT', message);
export const serviceUnavailable = (message = 'A dependency is unavailable; retry shortly') =>
  make('SERVICE_UNAVAILABLE', message);
export const internal = () => make('INTERNAL_SERVER_ERROR', 'Internal server error');

/**
 * The same error with an HTTP status for the response: for a refusal that nulls the whole result
 * (Apollo answers with the status of the errors' `http` extension; formatError drops the extension).
 */
export function withHttpStatus(error: GraphQLError, status: number): GraphQLError {
  const e = new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status } } });
  nullsWholeResponse.add(e);
  return e;
}
/** Field errors that keep their HTTP status (withHttpStatus): `fieldErrorStatusPlugin` leaves them alone. */
const nullsWholeResponse = new WeakSet<Error>();

/** Does this error set the response's HTTP status? Refusals before execution do; field errors only through withHttpStatus. */
export function keepsHttpStatus(e: GraphQLError): boolean {
  return !e.path || nullsWholeResponse.has(e) || (e.originalError != null && nullsWholeResponse.has(e.originalError));
}

/** Expected mutation failures are data, not errors (ARCHITECTURE.md: `userErrors`). */
export type UserErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN';
export interface UserError { field: string[]; message: string; code: UserErrorCode }
export const userError = (field: string[], message: string, code: UserErrorCode = 'BAD_USER_INPUT'): UserError =>
  ({ field, message, code });
