import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KeyvAdapter } from '@apollo/utils.keyvadapter';
import { InMemoryLRUCache, type KeyValueCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import KeyvRedis, { createClient } from '@keyv/redis';
import Keyv, { type DeserializedData } from 'keyv';
import { Kind, parse, print, validate, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Logger } from '../logger';

/**
 * Persisted operations. Two sources of `sha256 -> document`:
 * - the manifest (`npm run persisted -- build <folder>`, Apollo's persisted-query-manifest format),
 *   loaded once at start from PERSISTED_OPERATIONS_FILE;
 * - automatic persisted queries (APQ): clients register a hash by sending it with its document once;
 *   registrations live in Redis when REDIS_URL is set (shared by every instance), else in memory.
 * Apollo reads both through one KeyValueCache (`apq:<hash>` keys): the manifest first.
 */
export interface PersistedManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: { id: string; name: string | null; type: 'query' | 'mutation' | 'subscription'; body: string }[];
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

const APQ_PREFIX = 'apq:';

/** Reads and checks a manifest: every id must be the sha256 of its body. */
export function loadManifest(file: string): Map<string, string> {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<PersistedManifest>;
  if (parsed.format !== 'apollo-persisted-query-manifest' || parsed.version !== 1 || !Array.isArray(parsed.operations)) {
    throw new Error(`${file}: not an apollo-persisted-query-manifest (version 1)`);
  }
  const map = new Map<string, string>();
  for (const op of parsed.operations) {
    if (sha256(op.body) !== op.id) throw new Error(`${file}: operation ${op.name ?? op.id} has an id that is not the sha256 of its body`);
    map.set(op.id, op.body);
  }
  return map;
}

/** A KeyValueCache that can be closed (the Redis connection of APQ registrations). */
export interface RegistrationCache extends KeyValueCache<string> {
  close(): Promise<void>;
}

/** How long a call waits for Redis to answer before it counts as a miss. */
const REDIS_TIMEOUT_MS = 500;
/** How long calls wait for the first connection to Redis right after start-up. */
const STARTUP_WAIT_MS = 2_000;

/**
 * Where APQ registrations live. With REDIS_URL: Redis through Keyv (`@keyv/redis`) as Apollo's
 * KeyValueCache (`@apollo/utils.keyvadapter`), keys `c360:apq:<hash>` holding the document itself (as
 * before, so instances of older and newer versions share them during a rolling deploy), expiry by Redis
 * (APQ_TTL_SECONDS). A Redis outage makes reads misses and writes no-ops at once (never an error, never
 * a wait: calls are not queued while the connection is down); it is logged at most every 30 s. Without
 * REDIS_URL: Apollo's bounded in-memory LRU cache (10,000 entries, one instance only).
 */
export function createRegistrationCache(redisUrl: string | undefined, logger: Logger): RegistrationCache {
  if (!redisUrl) {
    const memory = new InMemoryLRUCache<string>({ max: 10_000 });
    return Object.assign(memory, { close: async () => {} });
  }
  const client = createClient({
    url: redisUrl, disableOfflineQueue: true,
    socket: { connectTimeout: 2_000, reconnectStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 5_000) },
  });
  const store = new KeyvRedis<string>(client, { namespace: 'c360', keyPrefixSeparator: ':', throwOnConnectError: false, throwOnErrors: false, connectionTimeout: REDIS_TIMEOUT_MS });
  const keyv = new Keyv<string>({
    // The store prefixes keys with its namespace (c360:apq:<hash>); Keyv must not add it a second time.
    store, namespace: 'c360', useKeyPrefix: false,
    // The stored value is the document, not Keyv's {value, expires} envelope; Redis expires the key.
    serialize: (data) => String(data.value),
    deserialize: <Value>(text: string): DeserializedData<Value> => ({ value: text as Value }),
  });
  let warnedAt = 0;
  keyv.on('error', (err: unknown) => {
    if (Date.now() - warnedAt < 30_000) return;
    warnedAt = Date.now();
    logger.warn({ err }, 'APQ registrations: Redis unavailable, treating reads as misses for now');
  });
  const cache = new KeyvAdapter<string>(keyv, { disableBatchReads: true });
  // Connect now (node-redis reconnects by itself after a loss); right after start-up a call waits up to
  // STARTUP_WAIT_MS for the first connection, later ones never wait for a connection that is down.
  const started = Date.now();
  const firstConnection = client.connect().then(() => undefined, () => undefined);
  const ready = async (): Promise<boolean> => {
    if (!client.isReady && Date.now() - started < STARTUP_WAIT_MS) {
      await Promise.race([firstConnection, new Promise((r) => setTimeout(r, STARTUP_WAIT_MS - (Date.now() - started)).unref())]);
    }
    return client.isReady;
  };
  return {
    get: async (key) => ((await ready()) ? cache.get(key).catch(() => undefined) : undefined),
    set: async (key, value, options) => { if (await ready()) await cache.set(key, value, options).catch(() => undefined); },
    delete: async (key) => ((await ready()) ? cache.delete(key).catch(() => false) : false),
    close: async () => { await keyv.disconnect().catch(() => undefined); },
  };
}

