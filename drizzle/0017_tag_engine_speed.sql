-- Hand-written: the RFM refresh writes only the customers whose scores changed. The time of the
-- refresh is stored once (rfm_refresh, one row) instead of on every customer's row, and the days from
-- the last order to the refresh are derived from it when read, so an unchanged row stays untouched.
CREATE TABLE "rfm_refresh" (
	"id" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"computed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "rfm_refresh_single_row_chk" CHECK ("id")
);
--> statement-breakpoint
-- Every refresh rewrote every row: their computed_at is the last refresh.
INSERT INTO "rfm_refresh" ("id", "computed_at") SELECT true, max("computed_at") FROM "customer_rfm" HAVING count(*) > 0;
--> statement-breakpoint
ALTER TABLE "customer_rfm" DROP COLUMN "recency_days";
--> statement-breakpoint
ALTER TABLE "customer_rfm" DROP COLUMN "computed_at";
--> statement-breakpoint
-- Outbox ids in time order (UUID version 7: 48 bits of Unix milliseconds, then random bits), so that a
-- statement emitting hundreds of thousands of events appends to the primary-key index instead of
-- writing into random leaf pages (measured on 1,000,000 customers: an apply's 277,000 TAG_ADDED events
-- read 195,000 and wrote back 140,000 index pages with random ids, 12,000 and 18,000 with these).
CREATE OR REPLACE FUNCTION "c360_uuid_v7"() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
    PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;
--> statement-breakpoint
ALTER TABLE "automation_events" ALTER COLUMN "id" SET DEFAULT c360_uuid_v7();
--> statement-breakpoint
-- The tag outbox triggers skip erased customers. With no erasure at all, the planner probed the empty
-- erasures table once per new row (a sequential scan each: 1.6 s for 277,000 rows); the uncorrelated
-- EXISTS is evaluated once per statement and short-circuits that. The update trigger also pairs old and
-- new rows by the whole primary key: paired by customer and tag only, one statement updating two values
-- of a multi-value tag (the interest model's confidence refresh) emitted TAG_CHANGED for the cross pairs.
CREATE OR REPLACE FUNCTION "customer_tags_outbox_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO automation_events (type, customer_id, payload)
  SELECT 'TAG_ADDED', n.customer_id, jsonb_build_object('tagKey', d.key, 'tagCategory', d.category, 'value', n.value, 'previousValue', NULL, 'source', n.source)
  FROM new_tags n JOIN tag_definitions d ON d.id = n.tag_id
  WHERE (n.expires_at IS NULL OR n.expires_at > now())
    AND (NOT EXISTS (SELECT 1 FROM erasures) OR NOT EXISTS (SELECT 1 FROM erasures x WHERE x.customer_id = n.customer_id));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "customer_tags_outbox_update"() RETURNS trigger LANGUAGE plpgsql AS $$
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
      ON o.customer_id = n.customer_id AND o.tag_id = n.tag_id AND o.value_key = n.value_key
  ) x JOIN tag_definitions d ON d.id = x.tag_id
  WHERE ((x.now_live <> x.was_live) OR (x.now_live AND x.value_changed))
    AND (NOT EXISTS (SELECT 1 FROM erasures) OR NOT EXISTS (SELECT 1 FROM erasures z WHERE z.customer_id = x.customer_id));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "customer_tags_outbox_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO automation_events (type, customer_id, payload)
  SELECT 'TAG_REMOVED', o.customer_id, jsonb_build_object('tagKey', d.key, 'tagCategory', d.category, 'value', NULL, 'previousValue', o.value, 'source', o.source)
  FROM old_tags o JOIN tag_definitions d ON d.id = o.tag_id
  WHERE (o.expires_at IS NULL OR o.expires_at > now())
    AND (NOT EXISTS (SELECT 1 FROM erasures) OR NOT EXISTS (SELECT 1 FROM erasures x WHERE x.customer_id = o.customer_id));
  RETURN NULL;
END $$;
