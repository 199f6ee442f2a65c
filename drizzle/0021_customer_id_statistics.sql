-- Hand-written: how many customers a child table's rows belong to, for the planner
-- (issue: search and filters at a million customers).
--
-- ANALYZE estimates distinct values of customer_id from a sample of pages, and a customer's rows are
-- written together, so each sampled page holds few customers: on 1,000,000 customers it reported 86,530
-- distinct customers with interactions (about 900,000 have some) and 66,321 with transactions (850,000).
-- Semi-joins of behavioural filters were then estimated at a tenth of their size and planned as nested
-- loops of index probes: the scale suite's three-condition filter count took 1.3-1.5 s with them and
-- 0.65-0.75 s as the hash joins chosen with the figures below.
--
-- The figures are rows per customer as a negative n_distinct (distinct = that fraction of the rows), so
-- they stay right as a table grows: about 10 transactions, 20 order lines, 5 interactions, 5 current
-- tags and 10 tag events, 2 identities, 4 consent decisions per customer. They take effect at the next
-- ANALYZE (run below; autovacuum keeps them).
ALTER TABLE "transactions" ALTER COLUMN "customer_id" SET (n_distinct = -0.1);
--> statement-breakpoint
ALTER TABLE "transaction_items" ALTER COLUMN "customer_id" SET (n_distinct = -0.05);
--> statement-breakpoint
ALTER TABLE "interactions" ALTER COLUMN "customer_id" SET (n_distinct = -0.2);
--> statement-breakpoint
ALTER TABLE "customer_tags" ALTER COLUMN "customer_id" SET (n_distinct = -0.2);
--> statement-breakpoint
ALTER TABLE "customer_tag_events" ALTER COLUMN "customer_id" SET (n_distinct = -0.1);
--> statement-breakpoint
ALTER TABLE "customer_identities" ALTER COLUMN "customer_id" SET (n_distinct = -0.5);
--> statement-breakpoint
ALTER TABLE "consents" ALTER COLUMN "customer_id" SET (n_distinct = -0.25);
--> statement-breakpoint
ANALYZE "transactions", "transaction_items", "interactions", "customer_tags", "customer_tag_events", "customer_identities", "consents";
