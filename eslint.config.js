// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Domain boundary: code outside a domain imports only what the domain's index.ts (or module.ts, for the
 * registry) exports, never its repositories or other files.
 */
const INTO_ANOTHER_DOMAIN = { regex: '(^|/)modules/[a-z][a-z0-9-]*/(?!(index|module)$)', message: "Import another domain through its index.ts (e.g. './modules/profile'), not its files." };
/** From inside src/modules/<domain>/: `../<other>/<file>` reaches into another domain. */
const SIBLING_DOMAIN_FILE = { regex: '^\\.\\./[a-z][a-z0-9-]*/(?!(index|module)$)', message: "Import another domain through its index.ts (e.g. '../profile'), not its files." };
const DB_LAYER = [
  { group: ['**/db/**', '**/db/client', '**/*.repository', '**/*.repository.ts'], message: 'Resolvers must not import the database layer: go through a loader or a service.' },
  { group: ['drizzle-orm', 'drizzle-orm/*', 'postgres', '@electric-sql/*'], message: 'Resolvers must not import database drivers or the query builder.' },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', 'scratch/', 'src/__generated__/', 'drizzle/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Modules add their loaders and node types by augmentation: `interface Loaders extends LoadersOf<typeof loaders> {}`.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [INTO_ANOTHER_DOMAIN] }] },
  },
  {
    files: ['src/modules/*/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [INTO_ANOTHER_DOMAIN, SIBLING_DOMAIN_FILE] }] },
  },
  {
    // The build and run scripts are plain Node ESM (they run before anything is compiled).
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly' } },
  },
  {
    // Resolvers are thin: args -> loader/service -> mapper. They never reach the database layer.
    files: ['src/**/*.resolvers.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...DB_LAYER, INTO_ANOTHER_DOMAIN, SIBLING_DOMAIN_FILE] }] },
  },
);
