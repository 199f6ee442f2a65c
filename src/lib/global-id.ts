import { badUserInput } from '../errors';

/**
 * Types that have global ids. Each module adds the types it declares in its module.ts (`nodeTypes`):
 * `declare module '../../lib/global-id' { interface NodeTypes extends Record<keyof typeof nodeTypes, true> {} }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by the modules' declarations
export interface NodeTypes {}
export type NodeType = keyof NodeTypes & string;
const TYPE_NAME = /^[A-Z][A-Za-z0-9]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const toGlobalId = (type: NodeType, id: string): string => Buffer.from(`${type}:${id}`).toString('base64url');

/**
 * Decodes a global id; null when it is malformed (callers treat that as "not found"). The type is
 * only checked for its spelling: `node()` knows the registered types, the others expect one type.
 */
export function parseGlobalId(globalId: string): { type: string; id: string } | null {
  if (globalId.length > 200) return null;
  const raw = Buffer.from(globalId, 'base64url').toString('utf8');
  // Node's decoder skips characters outside the alphabet; only the canonical spelling is an id.
  if (Buffer.from(raw).toString('base64url') !== globalId) return null;
  const sep = raw.indexOf(':');
  if (sep < 0) return null;
  const type = raw.slice(0, sep);
  const id = raw.slice(sep + 1);
  if (!TYPE_NAME.test(type) || !UUID.test(id)) return null;
  return { type, id };
}

/** Decodes a global id that must be of one type; `BAD_USER_INPUT` otherwise. */
export function expectGlobalId(globalId: string, type: NodeType, field = 'id'): string {
  const parsed = parseGlobalId(globalId);
  if (!parsed || parsed.type !== type) throw badUserInput(`${field} is not a valid ${type} id`, field);
  return parsed.id;
}

/** Same as `expectGlobalId` but returns null instead of throwing (for `userErrors`). */
export function tryGlobalId(globalId: string, type: NodeType): string | null {
  const parsed = parseGlobalId(globalId);
  return parsed && parsed.type === type ? parsed.id : null;
}
