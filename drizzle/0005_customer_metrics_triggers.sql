-- Hand-written: keeps customer_metrics equal to the aggregate of each customer's COMPLETED transactions
-- (orders minus refunds, in base currency), in the same transaction as every write.
-- Statement-level triggers with transition tables: one refresh per statement (a COPY of 100,000 rows
-- refreshes each touched customer once), never a per-row loop.
-- Concurrency: the metrics rows are locked before the aggregate is read, so under READ COMMITTED a
-- second writer of the same customer waits and then aggregates with the first one's rows visible.
CREATE OR REPLACE FUNCTION c360_refresh_customer_metrics(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  -- Customers deleted in this statement (cascades) have nothing left to aggregate.
  ids := ARRAY(SELECT DISTINCT c.id FROM customers c WHERE c.id = ANY(ids));
  IF coalesce(array_length(ids, 1), 0) = 0 THEN RETURN; END IF;
  INSERT INTO customer_metrics (customer_id) SELECT unnest(ids) ON CONFLICT (customer_id) DO NOTHING;
  PERFORM 1 FROM customer_metrics WHERE customer_id = ANY(ids) ORDER BY customer_id FOR UPDATE;
  UPDATE customer_metrics m SET
    order_count = coalesce(a.order_count, 0),
    total_spent = coalesce(a.total_spent, 0),
    first_purchase_at = a.first_purchase_at,
    last_purchase_at = a.last_purchase_at,
    updated_at = now()
  FROM (
    SELECT k.id, agg.*
    FROM unnest(ids) AS k(id)
    LEFT JOIN LATERAL (
      SELECT count(*) FILTER (WHERE t.type = 'ORDER')::int AS order_count,
             sum(CASE WHEN t.type = 'ORDER' THEN t.amount_base ELSE -t.amount_base END) AS total_spent,
             min(t.occurred_at) FILTER (WHERE t.type = 'ORDER') AS first_purchase_at,
             max(t.occurred_at) FILTER (WHERE t.type = 'ORDER') AS last_purchase_at
      FROM transactions t
      WHERE t.customer_id = k.id AND t.status = 'COMPLETED'
    ) agg ON true
  ) a
  WHERE m.customer_id = a.id;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION c360_transactions_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM c360_refresh_customer_metrics(ARRAY(SELECT DISTINCT customer_id FROM new_rows));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION c360_transactions_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM c360_refresh_customer_metrics(ARRAY(
    SELECT customer_id FROM new_rows UNION SELECT customer_id FROM old_rows));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION c360_transactions_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM c360_refresh_customer_metrics(ARRAY(SELECT DISTINCT customer_id FROM old_rows));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION c360_customers_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO customer_metrics (customer_id) SELECT id FROM new_rows ON CONFLICT (customer_id) DO NOTHING;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER transactions_metrics_insert AFTER INSERT ON transactions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION c360_transactions_after_insert();
--> statement-breakpoint
CREATE TRIGGER transactions_metrics_update AFTER UPDATE ON transactions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION c360_transactions_after_update();
--> statement-breakpoint
CREATE TRIGGER transactions_metrics_delete AFTER DELETE ON transactions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION c360_transactions_after_delete();
--> statement-breakpoint
CREATE TRIGGER customers_metrics_insert AFTER INSERT ON customers
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION c360_customers_after_insert();
--> statement-breakpoint
-- Backfill for databases that had data before this migration.
INSERT INTO customer_metrics (customer_id) SELECT id FROM customers ON CONFLICT (customer_id) DO NOTHING;
--> statement-breakpoint
SELECT c360_refresh_customer_metrics(ARRAY(SELECT DISTINCT customer_id FROM transactions));
