-- Hand-written: the newest order times of each customer, maintained with the other purchase aggregates
-- (issue: search and filters at a million customers).
--
-- `recent_orders` holds the occurred_at of the customer's newest 32 COMPLETED orders, newest first. A
-- behavioural filter "at least k orders since T" (k <= 32) is then `recent_orders[k] >= T`, and "at most
-- k orders since T" is `recent_orders[k+1] IS NULL OR recent_orders[k+1] < T`: exact, because the array
-- holds the newest orders and a shorter array means the customer has fewer orders. The filter compiler
-- (src/modules/profile/customer-filter.ts) uses it for count conditions on orders without channel or
-- category and without an upper window bound; everything else still aggregates `transactions`.
-- Measured on 1,000,000 customers: "3 orders in the last 365 days" was an index probe per candidate
-- customer (about 3 s of the scale suite's 4 s filter count).
--
-- Maintained in the same transaction as every write, by the same statement-level triggers as the other
-- metrics: inserts merge the statement's new orders into the array, updates and deletes re-aggregate.
ALTER TABLE "customer_metrics" ADD COLUMN "recent_orders" timestamptz[] DEFAULT '{}' NOT NULL;
--> statement-breakpoint
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
    recent_orders = coalesce(a.recent_orders, '{}'),
    updated_at = now()
  FROM (
    SELECT k.id, agg.*, r.recent_orders
    FROM unnest(ids) AS k(id)
    LEFT JOIN LATERAL (
      SELECT count(*) FILTER (WHERE t.type = 'ORDER')::int AS order_count,
             sum(CASE WHEN t.type = 'ORDER' THEN t.amount_base ELSE -t.amount_base END) AS total_spent,
             min(t.occurred_at) FILTER (WHERE t.type = 'ORDER') AS first_purchase_at,
             max(t.occurred_at) FILTER (WHERE t.type = 'ORDER') AS last_purchase_at
      FROM transactions t
      WHERE t.customer_id = k.id AND t.status = 'COMPLETED'
    ) agg ON true
    LEFT JOIN LATERAL (
      SELECT array_agg(o.occurred_at ORDER BY o.occurred_at DESC) AS recent_orders
      FROM (SELECT t.occurred_at FROM transactions t
            WHERE t.customer_id = k.id AND t.status = 'COMPLETED' AND t.type = 'ORDER'
            ORDER BY t.occurred_at DESC LIMIT 32) o
    ) r ON true
  ) a
  WHERE m.customer_id = a.id;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION c360_transactions_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids uuid[];
  missing uuid[] := '{}';
  locked bigint;
BEGIN
  ids := ARRAY(SELECT DISTINCT customer_id FROM new_rows ORDER BY 1);
  PERFORM 1 FROM customer_metrics WHERE customer_id = ANY(ids) ORDER BY customer_id FOR UPDATE;
  GET DIAGNOSTICS locked = ROW_COUNT;
  -- Every customer gets its row when created (customers_metrics_insert). A customer without one (its row
  -- was deleted) is aggregated in full, which includes this statement's rows, and left out of the increment.
  IF locked < coalesce(array_length(ids, 1), 0) THEN
    missing := ARRAY(SELECT i FROM unnest(ids) i WHERE NOT EXISTS (SELECT 1 FROM customer_metrics m WHERE m.customer_id = i));
    PERFORM c360_refresh_customer_metrics(missing);
  END IF;
  UPDATE customer_metrics m SET
    order_count = m.order_count + d.order_count,
    total_spent = m.total_spent + d.total_spent,
    first_purchase_at = least(m.first_purchase_at, d.first_purchase_at),
    last_purchase_at = greatest(m.last_purchase_at, d.last_purchase_at),
    recent_orders = CASE WHEN d.new_orders IS NULL THEN m.recent_orders ELSE ARRAY(
      SELECT x FROM unnest(m.recent_orders || d.new_orders) x ORDER BY x DESC LIMIT 32) END,
    updated_at = now()
  FROM (
    SELECT n.customer_id,
           count(*) FILTER (WHERE n.type = 'ORDER')::int AS order_count,
           coalesce(sum(CASE WHEN n.type = 'ORDER' THEN n.amount_base ELSE -n.amount_base END), 0) AS total_spent,
           min(n.occurred_at) FILTER (WHERE n.type = 'ORDER') AS first_purchase_at,
           max(n.occurred_at) FILTER (WHERE n.type = 'ORDER') AS last_purchase_at,
           array_agg(n.occurred_at) FILTER (WHERE n.type = 'ORDER') AS new_orders
    FROM new_rows n WHERE n.status = 'COMPLETED' GROUP BY n.customer_id
  ) d
  WHERE m.customer_id = d.customer_id AND NOT (d.customer_id = ANY(missing));
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Backfill: every customer with completed orders (one pass over the orders, newest 32 per customer).
UPDATE customer_metrics m SET recent_orders = r.recent_orders
FROM (
  SELECT customer_id, array_agg(occurred_at ORDER BY occurred_at DESC) AS recent_orders
  FROM (SELECT customer_id, occurred_at, row_number() OVER (PARTITION BY customer_id ORDER BY occurred_at DESC) AS n
        FROM transactions WHERE status = 'COMPLETED' AND type = 'ORDER') t
  WHERE n <= 32
  GROUP BY customer_id
) r
WHERE m.customer_id = r.customer_id;
