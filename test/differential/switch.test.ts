import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/lib/global-id';
import { createSeeder } from '../factories/index';
import { startApp, type TestApp } from '../helpers/app';

/** Which path ran is visible (server-timing, /metrics), and COMPILED_READS=false turns the compiled path off. */
const Q = 'query One($id: ID!) { customer(id: $id) { id email transactions(first: 2) { totalCount } } }';
const scrape = async (app: TestApp) => (await fetch(app.url.replace(/\/graphql$/, '/metrics'))).text();
const count = (text: string, path: string): number => {
  const series = `c360_graphql_operations_total{operation="One",outcome="ok",path="${path}"} `;
  return Number(text.split('\n').find((l) => l.startsWith(series))?.slice(series.length) ?? 0);
};

describe.each([
  { env: { COMPILED_READS: 'true' }, path: 'compiled' },
  { env: { COMPILED_READS: 'false' }, path: 'resolvers' },
])('COMPILED_READS=$env.COMPILED_READS', ({ env, path }) => {
  let app: TestApp;
  let id: string;
  beforeAll(async () => {
    app = await startApp(env);
    id = toGlobalId('Customer', (await createSeeder(app.db.db).customer().withTransactions(2).create()).id);
  });
  afterAll(async () => { await app?.close(); });

  it(`answers a customer read on the ${path} path and says so`, async () => {
    const res = await app.gql(Q, { id });
    expect(res.body.errors).toBeUndefined();
    expect(res.headers.get('server-timing')).toMatch(new RegExp(`(^|, )${path}[;,]`));
    expect(res.statements).toBe(1);
    expect(count(await scrape(app), path)).toBe(1);
  });

  it('answers a mutation on the resolver path', async () => {
    const res = await app.gql('mutation { upsertCustomer(input: { source: "crm", externalId: "sw-1", firstName: "Sam" }) { userErrors { message } } }');
    expect(res.body.errors).toBeUndefined();
    expect(res.headers.get('server-timing')).toMatch(/(^|, )resolvers,/);
  });
});
