import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The repository root (the folder holding package.json), found upwards from this file: the same from
 * src/lib/ under tsx and from a bundle in dist/ (`npm run build`), so schema/ and drizzle/ are found
 * from both.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const REPO_ROOT = findRoot(import.meta.dirname);
