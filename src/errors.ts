import { HeaderMap } from '@apollo/server';
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

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
};

function make(code: ErrorCode, message: string, extra: Record<string, unknown> = {}, headers?: [string, string][]): GraphQLError {
  const status = HTTP_STATUS[code];
  return new GraphQLError(message, {
    extensions: { code, ...extra, ...(status ? { http: { status, ...(headers ? { headers: new HeaderMap(headers) } : {}) } } : {}) },
  });
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
export const withHttpStatus = (error: GraphQLError, status: number): GraphQLError =>
  new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status } } });

/** Expected mutation failures are data, not errors (ARCHITECTURE.md: `userErrors`). */
export type UserErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN';
export interface UserError { field: string[]; message: string; code: UserErrorCode }
export const userError = (field: string[], message: string, code: UserErrorCode = 'BAD_USER_INPUT'): UserError =>
  ({ field, message, code });
