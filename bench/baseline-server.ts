/**
 * The baseline of the core benchmark: the smallest honest HTTP endpoint that returns the same JSON as
 * the gateway, with the SQL an engineer would write by hand for exactly these three screens.
 *
 *   POST /a  {"id": "<Customer global id>"}   -> {"data":{"customer":{...}}}
 *   POST /b  {"first": 50}                     -> {"data":{"customers":{...}}}
 *   POST /c  {"email": "ann@example.com"}      -> {"data":{"customers":{...}}}   (first: 1)
 *   POST /lookup-email {"email": " ANN@example.com "}  -> the scale suite's email lookup (first: 5)
 *   POST /lookup-phone {"phone": "(415) 555-0132"}     -> the scale suite's phone lookup (first: 5)
 *
 * Each request is ONE prepared statement that builds the whole `data` document in PostgreSQL
 * (json_build_object / json_agg over correlated, index-backed subqueries); Node only wraps the text in
 * `{"data": ...}` and writes it, without parsing or re-serializing. The SQL is in bench/lib/baseline-sql.ts,
 * with the same semantics as the gateway's repositories (src/modules/<domain>/<domain>.repository.ts).
 * What it deliberately leaves out, because the gateway's extra work is what the ratio measures:
 * authentication, authorization, GraphQL parsing/validation/execution, DataLoader batching.
 *
 *   tsx bench/baseline-server.ts [--port 4200] [--pool 10]
 *
 * Prints `BENCH-READY {"port":..}` when listening. Reports its statement count in `x-sql-statements`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseGlobalId } from '../src/lib/global-id';
import { normalizeEmail, normalizePhone } from '../src/lib/normalize';
import { SQL_CUSTOMER_BY_EMAIL, SQL_CUSTOMER_BY_ID, SQL_CUSTOMER_PAGE, SQL_LOOKUP_BY_EMAIL, SQL_LOOKUP_BY_PHONE } from './lib/baseline-sql';
import { benchServerSetup, exitOnSignals, readBody, sendJson as send, serveBench } from './lib/http';

// ---------------------------------------------------------------------------------------------
// HTTP

class BadRequest extends Error {}

interface Route { sql: string; params(body: Record<string, unknown>, currency: string): (string | number | null)[] }

const ROUTES: Record<string, Route> = {
  '/a': {
    sql: SQL_CUSTOMER_BY_ID,
    params(body, currency) {
      const parsed = typeof body.id === 'string' ? parseGlobalId(body.id) : null;
      if (!parsed || parsed.type !== 'Customer') throw new BadRequest('id is not a valid Customer id');
      return [parsed.id, currency];
    },
  },
  '/b': {
    sql: SQL_CUSTOMER_PAGE,
    params(body, currency) {
      const first = body.first ?? 20;
      if (typeof first !== 'number' || !Number.isInteger(first) || first < 0 || first > 100) throw new BadRequest('first must be between 0 and 100');
      return [first, currency];
    },
  },
  '/c': {
    sql: SQL_CUSTOMER_BY_EMAIL,
    params(body, currency) {
      if (typeof body.email !== 'string') throw new BadRequest('email is required');
      // Same definition of "the same email" as the gateway's filter; an invalid one matches nobody.
      return [1, currency, normalizeEmail(body.email)];
    },
  },
  '/lookup-email': {
    sql: SQL_LOOKUP_BY_EMAIL,
    params(body) {
      if (typeof body.email !== 'string') throw new BadRequest('email is required');
      return [normalizeEmail(body.email)];
    },
  },
  '/lookup-phone': {
    sql: SQL_LOOKUP_BY_PHONE,
    params(body) {
      if (typeof body.phone !== 'string') throw new BadRequest('phone is required');
      // The gateway's default region (DEFAULT_PHONE_REGION, US unless set).
      return [normalizePhone(body.phone, process.env.DEFAULT_PHONE_REGION || 'US')];
    },
  },
};

async function main(): Promise<void> {
  const { port, currency, pg } = benchServerSetup('baseline');

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz') return send(res, 200, '{"status":"ok"}', 0);
    const route = ROUTES[path];
    if (!route || req.method !== 'POST') return send(res, 404, '{"errors":[{"message":"Not found: POST /a, /b, /c, /lookup-email or /lookup-phone"}]}', 0);
    let params: (string | number | null)[];
    try {
      const raw = await readBody(req);
      const body: unknown = raw ? JSON.parse(raw) : {};
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('body must be a JSON object of variables');
      params = route.params(body as Record<string, unknown>, currency);
    } catch (e) {
      if (e instanceof BadRequest || e instanceof SyntaxError) return send(res, 400, JSON.stringify({ errors: [{ message: e.message }] }), 0);
      throw e;
    }
    // Statements this request ran, counted where they are sent (x-sql-statements, like the gateway).
    const stats = { statements: 0 };
    const query = (text: string, args: (string | number | null)[]) => {
      stats.statements++;
      return pg.unsafe<{ body: string }[]>(text, args, { prepare: true });
    };
    const rows = await query(route.sql, params);
    send(res, 200, `{"data":${rows[0]?.body ?? 'null'}}`, stats.statements);
  };

  const server = await serveBench('baseline', port, handle);

  exitOnSignals(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pg.end({ timeout: 5 });
  });
}

await main();
