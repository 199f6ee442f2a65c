-- Hand-written: data integration (imports, identity resolution, merges). See src/db/schema/ingest.ts.
CREATE TABLE "import_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"entity" text NOT NULL,
	"source" text NOT NULL,
	"file_name" text NOT NULL,
	"status" text DEFAULT 'RUNNING' NOT NULL,
	"rows_read" integer DEFAULT 0 NOT NULL,
	"stored" integer DEFAULT 0 NOT NULL,
	"rejected" integer DEFAULT 0 NOT NULL,
	"batches" integer DEFAULT 0 NOT NULL,
	"summary" jsonb,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "import_runs_status_chk" CHECK ("status" IN ('RUNNING','COMPLETED','FAILED','DRY_RUN'))
);
--> statement-breakpoint
CREATE INDEX "import_runs_started_idx" ON "import_runs" USING btree ("started_at");
--> statement-breakpoint
CREATE TABLE "import_staging" (
	"run_id" uuid NOT NULL,
	"batch" integer NOT NULL,
	"row_no" integer NOT NULL,
	"payload" jsonb NOT NULL,
	CONSTRAINT "import_staging_pk" PRIMARY KEY ("run_id", "row_no")
);
--> statement-breakpoint
CREATE TABLE "customer_field_sources" (
	"customer_id" uuid NOT NULL REFERENCES "customers"("id") ON DELETE CASCADE,
	"field" text NOT NULL,
	"source" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"rule" text NOT NULL,
	CONSTRAINT "customer_field_sources_pk" PRIMARY KEY ("customer_id", "field"),
	CONSTRAINT "customer_field_sources_rule_chk" CHECK ("rule" IN ('FIRST_VALUE','SOURCE_PRIORITY','MOST_RECENT','MOST_COMPLETE','MERGE'))
);
--> statement-breakpoint
CREATE TABLE "customer_source_records" (
	"customer_id" uuid NOT NULL REFERENCES "customers"("id") ON DELETE CASCADE,
	"source" text NOT NULL,
	"external_id" text NOT NULL,
	"fields" jsonb NOT NULL,
	"source_updated_at" timestamp with time zone,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_source_records_pk" PRIMARY KEY ("customer_id", "source", "external_id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "customer_source_records_source_external_id_uq" ON "customer_source_records" USING btree ("source", "external_id");
--> statement-breakpoint
CREATE TABLE "customer_merges" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"survivor_id" uuid NOT NULL,
	"merged_ids" uuid[] NOT NULL,
	"snapshot" jsonb NOT NULL,
	"merged_by" text NOT NULL,
	"merged_at" timestamp with time zone DEFAULT now() NOT NULL,
	"unmerged_by" text,
	"unmerged_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "customer_merges_survivor_idx" ON "customer_merges" USING btree ("survivor_id");
--> statement-breakpoint
CREATE INDEX "customer_merges_merged_ids_idx" ON "customer_merges" USING gin ("merged_ids");
--> statement-breakpoint
-- Merge snapshots and source records hold the personal data of the customers in them: an erasure
-- removes them too (a merge can then no longer be undone), whoever erases.
CREATE OR REPLACE FUNCTION c360_erasures_drop_merge_snapshots() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM customer_merges m USING new_rows e WHERE m.survivor_id = e.customer_id OR e.customer_id = ANY(m.merged_ids);
  DELETE FROM customer_source_records r USING new_rows e WHERE r.customer_id = e.customer_id;
  DELETE FROM customer_field_sources f USING new_rows e WHERE f.customer_id = e.customer_id;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER erasures_drop_merge_snapshots AFTER INSERT ON erasures
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION c360_erasures_drop_merge_snapshots();
