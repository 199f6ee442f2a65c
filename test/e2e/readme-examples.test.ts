import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kind, parse, print, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, ROOT, startServerProcess, type ServerProcess } from './server-process';

/**
 * Every GraphQL example of README.md, run as written against the demo data of a real server process
 * (issue 19, point 14), so that the README cannot drift from the product.
 *
 * Conventions in README.md:
 * - each ```graphql block is one or more operations, run one after the other in README order (mutations
 *   too); a ```json block right after it, whose first line is `// variables`, holds their variables;
 * - `<!-- readme-test: role=MARKETER -->` on the line before a block runs it as that role (default ADMIN);
 *   `expect=FORBIDDEN` there says that the block's error with that code is the documented outcome;
 * - a string `"<customer id>"` (angle brackets) stands for an id from an earlier result: `<x id>` is the
 *   `id` of the last `x { id }` a payload returned (`customer`, `segment`, `merge`, …); before any,
 *   `<customer id>` and `<other customer id>` are demo customers and `<other segment id>` a demo segment.
 * Any GraphQL error or non-empty `userErrors` not declared expected fails the test.
 */
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

interface Example { line: number; role: string; expect: string | null; source: string; variables: Record<string, unknown> | undefined }

function examples(): Example[] {
  const out: Example[] = [];
  const re = /(?:<!--\s*readme-test:([^>]*)-->\s*\n)?```graphql\n([\s\S]*?)```(?:\n+```json\n\/\/ variables\n([\s\S]*?)```)?/g;
  for (const m of README.matchAll(re)) {
    const opts = Object.fromEntries((m[1] ?? '').trim().split(/\s+/).filter(Boolean).map((kv) => kv.split('=') as [string, string]));
    const line = README.slice(0, m.index).split('\n').length + (m[1] ? 1 : 0);
    const doc = parse(m[2]!.replace(/"<([a-z ]+)>"/g, '"PLACEHOLDER_$1"'));
    for (const def of doc.definitions) {
      if (def.kind !== Kind.OPERATION_DEFINITION) continue;
      out.push({
        line, role: opts.role ?? 'ADMIN', expect: opts.expect ?? null,
        source: print(def as OperationDefinitionNode).replace(/"PLACEHOLDER_([a-z ]+)"/g, '"<$1>"'),
        variables: m[3] ? JSON.parse(m[3]) as Record<string, unknown> : undefined,
      });
    }
  }
  return out;
}

const EXAMPLES = examples();
const label = (e: Example) => `README.md:${e.line} ${e.role} ${e.source.replace(/\s+/g, ' ').slice(0, 90)}`;

/** Every `userErrors` list in a response. */
function userErrorsOf(v: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) for (const x of v) userErrorsOf(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'userErrors' && Array.isArray(x)) out.push(...x);
      else userErrorsOf(x, out);
    }
  }
  return out;
}

/** `<x id>` of every `x { id }` directly under a root field's payload (`upsertCustomer.customer.id` -> `<customer id>`). */
function capture(data: Record<string, unknown> | undefined, into: Map<string, string>): void {
  for (const payload of Object.values(data ?? {})) {
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) continue;
    for (const [k, v] of Object.entries(payload)) {
      const id = v && typeof v === 'object' && !Array.isArray(v) ? (v as { id?: unknown }).id : undefined;
      if (typeof id === 'string') into.set(k, id);
    }
  }
}

