import type { Suite } from './types';

/**
 * Registered suites, loaded on demand. To add one (e.g. `scale`, `privacy`, `soak`): create
 * bench/suites/<name>.ts exporting a `Suite`, and add a line here.
 */
export const SUITES: Record<string, () => Promise<Suite>> = {
  core: async () => (await import('./core')).coreSuite,
  scale: async () => (await import('./scale')).scaleSuite,
  tags: async () => (await import('./tags')).tagsSuite,
  ingest: async () => (await import('./ingest')).ingestSuite,
  privacy: async () => (await import('./privacy')).privacySuite,
  soak: async () => (await import('./soak')).soakSuite,
  variants: async () => (await import('./variants')).variantsSuite,
  lookups: async () => (await import('./lookups')).lookupsSuite,
};

export async function loadSuite(name: string): Promise<Suite> {
  const load = SUITES[name];
  if (!load) throw new Error(`unknown suite "${name}" (available: ${Object.keys(SUITES).join(', ')})`);
  return load();
}
