import type { SQL } from 'drizzle-orm';
import type { Db } from './db/client';
import type { LoaderFactory } from './lib/module';
import { modules } from './modules/index';

/**
 * The loaders of a request, by name. Each module adds its own in its module.ts:
 * `declare module '../../loaders' { interface Loaders extends LoadersOf<typeof loaders> {} }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by the modules' declarations
export interface Loaders {}
/** The loaders that factories make: each is what its factory returns. */
export type LoadersOf<F> = { readonly [K in keyof F]: F[K] extends (...args: never[]) => infer R ? R : never };

/**
 * The loaders of one request. Each is made on first access and then kept on the instance: a request
 * uses a few of the ~30 (a lookup none, the full 360 about ten), and making all of them up front was
 * a tenth of the memory a lookup allocated (30 DataLoaders, their cache maps and closures, 28 KB),
 * which is garbage-collection work on every request.
 */
class RequestLoaders {
  constructor(readonly db: Db, readonly rowScope: SQL | undefined) {}
}
let defined = false;
/** Puts every module's factories on the prototype, once (on the first request: modules import this file too). */
function defineLoaders(): void {
  const factories = new Map<string, LoaderFactory>();
  for (const m of modules) {
    for (const [key, make] of Object.entries('loaders' in m ? m.loaders : {}) as [string, LoaderFactory][]) {
      if (factories.has(key)) throw new Error(`loaders: ${key} is defined by two modules`);
      factories.set(key, make);
    }
  }
  for (const [key, make] of factories) {
    Object.defineProperty(RequestLoaders.prototype, key, {
      get(this: RequestLoaders) {
        const loader = make(this.db, this.rowScope, this as unknown as Loaders);
        Object.defineProperty(this, key, { value: loader, enumerable: true });
        return loader;
      },
    });
  }
  defined = true;
}

/**
 * Per-request DataLoaders of every domain; never shared across requests (no cross-user cache).
 * `rowScope` limits the customers this request can reach at all: every entry point into a customer
 * (by id, external id, or a transaction/interaction id) applies it.
 */
export function createLoaders(db: Db, rowScope?: SQL): Loaders {
  if (!defined) defineLoaders();
  return new RequestLoaders(db, rowScope) as unknown as Loaders;
}
