-- Segments (dynamic: a CustomerFilter; static: a member list), their materialized membership with
-- history and daily sizes, the automation outbox, and webhooks with their delivery log.
CREATE TABLE "segments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"kind" text NOT NULL,
	"filter" jsonb,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"refreshed_at" timestamp with time zone,
	"archived_at" timestamp with time zone,
	CONSTRAINT "segments_kind_chk" CHECK ("segments"."kind" IN ('DYNAMIC','STATIC')),
	CONSTRAINT "segments_filter_chk" CHECK (("segments"."kind" = 'DYNAMIC') = ("segments"."filter" IS NOT NULL))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "segments_name_active_idx" ON "segments" (lower("name")) WHERE "archived_at" IS NULL;
--> statement-breakpoint
CREATE TABLE "segment_memberships" (
	"customer_id" uuid NOT NULL REFERENCES "customers"("id") ON DELETE CASCADE,
	"segment_id" uuid NOT NULL REFERENCES "segments"("id") ON DELETE CASCADE,
	"segment_version" integer NOT NULL,
	"entered_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "segment_memberships_pk" PRIMARY KEY ("customer_id","segment_id")
);
--> statement-breakpoint
CREATE INDEX "segment_memberships_segment_idx" ON "segment_memberships" ("segment_id","customer_id");
--> statement-breakpoint
CREATE TABLE "segment_membership_events" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL REFERENCES "customers"("id") ON DELETE CASCADE,
	"segment_id" uuid NOT NULL REFERENCES "segments"("id") ON DELETE CASCADE,
	"action" text NOT NULL,
	"segment_version" integer NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "segment_membership_events_pk" PRIMARY KEY ("customer_id","id"),
	CONSTRAINT "segment_membership_events_action_chk" CHECK ("segment_membership_events"."action" IN ('ENTERED','EXITED'))
);
--> statement-breakpoint
CREATE INDEX "segment_membership_events_segment_idx" ON "segment_membership_events" ("segment_id","occurred_at","id");
--> statement-breakpoint
CREATE TABLE "segment_size_snapshots" (
	"segment_id" uuid NOT NULL REFERENCES "segments"("id") ON DELETE CASCADE,
	"day" date NOT NULL,
	"size" integer NOT NULL,
	"taken_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "segment_size_snapshots_pk" PRIMARY KEY ("segment_id","day")
);
--> statement-breakpoint
-- The outbox. `xid` is the writing transaction: readers that tail the table (subscriptions) only take
-- rows of transactions older than every running one, so a late commit is never skipped.
CREATE TABLE "automation_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"xid" xid8 DEFAULT pg_current_xact_id() NOT NULL,
	"type" text NOT NULL,
	"customer_id" uuid NOT NULL,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "automation_events_type_chk" CHECK ("automation_events"."type" IN ('TAG_ADDED','TAG_CHANGED','TAG_REMOVED','SEGMENT_ENTERED','SEGMENT_EXITED'))
);
--> statement-breakpoint
CREATE INDEX "automation_events_xid_seq_idx" ON "automation_events" ("xid","seq");
--> statement-breakpoint
CREATE INDEX "automation_events_occurred_idx" ON "automation_events" ("occurred_at");
--> statement-breakpoint
CREATE INDEX "automation_events_customer_idx" ON "automation_events" ("customer_id");
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"url" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"secret" text NOT NULL,
	"event_types" text[] DEFAULT '{}' NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- One delivery per event and webhook: its id is the Idempotency-Key, so a retry or a replay carries the same key.
CREATE TABLE "webhook_deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"webhook_id" uuid NOT NULL REFERENCES "webhooks"("id") ON DELETE CASCADE,
	"event_id" uuid NOT NULL REFERENCES "automation_events"("id") ON DELETE CASCADE,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_attempt_at" timestamp with time zone,
	"last_status_code" integer,
	"last_error" text,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_deliveries_event_webhook_key" UNIQUE ("webhook_id","event_id"),
	CONSTRAINT "webhook_deliveries_status_chk" CHECK ("webhook_deliveries"."status" IN ('PENDING','DELIVERED','FAILED'))
);
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" ("next_attempt_at") WHERE "status" = 'PENDING';
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_webhook_idx" ON "webhook_deliveries" ("webhook_id","created_at","id");
--> statement-breakpoint
CREATE TABLE "webhook_delivery_attempts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"delivery_id" uuid NOT NULL REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE,
	"attempted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status_code" integer,
	"error" text,
	"duration_ms" integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX "webhook_delivery_attempts_delivery_idx" ON "webhook_delivery_attempts" ("delivery_id","attempted_at");
