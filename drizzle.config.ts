import { defineConfig } from 'drizzle-kit';

// Only `drizzle-kit generate` is used (no database needed). Migrations are applied in-app
// (src/db/migrate.ts) because drizzle-kit's own migrate silently skips extensions on PGlite.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './drizzle',
});
