import { describe, expect, it } from 'vitest';
import { CircuitOpenError, databaseFault, isConnectFault } from '../../src/db/breaker';

/** Which database failures clients see as SERVICE_UNAVAILABLE (503) or TIMEOUT, and which the breaker counts. */
const pgError = (code: string, severity = 'ERROR') => Object.assign(new Error(`pg ${code}`), { code, severity });
const wrapped = (cause: unknown) => Object.assign(new Error('Failed query'), { cause });

describe('database fault codes', () => {
  it.each([
    ['57P01', 'FATAL'], ['57P02', 'FATAL'], ['57P03', 'FATAL'], ['55000', 'FATAL'], ['53300', 'FATAL'], ['08006', 'FATAL'],
    ['08001', 'ERROR'], ['53100', 'ERROR'], ['25006', 'ERROR'],
  ])('answers SQLSTATE %s (%s) with SERVICE_UNAVAILABLE', (code, severity) => {
    expect(databaseFault(wrapped(pgError(code, severity)))).toBe('SERVICE_UNAVAILABLE');
  });

  it.each(['ECONNREFUSED', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'ECONNRESET', 'ENOTFOUND'])('answers driver error %s with SERVICE_UNAVAILABLE', (code) => {
    expect(databaseFault(wrapped(Object.assign(new Error(code), { code })))).toBe('SERVICE_UNAVAILABLE');
  });

  it('answers a cancelled statement with TIMEOUT, a refused connect of several addresses with SERVICE_UNAVAILABLE, the open breaker with SERVICE_UNAVAILABLE', () => {
    expect(databaseFault(wrapped(pgError('57014')))).toBe('TIMEOUT');
    expect(databaseFault(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]))).toBe('SERVICE_UNAVAILABLE');
    expect(databaseFault(new CircuitOpenError())).toBe('SERVICE_UNAVAILABLE');
  });

  it('leaves SQL errors of the statement itself (and 55000 outside connect) to INTERNAL_SERVER_ERROR', () => {
    for (const code of ['42601', '23505', '55000', '42P01']) expect(databaseFault(wrapped(pgError(code)))).toBeNull();
  });

  it('counts for the breaker only faults of opening a connection, not a lost session', () => {
    expect(isConnectFault(pgError('55000', 'FATAL'))).toBe(true);
    expect(isConnectFault(pgError('53300', 'FATAL'))).toBe(true);
    expect(isConnectFault(Object.assign(new Error(), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectFault(pgError('57P01', 'FATAL'))).toBe(false);
    expect(isConnectFault(Object.assign(new Error(), { code: 'CONNECTION_CLOSED' }))).toBe(false);
  });
});
