-- Hand-written: an API key may be restricted to members of segments (row scope, with purpose and
-- countries). Null = no segment restriction. No foreign key is possible on an array; segments are
-- archived, never deleted, and an archived segment has no members for the row scope (fail closed).
ALTER TABLE "api_keys" ADD COLUMN IF NOT EXISTS "segment_ids" uuid[];
--> statement-breakpoint
-- An empty list would be a key that sees nobody: creation refuses it, and so does the table.
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_segment_ids_chk" CHECK ("api_keys"."segment_ids" IS NULL OR cardinality("api_keys"."segment_ids") > 0);
