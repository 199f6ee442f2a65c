-- Drizzle's snapshot catches up with migrations 0009-0021, which were written by hand: from here on
-- `npm run db:generate` diffs the schema in src/db/schema against drizzle/meta/0022_snapshot.json (the
-- whole current schema) and emits only what changed. The hand-written migrations declared their foreign
-- keys inline, so PostgreSQL named them <table>_<column>_fkey; Drizzle names them
-- <table>_<column>_<target>_<column>_fk. They are renamed to Drizzle's names (a catalog change, no
-- table is rewritten or locked for long), so that a generated migration that drops or changes one
-- finds it. Every table, column, index and key the snapshot declares exists in the database under the
-- same name (checked against a database migrated from scratch); functions, triggers and the indexes
-- only SQL can express stay outside Drizzle's view, as before.
ALTER TABLE "customer_search_words" RENAME CONSTRAINT "customer_search_words_customer_id_fkey" TO "customer_search_words_customer_id_customers_id_fk";--> statement-breakpoint
ALTER TABLE "customer_lifecycle_events" RENAME CONSTRAINT "customer_lifecycle_events_customer_id_fkey" TO "customer_lifecycle_events_customer_id_customers_id_fk";--> statement-breakpoint
ALTER TABLE "customer_rfm" RENAME CONSTRAINT "customer_rfm_customer_id_fkey" TO "customer_rfm_customer_id_customers_id_fk";--> statement-breakpoint
ALTER TABLE "tag_rule_runs" RENAME CONSTRAINT "tag_rule_runs_rule_id_fkey" TO "tag_rule_runs_rule_id_tag_rules_id_fk";--> statement-breakpoint
ALTER TABLE "tag_rules" RENAME CONSTRAINT "tag_rules_tag_id_fkey" TO "tag_rules_tag_id_tag_definitions_id_fk";--> statement-breakpoint
ALTER TABLE "segment_membership_events" RENAME CONSTRAINT "segment_membership_events_customer_id_fkey" TO "segment_membership_events_customer_id_customers_id_fk";--> statement-breakpoint
ALTER TABLE "segment_membership_events" RENAME CONSTRAINT "segment_membership_events_segment_id_fkey" TO "segment_membership_events_segment_id_segments_id_fk";--> statement-breakpoint
ALTER TABLE "segment_memberships" RENAME CONSTRAINT "segment_memberships_customer_id_fkey" TO "segment_memberships_customer_id_customers_id_fk";--> statement-breakpoint
ALTER TABLE "segment_memberships" RENAME CONSTRAINT "segment_memberships_segment_id_fkey" TO "segment_memberships_segment_id_segments_id_fk";--> statement-breakpoint
ALTER TABLE "segment_size_snapshots" RENAME CONSTRAINT "segment_size_snapshots_segment_id_fkey" TO "segment_size_snapshots_segment_id_segments_id_fk";--> statement-breakpoint
ALTER TABLE "webhook_deliveries" RENAME CONSTRAINT "webhook_deliveries_webhook_id_fkey" TO "webhook_deliveries_webhook_id_webhooks_id_fk";--> statement-breakpoint
ALTER TABLE "webhook_deliveries" RENAME CONSTRAINT "webhook_deliveries_event_id_fkey" TO "webhook_deliveries_event_id_automation_events_id_fk";--> statement-breakpoint
ALTER TABLE "webhook_delivery_attempts" RENAME CONSTRAINT "webhook_delivery_attempts_delivery_id_fkey" TO "webhook_delivery_attempts_delivery_id_webhook_deliveries_id_fk";--> statement-breakpoint
ALTER TABLE "customer_field_sources" RENAME CONSTRAINT "customer_field_sources_customer_id_fkey" TO "customer_field_sources_customer_id_customers_id_fk";--> statement-breakpoint
ALTER TABLE "customer_source_records" RENAME CONSTRAINT "customer_source_records_customer_id_fkey" TO "customer_source_records_customer_id_customers_id_fk";--> statement-breakpoint
ALTER TABLE "tag_definitions" RENAME CONSTRAINT "tag_definitions_merged_into_fkey" TO "tag_definitions_merged_into_tag_definitions_id_fk";
