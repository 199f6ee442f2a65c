import type { Suite } from './types';

/**
 * Registered suites, loaded on demand. To add one (e.g. `scale`, `privacy`, `soak`): create
 * bench/suites/<name>.ts exporting a `Suite`, and add a line here.
 */
export const SUITES: Record<string, () => Promise<Suite>> = {
  core: async () => (await import('./core')).coreSuite,
  soak: async () => (await import('./soak')).soakSuite,
};

export async function loadSuite(name: string): Promise<Suite> {
  const load = SUITES[name];
  if (!load) throw new Error(`unknown suite "${name}" (available: ${Object.keys(SUITES).join(', ')})`);
  return load();
}
