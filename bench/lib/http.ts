import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { baseCurrency, benchDatabaseUrl, DEFAULT_POOL_MAX, formatReadyLine, parsePort } from './env';

/** The bench's own HTTP servers (baseline, stack floor): a JSON answer with its statement count. */
export function sendJson(res: ServerResponse, status: number, body: string, statements: number): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-sql-statements': String(statements),
  });
  res.end(body);
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * SIGTERM/SIGINT run `stop` once, then exit 0 (a normal exit, so that --cpu-prof writes its profile);
 * exit 1 if it has not finished within 10 s.
 */
export function exitOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

/**
 * Serves `handle` on 127.0.0.1:`port` (0: any free port) with keep-alive for the load generator, and
 * prints the ready line the orchestrator waits for. An error escaping `handle` answers 500.
 */
export async function serveBench(name: string, port: number, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<Server> {
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      process.stderr.write(`${name}: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      if (!res.headersSent) sendJson(res, 500, '{"errors":[{"message":"Internal server error"}]}', 0);
      else res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  process.stdout.write(formatReadyLine((server.address() as AddressInfo).port));
  return server;
}

/**
 * The command line of a bench server script (`--port`, `--pool`) and its database pool: prepared
 * statements, `application_name` customer360-bench-<name>.
 */
export function benchServerSetup(name: string): { port: number; currency: string; pg: postgres.Sql } {
  const { values } = parseArgs({ options: { port: { type: 'string' }, pool: { type: 'string' } } });
  const port = parsePort(values.port ?? process.env.BENCH_PORT, 0);
  const poolMax = Number(values.pool ?? process.env.BENCH_POOL_MAX ?? DEFAULT_POOL_MAX);
  const pg = postgres(benchDatabaseUrl(), {
    max: poolMax,
    prepare: true,
    onnotice: () => {},
    connection: { application_name: `customer360-bench-${name}` },
  });
  return { port, currency: baseCurrency(), pg };
}

export interface PostResult { status: number; text: string; serverTiming: string }

/**
 * A client for one-request-at-a-time latency: one kept-alive socket and node:http, not fetch (fetch's
 * own work, WHATWG streams and header objects, took ~0.5 ms per request, and its garbage made the
 * client's pauses part of the server's tail). Time a request from calling `post` to its resolving.
 */
export function latencyClient(headers: Record<string, string> = {}): { post(url: string, payload: string): Promise<PostResult>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    post: (url, payload) => new Promise<PostResult>((resolve, reject) => {
      const target = new URL(url);
      const req = request({
        agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), serverTiming: String(res.headers['server-timing'] ?? '') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    }),
    close: () => agent.destroy(),
  };
}
