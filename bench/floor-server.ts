/**
 * The "stack floor" of the core benchmark: what the pinned stack alone costs for the same answers.
 * Apollo Server 5 with the product's SDL (each module's <domain>.graphql) and graphql-js execution, whose root
 * fields run the baseline's one hand-written statement (bench/lib/baseline-sql.ts) through postgres.js
 * and return its JSON, parsed, to graphql-js's default resolvers. Nothing else: no authentication,
 * no shield or privacy middleware, no DataLoader, no look-ahead planning, no row mapping or decryption,
 * no plugins of the gateway, no armor. Any gateway built on this stack does at least this work, so
 * floor req/s / baseline req/s is the ceiling of the gateway's ratio on this machine.
 *
 *   POST /graphql  the core suite's queries (a) customer(id), (b) customers(first), (c) customers(filter: {email}, first)
 *
 *   tsx bench/floor-server.ts [--port 4300] [--pool 10]
 *
 * Prints `BENCH-READY {"port":..}` when listening. Reports its statement count in `x-sql-statements`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { parseGlobalId } from '../src/lib/global-id';
import { normalizeEmail } from '../src/lib/normalize';
import { loadTypeDefs } from '../src/schema';
import { SQL_CUSTOMER_BY_EMAIL, SQL_CUSTOMER_BY_ID, SQL_CUSTOMER_PAGE } from './lib/baseline-sql';
import { benchServerSetup, exitOnSignals, readBody, sendJson as send, serveBench } from './lib/http';

/** Apollo hands resolvers a shallow copy of the context: the counter lives one level down. */
interface FloorContext { stats: { statements: number } }

const { port, currency, pg } = benchServerSetup('floor');

/** One prepared statement whose only row is the JSON text of the root field's answer, parsed. */
async function document(ctx: FloorContext, text: string, params: (string | number | null)[], field: 'customer' | 'customers'): Promise<unknown> {
  ctx.stats.statements++;
  const rows = await pg.unsafe<{ body: string }[]>(text, params, { prepare: true });
  return rows[0] ? (JSON.parse(rows[0].body) as Record<string, unknown>)[field] : null;
}

const schema = makeExecutableSchema({
  typeDefs: loadTypeDefs(),
  resolvers: {
    Query: {
      customer: (_: unknown, args: { id: string }, ctx: FloorContext) => {
        const parsed = parseGlobalId(args.id);
        return parsed?.type === 'Customer' ? document(ctx, SQL_CUSTOMER_BY_ID, [parsed.id, currency], 'customer') : null;
      },
      customers: (_: unknown, args: { first?: number | null; filter?: { email?: string | null } | null }, ctx: FloorContext) => {
        const first = args.first ?? 20;
        const email = args.filter?.email;
        return email != null
          ? document(ctx, SQL_CUSTOMER_BY_EMAIL, [first, currency, normalizeEmail(email)], 'customers')
          : document(ctx, SQL_CUSTOMER_PAGE, [first, currency], 'customers');
      },
    },
  },
});

const apollo = new ApolloServer<FloorContext>({
  schema,
  introspection: false,
  // The same Apollo set-up as the gateway where it is about cost: no per-field plugins, no Studio.
  plugins: [
    ApolloServerPluginCacheControlDisabled(), ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginUsageReportingDisabled(),
    ApolloServerPluginSchemaReportingDisabled(), ApolloServerPluginLandingPageDisabled(),
  ],
});
await apollo.start();

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/graphql' || req.method !== 'POST') return send(res, 404, '{"errors":[{"message":"Not found: POST /graphql"}]}', 0);
  const raw = await readBody(req);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return send(res, 400, '{"errors":[{"message":"Request body is not valid JSON"}]}', 0);
  }
  const headers = new HeaderMap();
  headers.set('content-type', 'application/json');
  const ctx: FloorContext = { stats: { statements: 0 } };
  const result = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: 'POST', headers, search: '', body },
    context: () => Promise.resolve(ctx),
  });
  send(res, result.status ?? 200, result.body.kind === 'complete' ? result.body.string : '', ctx.stats.statements);
}

const server = await serveBench('floor', port, handle);

exitOnSignals(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await apollo.stop();
  await pg.end({ timeout: 5 });
});
