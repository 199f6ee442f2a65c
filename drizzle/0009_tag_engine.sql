-- Hand-written: the tag engine (taxonomy attributes, multi-value tags, provenance, rules and their runs),
-- RFM scores and lifecycle history.
ALTER TABLE "tag_definitions" ADD COLUMN "cardinality" text DEFAULT 'SINGLE' NOT NULL;
--> statement-breakpoint
ALTER TABLE "tag_definitions" ADD COLUMN "allowed_values" text[];
--> statement-breakpoint
ALTER TABLE "tag_definitions" ADD COLUMN "default_ttl" text;
--> statement-breakpoint
ALTER TABLE "tag_definitions" ADD COLUMN "owner" text;
--> statement-breakpoint
ALTER TABLE "tag_definitions" ADD COLUMN "status" text DEFAULT 'ACTIVE' NOT NULL;
--> statement-breakpoint
ALTER TABLE "tag_definitions" ADD COLUMN "former_keys" text[] DEFAULT '{}'::text[] NOT NULL;
--> statement-breakpoint
ALTER TABLE "tag_definitions" ADD COLUMN "merged_into" uuid REFERENCES "tag_definitions"("id");
--> statement-breakpoint
ALTER TABLE "tag_definitions" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;
--> statement-breakpoint
ALTER TABLE "tag_definitions" ADD CONSTRAINT "tag_definitions_cardinality_chk" CHECK ("cardinality" IN ('SINGLE','MULTIPLE'));
--> statement-breakpoint
ALTER TABLE "tag_definitions" ADD CONSTRAINT "tag_definitions_status_chk" CHECK ("status" IN ('ACTIVE','DEPRECATED'));
--> statement-breakpoint
CREATE INDEX "tag_definitions_former_keys_idx" ON "tag_definitions" USING gin ("former_keys");
--> statement-breakpoint
-- Multi-value tags: one row per value; single-value tags keep value_key ''.
ALTER TABLE "customer_tags" ADD COLUMN "value_key" text DEFAULT '' NOT NULL;
--> statement-breakpoint
ALTER TABLE "customer_tags" DROP CONSTRAINT "customer_tags_customer_id_tag_id_pk";
--> statement-breakpoint
ALTER TABLE "customer_tags" ADD CONSTRAINT "customer_tags_customer_id_tag_id_value_key_pk" PRIMARY KEY ("customer_id","tag_id","value_key");
--> statement-breakpoint
ALTER TABLE "customer_tags" ADD COLUMN "rule_id" uuid;
--> statement-breakpoint
ALTER TABLE "customer_tags" ADD COLUMN "rule_version" integer;
--> statement-breakpoint
CREATE INDEX "customer_tags_expires_at_idx" ON "customer_tags" USING btree ("expires_at") WHERE "expires_at" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX "customer_tags_rule_idx" ON "customer_tags" USING btree ("rule_id", "customer_id") WHERE "rule_id" IS NOT NULL;
--> statement-breakpoint
ALTER TABLE "customer_tag_events" ADD COLUMN "rule_id" uuid;
--> statement-breakpoint
ALTER TABLE "customer_tag_events" ADD COLUMN "rule_version" integer;
--> statement-breakpoint
ALTER TABLE "customer_tag_events" ADD COLUMN "confidence" numeric(5, 4);
--> statement-breakpoint
ALTER TABLE "customer_tag_events" ADD COLUMN "reason" text;
--> statement-breakpoint
CREATE TABLE "tag_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"tag_id" uuid NOT NULL REFERENCES "tag_definitions"("id"),
	"filter" jsonb NOT NULL,
	"value" text,
	"value_from" jsonb,
	"confidence" numeric(5, 4),
	"referenced_tag_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tag_rules_key_unique" UNIQUE ("key")
);
--> statement-breakpoint
CREATE INDEX "tag_rules_tag_idx" ON "tag_rules" USING btree ("tag_id");
--> statement-breakpoint
CREATE INDEX "tag_rules_referenced_idx" ON "tag_rules" USING gin ("referenced_tag_ids");
--> statement-breakpoint
CREATE TABLE "tag_rule_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"rule_id" uuid NOT NULL REFERENCES "tag_rules"("id") ON DELETE cascade,
	"rule_version" integer NOT NULL,
	"trigger" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"evaluated_at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL,
	"scoped_customers" integer,
	"added" integer NOT NULL,
	"changed" integer NOT NULL,
	"removed" integer NOT NULL,
	"kept" integer NOT NULL,
	CONSTRAINT "tag_rule_runs_trigger_chk" CHECK ("trigger" IN ('ENABLE','UPDATE','MANUAL','SCHEDULE','INCREMENTAL','DISABLE'))
);
--> statement-breakpoint
CREATE INDEX "tag_rule_runs_rule_started_idx" ON "tag_rule_runs" USING btree ("rule_id", "started_at");
--> statement-breakpoint
CREATE TABLE "customer_rfm" (
	"customer_id" uuid PRIMARY KEY NOT NULL REFERENCES "customers"("id") ON DELETE cascade,
	"last_purchase_at" timestamp with time zone NOT NULL,
	"recency_days" integer NOT NULL,
	"frequency" integer NOT NULL,
	"monetary" numeric(18, 4) NOT NULL,
	"r_score" smallint NOT NULL,
	"f_score" smallint NOT NULL,
	"m_score" smallint NOT NULL,
	"segment" text NOT NULL,
	"computed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "customer_rfm_segment_chk" CHECK ("segment" IN ('CHAMPIONS','LOYAL','POTENTIAL_LOYALIST','NEW','NEEDS_ATTENTION','AT_RISK','HIBERNATING','LOST'))
);
--> statement-breakpoint
CREATE INDEX "customer_rfm_segment_idx" ON "customer_rfm" USING btree ("segment", "customer_id");
--> statement-breakpoint
CREATE TABLE "customer_lifecycle_events" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL REFERENCES "customers"("id") ON DELETE cascade,
	"from_stage" text,
	"to_stage" text NOT NULL,
	"reason" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	CONSTRAINT "customer_lifecycle_events_customer_id_id_pk" PRIMARY KEY ("customer_id", "id")
);
--> statement-breakpoint
CREATE INDEX "customer_lifecycle_events_customer_occurred_idx" ON "customer_lifecycle_events" USING btree ("customer_id", "occurred_at", "id");
--> statement-breakpoint
-- Built-in tags of the model jobs (value tier, interests); kept when they already exist.
INSERT INTO tag_definitions (key, name, description, category, value_type, cardinality, allowed_values, owner) VALUES
  ('value_tier', 'Value tier', 'High value, potential or churned; set by the value-tier model from RFM scores and the lifecycle stage.', 'VALUE', 'ENUM', 'SINGLE', ARRAY['HIGH_VALUE','POTENTIAL','CHURNED'], 'system'),
  ('interest', 'Interest', 'Product categories the customer is drawn to; confidence is the affinity (share of spend weighted by recency).', 'INTEREST', 'TEXT', 'MULTIPLE', NULL, 'system')
ON CONFLICT (key) DO NOTHING;
