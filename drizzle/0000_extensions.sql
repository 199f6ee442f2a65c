-- Hand-written: extensions the generated migrations rely on.
-- pg_trgm backs fuzzy and "contains" search on names and emails (GIN gin_trgm_ops indexes).
-- On PGlite the extension must also be passed to the PGlite constructor (src/db/client.ts).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
