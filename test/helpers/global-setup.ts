import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openDb } from '../../src/db/client';
import { migrateDb } from '../../src/db/migrate';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated template database on TEST_DATABASE_URL's server, or null (tests use in-memory PGlite). */
    templateDb: string | null;
  }
}

/**
 * With TEST_DATABASE_URL: migrate one template database once; each test file then clones it
 * (CREATE DATABASE ... TEMPLATE), which is much faster than migrating per file.
 */
export default async function setup(project: TestProject) {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    project.provide('templateDb', null);
    return;
  }
  const name = `c360_tmpl_${process.pid}_${Date.now()}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const handle = await openDb({ databaseUrl: withDatabase(url, name), pgliteDir: '', databasePoolMax: 2 });
  await migrateDb(handle);
  await handle.close();
  project.provide('templateDb', name);
  return async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  };
}

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}
