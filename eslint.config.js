// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', 'scratch/', 'src/__generated__/', 'drizzle/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The build and run scripts are plain Node ESM (they run before anything is compiled).
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly' } },
  },
  {
    // Resolvers are thin: args -> loader/service -> mapper. They never reach the database layer.
    files: ['src/**/*.resolvers.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/db/**', '**/db/client', '**/*.repository', '**/*.repository.ts'], message: 'Resolvers must not import the database layer: go through a loader or a service.' },
          { group: ['drizzle-orm', 'drizzle-orm/*', 'postgres', '@electric-sql/*'], message: 'Resolvers must not import database drivers or the query builder.' },
        ],
      }],
    },
  },
);
