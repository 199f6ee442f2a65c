import { baseCompile } from './base';
import { profileCompile } from './profile';
import type { DomainCompile } from './types';

export type { DomainCompile } from './types';

/** The domains whose compile rules the planner knows (one entry per domain file). */
export const DOMAIN_COMPILE: readonly DomainCompile[] = [baseCompile, profileCompile];

export const compiledRoots = (domains: readonly DomainCompile[] = DOMAIN_COMPILE): ReadonlySet<string> =>
  new Set(domains.flatMap((d) => d.roots ?? []));
export const notCompilableFields = (domains: readonly DomainCompile[] = DOMAIN_COMPILE): ReadonlySet<string> =>
  new Set(domains.flatMap((d) => d.notCompilable ?? []));