describe('README examples against the demo data', () => {
  let server: ServerProcess;
  const tokens = new Map<string, string>();
  const ids = new Map<string, string>();
  const token = async (role: string) => {
    let t = tokens.get(role);
    if (!t) { t = (await server.cli('src/cli/token.ts', ['--role', role])).trim(); tokens.set(role, t); }
    return t;
  };

  beforeAll(async () => {
    server = await startServerProcess();
    const admin = await token('ADMIN');
    const demo = await gql<{ customers: { edges: { node: { id: string } }[] } }>(server.url, admin, '{ customers(first: 2, orderBy: [CREATED_AT_ASC]) { edges { node { id } } } }');
    const [a, b] = demo.body.data!.customers.edges.map((e) => e.node.id);
    ids.set('customer', a!);
    ids.set('other customer', b!);
    const seg = await gql<{ createSegment: { segment: { id: string } } }>(server.url, admin,
      'mutation { createSegment(input: { name: "Churned (README test)", kind: DYNAMIC, filter: { lifecycleStage: [CHURNED] } }) { segment { id } } }');
    ids.set('other segment', seg.body.data!.createSegment.segment.id);
  }, 300_000);
  afterAll(async () => { await server?.stop(); }, 30_000);

  it('finds the README\'s examples', () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(15);
  });

  it('quick start: the token and curl commands work as written', async () => {
    const block = /```bash\n(TOKEN=\$\(npm run -s token[\s\S]*?)```/.exec(README)?.[1];
    expect(block).toBeDefined();
    const host = new URL(server.url).host;
    const script = block!.replaceAll('localhost:4000', host);
    const { stdout } = await promisify(execFile)('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd: ROOT, env: server.env });
    const body = JSON.parse(stdout) as { data?: { viewer: { role: string }; customers: { totalCount: number; edges: unknown[] } }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    expect(body.data!.viewer.role).toBe('ADMIN');
    expect(body.data!.customers.edges).toHaveLength(2);
  });

  it('subscriptions: the graphql-ws snippet receives events as written (on Node 20 too)', async () => {
    const block = /```js\n(import \{ createClient \} from 'graphql-ws';[\s\S]*?)```/.exec(README)?.[1];
    expect(block).toBeDefined();
    // Beside package.json, so that graphql-ws and ws resolve as in a user's project; `token` is the snippet's free variable.
    const file = path.join(ROOT, `.readme-subscription-${process.pid}.mjs`);
    writeFileSync(file, `const token = process.env.TOKEN;\n${block!.replaceAll('ws://localhost:4000/graphql', server.url.replace(/^http/, 'ws'))}`);
    const child = spawn(process.execPath, [file], { cwd: ROOT, env: { ...process.env, TOKEN: await token('MARKETER') }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      const received = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no event within 30 s:\n${out}`)), 30_000);
        child.stdout.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('customerId')) { clearTimeout(timer); resolve(out); } });
        child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
        child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`snippet exited with ${code}:\n${out}`)); });
      });
      // The client connects; then a segment that every customer enters publishes SEGMENT_ENTERED events.
      await new Promise((r) => setTimeout(r, 2000));
      const seg = await gql<{ createSegment: { userErrors: unknown[] } }>(server.url, await token('ADMIN'),
        'mutation { createSegment(input: { name: "Everyone (README subscription test)", kind: DYNAMIC, filter: {} }) { userErrors { message } } }');
      expect(seg.body.data!.createSegment.userErrors).toEqual([]);
      expect(await received).toContain('Everyone (README subscription test)');
    } finally {
      child.kill('SIGKILL');
      rmSync(file, { force: true });
    }
  }, 60_000);

  it.each(EXAMPLES.map((e) => [label(e), e] as const))('%s', async (_label, e) => {
    const source = e.source.replace(/"<([a-z ]+) id>"/g, (_m, name: string) => {
      const id = ids.get(name);
      expect(id, `README.md:${e.line}: no earlier result gave <${name} id>`).toBeDefined();
      return JSON.stringify(id);
    });
    const res = await gql<Record<string, unknown>>(server.url, await token(e.role), source, e.variables);
    const codes = (res.body.errors ?? []).map((x) => x.extensions?.code ?? x.message);
    expect({ codes, userErrors: userErrorsOf(res.body.data) }).toEqual({ codes: e.expect ? [e.expect] : [], userErrors: [] });
    expect(res.status).toBe(e.expect ? res.status : 200);
    capture(res.body.data, ids);
  });
});
