import { createHmac } from 'node:crypto';
import { getDirective } from '@graphql-tools/utils';
import { isNonNullType, isObjectType, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import type { Role } from '../__generated__/resolvers-types';
import type { Config } from '../config';
import type { Context } from '../context';
import { devSecret } from './token';
import { forbidden } from '../errors';

/**
 * Field-level privacy: one table, `Type.field` -> action per role. Fields holding personal data are
 * marked `@pii(kind:)` in the SDL; every marked field must have a row (checked at start-up and by a
 * test), and the kind decides how MASK and HASH render the value so the response keeps its shape.
 */
export type FieldAction = 'ALLOW' | 'MASK' | 'HASH' | 'NULL' | 'DENY';
export type FieldPolicy = Record<Role, FieldAction>;
export type PrivacyPolicy = Record<string, FieldPolicy>;
export type PiiKind = 'NAME' | 'EMAIL' | 'PHONE' | 'BIRTH_DATE' | 'ADDRESS' | 'IDENTIFIER' | 'FREE_TEXT' | 'ACTOR' | 'NATIONAL_ID';

/** The table: the union of every domain's rows (src/schema.ts passes the registry's). */
export function buildPrivacyPolicy(fragments: readonly PrivacyPolicy[]): PrivacyPolicy {
  const out: PrivacyPolicy = {};
  for (const frag of fragments) {
    for (const [field, policy] of Object.entries(frag)) {
      if (field in out) throw new Error(`privacy: ${field} has two policies`);
      out[field] = policy;
    }
  }
  return out;
}

/** Fields a partner key's allow-list may open: the @pii fields whose PARTNER policy is not DENY. */
export function allowListableFields(schema: GraphQLSchema, policy: PrivacyPolicy): ReadonlySet<string> {
  return new Set([...piiFields(schema).keys()].filter((f) => policy[f]?.PARTNER !== 'DENY'));
}

/** Fields marked `@pii` in the schema, with their kind. */
const piiCache = new WeakMap<GraphQLSchema, Map<string, { kind: PiiKind; nonNull: boolean }>>();
export function piiFields(schema: GraphQLSchema): Map<string, { kind: PiiKind; nonNull: boolean }> {
  const hit = piiCache.get(schema);
  if (hit) return hit;
  const out = new Map<string, { kind: PiiKind; nonNull: boolean }>();
  piiCache.set(schema, out);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const pii = getDirective(schema, field, 'pii')?.[0] as { kind: PiiKind } | undefined;
      if (pii) out.set(`${type.name}.${field.name}`, { kind: pii.kind, nonNull: isNonNullType(field.type) });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Renderings. MASK keeps the shape a client expects; HASH is a keyed HMAC, a stable pseudonym that
// analysts can join on but nobody can reverse without the key.

const maskName = (v: string) => (v ? `${[...v][0]}***` : v);
const maskEmail = (v: string) => {
  const at = v.lastIndexOf('@');
  return at > 0 ? `${[...v][0]}***${v.slice(at)}` : '***';
};
/** Every digit but the last four becomes `*`: `+1 415-555-0132` -> `+* ***-***-0132`. */
const maskPhone = (v: string) => {
  const digits = v.replace(/\D/g, '').length;
  let seen = 0;
  return v.replace(/\d/g, (d) => (++seen > digits - 4 ? d : '*'));
};
/** The year only, as a valid Date (`1990-07-14` -> `1990-01-01`). */
const maskBirthDate = (v: string) => `${v.slice(0, 4)}-01-01`;
interface AddressShape { line1: string | null; line2: string | null; city: string | null; region: string | null; postalCode: string | null; country: string | null }
const maskAddress = (v: AddressShape): AddressShape => ({ line1: null, line2: null, region: null, postalCode: null, city: v.city, country: v.country });

const MASKERS: Record<PiiKind, (v: never) => unknown> = {
  NAME: maskName as (v: never) => unknown,
  EMAIL: maskEmail as (v: never) => unknown,
  PHONE: maskPhone as (v: never) => unknown,
  BIRTH_DATE: maskBirthDate as (v: never) => unknown,
  ADDRESS: maskAddress as (v: never) => unknown,
  IDENTIFIER: ((v: string) => (v.length > 2 ? `${v.slice(0, 2)}***` : '***')) as (v: never) => unknown,
  FREE_TEXT: (() => '[redacted]') as (v: never) => unknown,
  ACTOR: (() => '***') as (v: never) => unknown,
  NATIONAL_ID: ((v: string) => `***${v.slice(-4)}`) as (v: never) => unknown,
};

const HASHABLE: ReadonlySet<PiiKind> = new Set(['NAME', 'EMAIL', 'PHONE', 'IDENTIFIER', 'ACTOR']);

export function pseudonym(key: string, kind: PiiKind, value: string): string {
  const normalized = kind === 'EMAIL' ? value.trim().toLowerCase() : value.trim();
  return `anon_${createHmac('sha256', key).update(`${kind}:${normalized}`).digest('base64url').slice(0, 22)}`;
}

export type FieldMiddleware = (
  resolve: (parent: unknown, args: unknown, ctx: Context, info: GraphQLResolveInfo) => unknown,
  parent: unknown, args: unknown, ctx: Context, info: GraphQLResolveInfo,
) => unknown;

/**
 * graphql-middleware map applying the table. Fails at start-up when a @pii field has no row, a row
 * names no @pii field, NULL is set on a non-null field, or HASH on a kind that is not a string.
 */
export function privacyMiddleware(schema: GraphQLSchema, hashKey: string, policy: PrivacyPolicy) {
  const fields = piiFields(schema);
  const problems = validatePolicy(fields, policy);
  if (problems.length) throw new Error(`privacy policy:\n  ${problems.join('\n  ')}`);
  const middleware: Record<string, Record<string, FieldMiddleware>> = {};
  for (const [name, { kind }] of fields) {
    const [typeName, fieldName] = name.split('.') as [string, string];
    const rules = policy[name]!;
    const mask = MASKERS[kind];
    (middleware[typeName] ??= {})[fieldName] = (resolve, parent, args, ctx, info) => {
      const v = ctx.viewer;
      // A partner key's allow-list opens a field, unless the PARTNER column is DENY (never for partners).
      const action = v.kind === 'apiKey' && v.role === 'PARTNER' && rules.PARTNER !== 'DENY' && v.fieldAllowList.has(name) ? 'ALLOW' : rules[v.role];
      if (action === 'DENY') throw forbidden(`${ctx.viewer.role} may not read ${name}`);
      if (action === 'NULL') return null;
      const finish = (value: unknown): unknown => {
        if (value === null || value === undefined) return value;
        const customerId = customerIdOf(typeName, parent);
        if (customerId) ctx.audit.noteRead(customerId, name);
        if (action === 'ALLOW') return value;
        if (action === 'HASH') return pseudonym(hashKey, kind, String(value));
        return mask(value as never);
      };
      // Synchronous when the resolver is (most @pii fields are plain properties of the row): no promise and
      // no microtask per field and row. graphql-js treats a throw here like a rejected promise.
      const value = resolve(parent, args, ctx, info);
      return isPromiseLike(value) ? Promise.resolve(value).then(finish) : finish(value);
    };
  }
  return middleware;
}

const isPromiseLike = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

/** The customer a @pii value belongs to: the Customer itself, or the row's customer_id. */
function customerIdOf(typeName: string, parent: unknown): string | null {
  const p = parent as { id?: unknown; customerId?: unknown } | null;
  const id = typeName === 'Customer' ? p?.id : p?.customerId;
  return typeof id === 'string' ? id : null;
}

export function validatePolicy(fields: Map<string, { kind: PiiKind; nonNull: boolean }>, policy: PrivacyPolicy): string[] {
  const problems: string[] = [];
  for (const name of fields.keys()) if (!policy[name]) problems.push(`${name} is marked @pii but has no policy row`);
  for (const [name, rules] of Object.entries(policy)) {
    const f = fields.get(name);
    if (!f) { problems.push(`${name} has a policy row but is not a @pii field`); continue; }
    for (const [role, action] of Object.entries(rules)) {
      if (action === 'NULL' && f.nonNull) problems.push(`${name}: NULL for ${role} on a non-null field (use MASK or HASH)`);
      if (action === 'HASH' && !HASHABLE.has(f.kind)) problems.push(`${name}: HASH for ${role} on ${f.kind} (use MASK or NULL)`);
    }
  }
  return problems;
}

/** HMAC key of pseudonyms and erasure blocklists: PRIVACY_HASH_KEY, or a development key in the data directory. */
export const resolvePrivacyHashKey = (config: Pick<Config, 'privacyHashKey' | 'devSecretsDir'>): string =>
  config.privacyHashKey ?? devSecret(config.devSecretsDir, 'dev-privacy-hash-key');
