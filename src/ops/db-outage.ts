import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DbBreaker } from '../db/breaker';
import type { Logger } from '../logger';

/** The database pools' circuit breakers: a log line when one opens or closes, and their metrics. */
export function registerBreakers(breakers: { target: 'primary' | 'replica'; breaker: DbBreaker }[], registry: Registry, logger: Logger): void {
  if (!breakers.length) return;
  for (const { target, breaker } of breakers) {
    let openedAt = 0;
    breaker.onChange((state, err) => {
      if (state === 'open') {
        openedAt = Date.now();
        logger.error({ target, err }, 'database unreachable: circuit breaker open, statements fail at once until a probe succeeds');
      } else {
        logger.info({ target, openMs: Date.now() - openedAt }, 'database reachable again: circuit breaker closed');
      }
    });
  }
  new Gauge({
    name: 'c360_db_breaker_open', help: 'Circuit breaker of the pool open (1): statements fail at once without touching the pool', labelNames: ['target'], registers: [registry],
    collect() { for (const b of breakers) this.set({ target: b.target }, b.breaker.state === 'open' ? 1 : 0); },
  });
  const counter = (name: string, help: string, value: (b: DbBreaker) => number) => new Counter({
    name, help, labelNames: ['target'], registers: [registry],
    collect() {
      this.reset();
      for (const b of breakers) this.inc({ target: b.target }, value(b.breaker));
    },
  });
  counter('c360_db_breaker_opened_total', 'Times the circuit breaker opened', (b) => b.opened);
  counter('c360_db_breaker_rejected_total', 'Statements refused by the open circuit breaker (never sent)', (b) => b.rejected);
  counter('c360_db_statements_sent_total', 'Statements handed to the pool (passed the circuit breaker)', (b) => b.sent);
}

/**
 * A response that carries nothing but SERVICE_UNAVAILABLE errors (no root field has data) is an
 * HTTP 503 with Retry-After, so load balancers and clients retry it; a partial answer stays 200.
 */
export function unavailableStatusPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const { errors, data } = response.body.singleResult;
          if (!errors?.length || !errors.every((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')) return;
          if (data && Object.values(data).some((v) => v !== null && v !== undefined)) return;
          response.http.status = 503;
          response.http.headers.set('retry-after', '1');
        },
      };
    },
  };
}
