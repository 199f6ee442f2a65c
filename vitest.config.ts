import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds; Node (and so Apollo, graphql-tools, shield)
    // loads the CJS one. Make test code load the same instance, or `instanceof` checks across them fail.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // The process keyring of the encrypted columns (src/lib/crypto.ts), as the server sets it.
    setupFiles: ['test/helpers/encryption.ts'],
    testTimeout: 30_000,
    // Migrating a fresh PGlite per file takes seconds, more on a busy machine.
    hookTimeout: 180_000,
    pool: 'forks',
    // One worker per core; each test file gets its own database.
    maxWorkers: 2,
  },
});
