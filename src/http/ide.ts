import type { IncomingMessage, ServerResponse } from 'node:http';
import { ruruHTML, type RuruServerConfig } from 'ruru/server';
import { getStaticFile } from 'ruru/static';

/**
 * The GraphQL IDE (Ruru: GraphiQL 5 with its editor, workers and fonts in one prebuilt bundle that
 * ships in the npm package). Everything it loads comes from this server under /ide/, so it works
 * offline and behind firewalls (Apollo's landing page loads Sandbox from Apollo's CDN).
 * On in development, elsewhere with GRAPHQL_IDE=true.
 */
export const IDE_STATIC_PATH = '/ide/';

/** The README's first query. */
export const IDE_DEFAULT_QUERY = `# Put a token in the Headers tab below (npm run -s token -- --role ADMIN), then run this query.
{
  viewer { id role }
  customers(first: 2) {
    totalCount
    edges { node { id displayName } }
  }
}
`;

/**
 * A placeholder, not a token: a page any visitor of the server can load must not carry credentials.
 * The header editor keeps what the user types (GraphiQL stores it in the browser).
 */
export const IDE_HEADER_PLACEHOLDER = 'Bearer <paste the output of: npm run -s token -- --role ADMIN>';

let page: string | undefined;
function idePage(): string {
  page ??= ruruHTML({
    staticPath: IDE_STATIC_PATH,
    endpoint: '/graphql',
    clientConfig: {
      initialQuery: IDE_DEFAULT_QUERY,
      defaultQuery: IDE_DEFAULT_QUERY,
      initialHeaders: JSON.stringify({ Authorization: IDE_HEADER_PLACEHOLDER }, null, 2),
      defaultHeaders: JSON.stringify({ Authorization: IDE_HEADER_PLACEHOLDER }, null, 2),
      isHeadersEditorEnabled: true,
      // ruru-types picks these from GraphiQL's props, which type every one as required.
    } as RuruServerConfig['clientConfig'],
    htmlParts: { titleTag: '<title>Customer 360 gateway: GraphQL IDE</title>' },
  });
  return page;
}

/**
 * Routes of the IDE: GET / redirects to /graphql, a browser's GET /graphql gets the page, /ide/* its
 * files. True when the request was answered.
 */
export async function serveIde(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (url.pathname === '/') {
    res.writeHead(302, { location: '/graphql' });
    res.end();
    return true;
  }
  if (url.pathname.startsWith(IDE_STATIC_PATH)) {
    await sendIdeAsset(req, res, url.pathname);
    return true;
  }
  if (url.pathname === '/graphql' && wantsIde(req, url)) {
    sendIde(res);
    return true;
  }
  return false;
}

/** A browser navigating to the endpoint (HTML preferred, no operation in the URL). */
function wantsIde(req: IncomingMessage, url: URL): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (url.searchParams.has('query') || url.searchParams.has('extensions')) return false;
  const accept = String(req.headers.accept ?? '');
  return /\btext\/html\b/.test(accept);
}

function sendIde(res: ServerResponse): void {
  const body = idePage();
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    // The page runs the bundled scripts and talks to this server only.
    'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self' ws: wss:",
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

/** Files under /ide/ (brotli-compressed in memory once loaded, decompressed for clients without br). */
async function sendIdeAsset(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  const file = await getStaticFile({ staticPath: IDE_STATIC_PATH, urlPath: pathname, acceptEncoding: req.headers['accept-encoding'], disallowDevAssets: true });
  if (!file) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Not found');
    return;
  }
  if (file.headers.etag && req.headers['if-none-match'] === file.headers.etag) {
    res.writeHead(304, { etag: file.headers.etag });
    res.end();
    return;
  }
  res.writeHead(200, { ...file.headers, 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' });
  res.end(req.method === 'HEAD' ? undefined : file.content);
}
