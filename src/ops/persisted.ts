import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import { Kind, parse, print, validate, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { Redis } from 'ioredis';
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

/** ioredis as Apollo's KeyValueCache. Errors are misses (a Redis outage must not fail requests). */
export class RedisKeyValueCache implements KeyValueCache<string> {
  private readonly redis: Redis;
  constructor(url: string, private readonly logger: Logger, private readonly prefix = 'c360:') {
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
    this.redis.on('error', () => { /* reported per call */ });
  }
  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(this.prefix + key)) ?? undefined;
    } catch (err) {
      this.logger.warn({ err }, 'redis cache read failed');
      return undefined;
    }
  }
  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    try {
      if (options?.ttl) await this.redis.set(this.prefix + key, value, 'EX', Math.ceil(options.ttl));
      else await this.redis.set(this.prefix + key, value);
    } catch (err) {
      this.logger.warn({ err }, 'redis cache write failed');
    }
  }
  async delete(key: string): Promise<boolean> {
    try {
      return (await this.redis.del(this.prefix + key)) > 0;
    } catch {
      return false;
    }
  }
  close(): void { this.redis.disconnect(); }
}

/** Bounded in-process cache (one instance only; lost on restart). */
export class MemoryKeyValueCache implements KeyValueCache<string> {
  private readonly map = new Map<string, { value: string; until: number }>();
  constructor(private readonly maxEntries = 10_000) {}
  async get(key: string) {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.until && e.until < Date.now()) { this.map.delete(key); return undefined; }
    return e.value;
  }
  async set(key: string, value: string, options?: KeyValueCacheSetOptions) {
    this.map.delete(key);
    this.map.set(key, { value, until: options?.ttl ? Date.now() + options.ttl * 1000 : 0 });
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as string);
  }
  async delete(key: string) { return this.map.delete(key); }
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
