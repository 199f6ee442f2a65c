import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

/** GET /metrics in the Prometheus text format, fed once per request from the request's counters. */
describe('GET /metrics', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ RATE_LIMIT_BURST: '100000' });
    const seed = createSeeder(app.db.db);
    for (let i = 0; i < 3; i++) await seed.customer().withTransactions(1).create();
  });
  afterAll(async () => { await app?.close(); });

  const scrape = async () => {
    const res = await fetch(app.url.replace(/\/graphql$/, '/metrics'));
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };
  const value = (text: string, series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };

  it('counts operations by name and outcome, errors by code, statements and batch sizes', async () => {
    const before = await scrape();
    const ok = await app.gql('query ListThree { customers(first: 3) { edges { node { id transactions(first: 5) { totalCount } } } } }');
    expect(ok.body.errors).toBeUndefined();
    const bad = await app.gql('query Broken { nope }');
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const after = await scrape();
    // `path`: which execution path answered (the compiled read path covers this list, src/plan/).
    expect(value(after, 'c360_graphql_operations_total{operation="ListThree",outcome="ok",path="compiled"}') - value(before, 'c360_graphql_operations_total{operation="ListThree",outcome="ok",path="compiled"}')).toBe(1);
    // A document that fails validation has no resolved name: it counts under the name the client sent, else "anonymous".
    expect(value(after, 'c360_graphql_operations_total{operation="anonymous",outcome="error",path="resolvers"}') - value(before, 'c360_graphql_operations_total{operation="anonymous",outcome="error",path="resolvers"}')).toBe(1);
    expect(value(after, 'c360_graphql_errors_total{code="BAD_USER_INPUT"}') - value(before, 'c360_graphql_errors_total{code="BAD_USER_INPUT"}')).toBe(1);
    expect(value(after, 'c360_sql_statements_total{target="primary"}') - value(before, 'c360_sql_statements_total{target="primary"}')).toBe(ok.statements);
    // The transactions of three customers in one batch of three keys.
    expect(value(after, 'c360_dataloader_batch_size_bucket{le="5"}') - value(before, 'c360_dataloader_batch_size_bucket{le="5"}')).toBeGreaterThanOrEqual(1);
    expect(value(after, 'c360_dataloader_batch_size_sum') - value(before, 'c360_dataloader_batch_size_sum')).toBeGreaterThanOrEqual(3);
    expect(after).toMatch(/c360_graphql_operation_duration_seconds_bucket\{le="0\.1",operation_type="query",outcome="ok"\} \d+/);
    expect(after).toContain('c360_process_resident_memory_bytes');
    expect(value(after, 'c360_http_responses_total{status="200"}')).toBeGreaterThanOrEqual(1);
  });

  it('counts and times the statements of a mutation, transaction included', async () => {
    const before = await scrape();
    const res = await app.gql('mutation Upsert { upsertCustomer(input: { source: "crm", externalId: "metrics-1", firstName: "Mia" }) { customer { id } userErrors { message } } }');
    expect(res.body.errors).toBeUndefined();
    const after = await scrape();
    // Drizzle builder statements inside db.transaction() count like fast-path reads.
    expect(res.statements).toBeGreaterThanOrEqual(3);
    expect(value(after, 'c360_sql_statements_total{target="primary"}') - value(before, 'c360_sql_statements_total{target="primary"}')).toBe(res.statements);
    expect(value(after, 'c360_sql_duration_seconds_count') - value(before, 'c360_sql_duration_seconds_count')).toBe(1);
    expect(value(after, 'c360_sql_duration_seconds_sum') - value(before, 'c360_sql_duration_seconds_sum')).toBeGreaterThan(0);
  });

  it('keeps the operation label set bounded: names that are not identifiers count as "other"', async () => {
    await fetch(app.url, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await app.token('ADMIN')}` },
      body: JSON.stringify({ query: '{ viewer { kind } }' }),
    });
    const text = await scrape();
    expect(value(text, 'c360_graphql_operations_total{operation="anonymous",outcome="ok",path="resolvers"}')).toBeGreaterThanOrEqual(1);
  });
});

describe('rate-limit rejections in /metrics', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp({ RATE_LIMIT_BURST: '2', RATE_LIMIT_PER_MINUTE: '1' }); });
  afterAll(async () => { await app?.close(); });

  it('counts each refused request by viewer kind', async () => {
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await app.gql('{ viewer { kind } }')).body.errors?.[0]?.extensions?.code ?? 'OK');
    expect(codes).toEqual(['OK', 'OK', 'RATE_LIMITED', 'RATE_LIMITED']);
    const text = await (await fetch(app.url.replace(/\/graphql$/, '/metrics'))).text();
    expect(text).toContain('c360_rate_limit_rejections_total{viewer_kind="user"} 2');
  });
});

/**
 * IDLE_GC: after the last running request, a young generation at least IDLE_GC_FILL full is collected at
 * once (src/ops/idle-gc.ts); /metrics counts those collections. The tests share the server's process,
 * so they can fill the young generation themselves before sending a request.
 */
describe('idle collection in /metrics', () => {
  let sink: unknown;
  // The servers collect from 30% (IDLE_GC_FILL); the test fills to 40%, well below the 80% at which
  // V8 schedules a scavenge of its own that would leave nothing to collect.
  const fillYoungGeneration = async () => {
    const { youngGenerationFill } = await import('../../../src/ops/idle-gc');
    for (let i = 0; youngGenerationFill() < 0.4; i++) sink = { i, pad: [i, i, i, i] };
    return sink;
  };
  const idleCollections = async (app: TestApp) => {
    const text = await (await fetch(app.url.replace(/\/graphql$/, '/metrics'))).text();
    return Number(/^c360_idle_gc_total (\d+)$/m.exec(text)?.[1] ?? 0);
  };
  /** Up to five tries: V8 may still scavenge first (a young generation too small for the request), leaving nothing to collect. */
  const requestsWithFullYoungGeneration = async (app: TestApp) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      await fillYoungGeneration();
      const res = await app.gql('{ viewer { kind } }');
      expect(res.body.errors).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 5));
      if ((await idleCollections(app)) > 0) return;
    }
  };

  it('collects between requests by default', async () => {
    const app = await startApp({ IDLE_GC_FILL: '0.3' });
    try {
      expect(app.config.idleGc).toBe(true);
      await requestsWithFullYoungGeneration(app);
      expect(await idleCollections(app)).toBeGreaterThanOrEqual(1);
    } finally {
      await app.close();
    }
  });

  it('leaves collection to V8 with IDLE_GC=false', async () => {
    const app = await startApp({ IDLE_GC: 'false', IDLE_GC_FILL: '0.3' });
    try {
      await requestsWithFullYoungGeneration(app);
      expect(await idleCollections(app)).toBe(0);
    } finally {
      await app.close();
    }
  });
});
