import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../../src/db/client';
import { toGlobalId } from '../../../src/lib/global-id';
import { createSeeder } from '../../factories/index';
import { createPgDatabase, startOpsApp, type OpsApp } from '../../helpers/ops';
import { withDatabase } from '../../helpers/global-setup';

/**
 * DATABASE_REPLICA_URL routing. The "replica" is a second database on the same server, cloned from
 * the primary and then changed, so every answer shows which database served it: a customer renamed
 * only on the replica, and a customer written through the API that only the primary has.
 */
const url = process.env.TEST_DATABASE_URL;

describe.skipIf(!url)('read replica routing (DATABASE_REPLICA_URL)', () => {
  let primary: Awaited<ReturnType<typeof createPgDatabase>>;
  let replicaName: string;
  let admin: postgres.Sql;
  let app: OpsApp;
  let seededId: string;

  beforeAll(async () => {
    primary = await createPgDatabase('c360_ops_primary');
    const h = await openDb({ databaseUrl: primary.url, pgliteDir: '', databasePoolMax: 1 });
    const row = await createSeeder(h.db).customer({ firstName: 'Pri', lastName: 'Mary' }).create();
    await h.close();
    seededId = toGlobalId('Customer', row.id);
    admin = postgres(url!, { max: 1, onnotice: () => {} });
    replicaName = `${primary.name}_replica`;
    await admin.unsafe(`CREATE DATABASE "${replicaName}" TEMPLATE "${primary.name}"`);
    const replica = postgres(withDatabase(url!, replicaName), { max: 1, onnotice: () => {} });
    await replica`UPDATE customers SET display_name = 'Replica Copy' WHERE id = ${row.id}`;
    await replica.end();
    app = await startOpsApp({ DATABASE_URL: primary.url, DATABASE_REPLICA_URL: withDatabase(url!, replicaName), DATABASE_POOL_MAX: '2' });
  });
  afterAll(async () => {
    await app?.close();
    await admin?.unsafe(`DROP DATABASE IF EXISTS "${replicaName}" WITH (FORCE)`);
    await admin?.end();
    await primary?.drop();
  });

  const metric = async (series: string) => {
    const text = await (await fetch(`${app.base}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };

  it('serves queries from the replica', async () => {
    const before = await metric('c360_sql_statements_total{target="replica"}');
    const r = await app.post({ query: 'query($id: ID!) { customer(id: $id) { displayName } }', variables: { id: seededId } });
    expect(r.body.data?.customer).toEqual({ displayName: 'Replica Copy' });
    expect(await metric('c360_sql_statements_total{target="replica"}') - before).toBe(Number(r.headers.get('x-sql-statements')));
  });

  it('runs mutations on the primary, and the reads after the write in the same request too (read-your-writes)', async () => {
    const beforeReplica = await metric('c360_sql_statements_total{target="replica"}');
    const r = await app.post({
      query: `mutation($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { created customer { id displayName } userErrors { message } } }`,
      variables: { input: { source: 'crm', externalId: 'replica-test-1', firstName: 'Only', lastName: 'Primary' } },
    });
    const payload = r.body.data?.upsertCustomer as { created: boolean; customer: { id: string; displayName: string } };
    expect(payload.created).toBe(true);
    expect(payload.customer.displayName).toBe('Only Primary');
    expect(await metric('c360_sql_statements_total{target="replica"}')).toBe(beforeReplica);

    // A later query is a new request: it reads the replica, which (like a lagging replica) lacks the row.
    const later = await app.post({ query: 'query($id: ID!) { customer(id: $id) { displayName } }', variables: { id: payload.customer.id } });
    expect(later.body.data?.customer).toBeNull();
    const onPrimary = postgres(primary.url, { max: 1, onnotice: () => {} });
    const [row] = await onPrimary<{ display_name: string }[]>`SELECT display_name FROM customers WHERE display_name = 'Only Primary'`;
    await onPrimary.end();
    expect(row?.display_name).toBe('Only Primary');
  });

  it('authenticates on the primary (a key revoked there is refused at once)', async () => {
    const created = await app.post({
      query: 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }',
      variables: { input: { name: 'replica probe', role: 'ANALYST', scopes: ['customers:read'] } },
    });
    const { secret } = (created.body.data?.createApiKey as { secret: string });
    const res = await fetch(`${app.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': secret }, body: JSON.stringify({ query: '{ viewer { kind } }' }) });
    expect(((await res.json()) as { data: unknown }).data).toEqual({ viewer: { kind: 'API_KEY' } });
  });
});

describe.skipIf(Boolean(url))('read replica routing', () => {
  it.skip('needs TEST_DATABASE_URL (two PostgreSQL databases)', () => {});
});
