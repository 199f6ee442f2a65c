import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';

/** Request headers a browser client may send (the preflight lists what it wants among these). */
export const CORS_ALLOWED_HEADERS = [
  'authorization', 'content-type', 'accept', 'x-api-key', 'x-request-id', 'apollo-require-preflight', 'x-apollo-operation-name',
];
/** Response headers the browser lets client code read besides the simple ones. */
export const CORS_EXPOSED_HEADERS = ['x-request-id', 'retry-after'];
/** How long a browser may cache a preflight answer (Chromium caps it at 2 h). */
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * CORS for browser clients on other origins (CORS_ORIGINS, exact origins only). An allowed origin
 * gets `Access-Control-Allow-Origin` (its own origin, never `*`) and may send credentials; its
 * preflight (OPTIONS) is answered 204 here, before Apollo's CSRF guard sees it. Any other origin gets
 * no CORS header at all, so the browser refuses to hand it the response.
 *
 * Returns a handler that adds the headers and answers preflights: true when it wrote the whole
 * response (a preflight), false when the request goes on to the routes.
 */
export function createCors(origins: readonly string[]): (req: IncomingMessage, res: ServerResponse) => boolean {
  const allowed = new Set(origins);
  const middleware = cors({
    // Synchronous callback: the middleware has finished when it returns.
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
    methods: ['GET', 'POST'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    credentials: true,
    maxAge: CORS_MAX_AGE_SECONDS,
    optionsSuccessStatus: 204,
  });
  return (req, res) => {
    // Answers differ by Origin once CORS is configured: caches must keep them apart.
    if (allowed.size) res.setHeader('vary', 'Origin');
    let passed = false;
    middleware(req, res, (err?: unknown) => {
      if (err) throw err;
      passed = true;
    });
    if (!passed || res.writableEnded) return true;
    if (req.method === 'OPTIONS') {
      // Not a preflight of an allowed origin: say what the endpoint supports, with no CORS headers.
      res.writeHead(204, { allow: 'GET, POST, OPTIONS' });
      res.end();
      return true;
    }
    return false;
  };
}
