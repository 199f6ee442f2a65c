/**
 * The "stack floor" of the core benchmark: what the pinned stack alone costs for the same answers.
 * Apollo Server 5 with the product's SDL (schema/*.graphql) and graphql-js execution, whose root
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
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { ApolloServer, HeaderMap } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { makeExecutableSchema } from '@graphql-tools/schema';
import postgres from 'postgres';
import { parseGlobalId } from '../src/lib/global-id';
import { normalizeEmail } from '../src/lib/normalize';
import { loadTypeDefs } from '../src/schema';
import { SQL_CUSTOMER_BY_EMAIL, SQL_CUSTOMER_BY_ID, SQL_CUSTOMER_PAGE } from './lib/baseline-sql';
import { baseCurrency, benchDatabaseUrl, DEFAULT_POOL_MAX, formatReadyLine, parsePort } from './lib/env';

/** Apollo hands resolvers a shallow copy of the context: the counter lives one level down. */
interface FloorContext { stats: { statements: number } }

const { values } = parseArgs({ options: { port: { type: 'string' }, pool: { type: 'string' } } });
const port = parsePort(values.port ?? process.env.BENCH_PORT, 0);
const poolMax = Number(values.pool ?? process.env.BENCH_POOL_MAX ?? DEFAULT_POOL_MAX);
const currency = baseCurrency();
const pg = postgres(benchDatabaseUrl(), {
  max: poolMax,
  prepare: true,
  onnotice: () => {},
  connection: { application_name: 'customer360-bench-floor' },
});

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

function send(res: ServerResponse, status: number, body: string, statements: number): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-sql-statements': String(statements),
  });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const server = createServer((req, res) => {
  handle(req, res).catch((e: unknown) => {
    process.stderr.write(`floor: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    if (!res.headersSent) send(res, 500, '{"errors":[{"message":"Internal server error"}]}', 0);
    else res.end();
  });
});
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', () => resolve());
});
process.stdout.write(formatReadyLine((server.address() as AddressInfo).port));

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await apollo.stop();
  await pg.end({ timeout: 5 });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