/** The store Apollo's APQ reads: the manifest first, then the registrations. */
export class PersistedOperationStore implements KeyValueCache<string> {
  constructor(readonly manifest: ReadonlyMap<string, string>, readonly registrations: KeyValueCache<string>) {}
  async get(key: string): Promise<string | undefined> {
    const fromManifest = key.startsWith(APQ_PREFIX) ? this.manifest.get(key.slice(APQ_PREFIX.length)) : undefined;
    return fromManifest ?? this.registrations.get(key);
  }
  set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    // A manifest operation needs no registration.
    if (key.startsWith(APQ_PREFIX) && this.manifest.has(key.slice(APQ_PREFIX.length))) return Promise.resolve();
    return this.registrations.set(key, value, options);
  }
  delete(key: string) { return this.registrations.delete(key); }
  /** A hash of the manifest (what persisted-only API keys may run; APQ registrations are anyone's). */
  inManifest(hash: string): boolean {
    return this.manifest.has(hash);
  }
}

/** The persisted-query hash of a GraphQL-over-HTTP request (POST body or GET `extensions`), and whether it carries a document. */
export function persistedQueryOf(body: unknown, search: URLSearchParams): { hash: string | null; hasQuery: boolean } {
  let extensions: unknown;
  let query: unknown;
  if (body && typeof body === 'object') {
    ({ extensions, query } = body as { extensions?: unknown; query?: unknown });
  } else {
    query = search.get('query') ?? undefined;
    const raw = search.get('extensions');
    try { extensions = raw ? JSON.parse(raw) : undefined; } catch { extensions = undefined; }
  }
  const pq = extensions && typeof extensions === 'object' ? (extensions as { persistedQuery?: { sha256Hash?: unknown } }).persistedQuery : undefined;
  const hash = typeof pq?.sha256Hash === 'string' ? pq.sha256Hash : null;
  return { hash, hasQuery: typeof query === 'string' && query.length > 0 };
}

/**
 * A manifest from GraphQL documents: each file is one document (operations and the fragments they
 * use), normalized with `print` so whitespace and comments do not change the hash; validated against
 * the schema. Clients send `extensions.persistedQuery.sha256Hash` = the operation's `id`.
 */
export function buildManifest(files: { path: string; text: string }[], schema: GraphQLSchema): { manifest: PersistedManifest; problems: string[] } {
  const problems: string[] = [];
  const operations: PersistedManifest['operations'] = [];
  const seen = new Set<string>();
  for (const f of files) {
    let doc;
    try {
      doc = parse(f.text);
    } catch (e) {
      problems.push(`${f.path}: ${(e as Error).message}`);
      continue;
    }
    const errors = validate(schema, doc);
    if (errors.length) { problems.push(...errors.map((e) => `${f.path}: ${e.message}`)); continue; }
    const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    if (!ops.length) { problems.push(`${f.path}: no operation`); continue; }
    const body = print(doc);
    const id = sha256(body);
    if (seen.has(id)) continue;
    seen.add(id);
    operations.push({ id, name: ops[0]!.name?.value ?? null, type: ops[0]!.operation, body });
  }
  return { manifest: { format: 'apollo-persisted-query-manifest', version: 1, operations }, problems };
}
