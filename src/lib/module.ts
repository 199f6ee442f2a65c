import type { SQL } from 'drizzle-orm';
import type { Resolvers } from '../__generated__/resolvers-types';
import type { RuleTree } from '../auth/permissions';
import type { PrivacyPolicy } from '../auth/privacy';
import type { Context } from '../context';
import type { Db } from '../db/client';
import type { Loaders } from '../loaders';
import type { FilterCondition } from './filter';
import type { CustomerRelation } from './prefetch';

/** How a per-request loader is made: from the request's Db, its row scope, and the request's other loaders. */
export type LoaderFactory = (db: Db, rowScope: SQL | undefined, self: Loaders) => unknown;

/**
 * How `node(id)` reads a Node type of the domain, or `null` when ids of that type are opaque but
 * not resolvable through `node` (read through another field, or for fewer roles than `node` is open to).
 */
export type NodeReader = ((id: string, ctx: Context) => Promise<object | null>) | null;

/**
 * Everything a domain contributes, in one place (`src/modules/<domain>/module.ts`). The registry
 * (`src/modules/index.ts`) lists the modules; the schema, the shield tree, the privacy table, the
 * loaders, the look-ahead, `node()`, the audit of admin fields and codegen iterate over it.
 */
export interface ModuleDefinition {
  /** The folder's name: `src/modules/<name>/`. */
  readonly name: string;
  /** SDL files of the domain, absolute paths (`<name>.graphql` beside module.ts). */
  readonly sdl: readonly string[];
  readonly resolvers?: Resolvers;
  /** The domain's fragment of the shield tree (`<name>.rules.ts`). */
  readonly rules?: RuleTree;
  /** The domain's rows of the privacy table, one per `@pii` field it defines (`<name>.rules.ts`). */
  readonly privacy?: PrivacyPolicy;
  /** Per-request DataLoaders, by the name resolvers use (`ctx.loaders.<name>`). */
  readonly loaders?: Readonly<Record<string, LoaderFactory>>;
  /** Customer relations a root field may fetch ahead (src/lib/prefetch.ts). */
  readonly relations?: readonly CustomerRelation<Loaders>[];
  /** The domain's conditions of the `CustomerFilter` language (`<name>.filters.ts`), over its own tables. */
  readonly filters?: readonly FilterCondition[];
  /** Node types with global ids that this domain defines, and how `node(id)` reads each. */
  readonly nodeTypes?: Readonly<Record<string, NodeReader>>;
  /** Root fields whose every call is written to the audit log, whatever it reads. */
  readonly adminFields?: readonly string[];
  /** Codegen mappers: GraphQL type -> the type exported by `<name>.mappers.ts` that its resolvers receive. */
  readonly mappers?: Readonly<Record<string, string>>;
}

/** Declares a module; checks the shape at compile time and keeps the literal types. */
export const defineModule = <const M extends ModuleDefinition>(module: M): M => module;