--> statement-breakpoint
-- Fan-out: every event gets a delivery row for each active webhook that wants its type, in the
-- transaction that wrote the event (statement-level: one INSERT per writing statement).
CREATE FUNCTION "automation_events_fan_out"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO webhook_deliveries (webhook_id, event_id)
  SELECT w.id, e.id FROM new_events e JOIN webhooks w
    ON w.active AND (cardinality(w.event_types) = 0 OR e.type = ANY(w.event_types));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "automation_events_fan_out_trg" AFTER INSERT ON "automation_events"
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION "automation_events_fan_out"();
--> statement-breakpoint
-- Erasure (GDPR): tag events carry tag values, which may be personal. The erasure transaction writes
-- its `erasures` row first; that removes the customer's outbox events (and so their pending
-- deliveries), and the tag triggers below emit nothing for an erased customer (the erasure's own tag
-- deletions included).
CREATE FUNCTION "automation_events_erase"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM automation_events e USING new_erasures n WHERE e.customer_id = n.customer_id;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "automation_events_erase_trg" AFTER INSERT ON "erasures"
  REFERENCING NEW TABLE AS new_erasures FOR EACH STATEMENT EXECUTE FUNCTION "automation_events_erase"();
--> statement-breakpoint
-- Tag events: every write path to customer_tags (mutations, rules, imports, erasure) emits them
-- atomically. A tag counts as held while unexpired; an expired row being replaced is an ADDED.
CREATE FUNCTION "customer_tags_outbox_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO automation_events (type, customer_id, payload)
  SELECT 'TAG_ADDED', n.customer_id, jsonb_build_object('tagKey', d.key, 'tagCategory', d.category, 'value', n.value, 'previousValue', NULL, 'source', n.source)
  FROM new_tags n JOIN tag_definitions d ON d.id = n.tag_id
  WHERE (n.expires_at IS NULL OR n.expires_at > now())
    AND NOT EXISTS (SELECT 1 FROM erasures x WHERE x.customer_id = n.customer_id);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION "customer_tags_outbox_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO automation_events (type, customer_id, payload)
  SELECT x.type, x.customer_id, jsonb_build_object('tagKey', d.key, 'tagCategory', d.category, 'value', x.value, 'previousValue', x.previous_value, 'source', x.source)
  FROM (
    SELECT n.customer_id, n.tag_id, n.source,
      CASE WHEN n.live AND o.live THEN 'TAG_CHANGED' WHEN n.live THEN 'TAG_ADDED' ELSE 'TAG_REMOVED' END AS type,
      CASE WHEN n.live THEN n.value END AS value,
      CASE WHEN o.live THEN o.value END AS previous_value,
      n.live AS now_live, o.live AS was_live, n.value IS DISTINCT FROM o.value AS value_changed
    FROM (SELECT *, (expires_at IS NULL OR expires_at > now()) AS live FROM new_tags) n
    JOIN (SELECT *, (expires_at IS NULL OR expires_at > now()) AS live FROM old_tags) o
      ON o.customer_id = n.customer_id AND o.tag_id = n.tag_id
  ) x JOIN tag_definitions d ON d.id = x.tag_id
  WHERE ((x.now_live <> x.was_live) OR (x.now_live AND x.value_changed))
    AND NOT EXISTS (SELECT 1 FROM erasures z WHERE z.customer_id = x.customer_id);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION "customer_tags_outbox_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO automation_events (type, customer_id, payload)
  SELECT 'TAG_REMOVED', o.customer_id, jsonb_build_object('tagKey', d.key, 'tagCategory', d.category, 'value', NULL, 'previousValue', o.value, 'source', o.source)
  FROM old_tags o JOIN tag_definitions d ON d.id = o.tag_id
  WHERE (o.expires_at IS NULL OR o.expires_at > now())
    AND NOT EXISTS (SELECT 1 FROM erasures x WHERE x.customer_id = o.customer_id);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "customer_tags_outbox_insert_trg" AFTER INSERT ON "customer_tags"
  REFERENCING NEW TABLE AS new_tags FOR EACH STATEMENT EXECUTE FUNCTION "customer_tags_outbox_insert"();
--> statement-breakpoint
CREATE TRIGGER "customer_tags_outbox_update_trg" AFTER UPDATE ON "customer_tags"
  REFERENCING OLD TABLE AS old_tags NEW TABLE AS new_tags FOR EACH STATEMENT EXECUTE FUNCTION "customer_tags_outbox_update"();
--> statement-breakpoint
CREATE TRIGGER "customer_tags_outbox_delete_trg" AFTER DELETE ON "customer_tags"
  REFERENCING OLD TABLE AS old_tags FOR EACH STATEMENT EXECUTE FUNCTION "customer_tags_outbox_delete"();
