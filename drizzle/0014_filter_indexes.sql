-- Hand-written: indexes for behavioural filters (CustomerFilter transactions/interactions conditions).
-- The per-customer child indexes cover the columns the filter compiler tests (type, status, channel,
-- amount, sentiment), so a condition such as "3 completed orders in the last 90 days" is answered by an
-- index-only scan per candidate customer instead of a heap visit per transaction. Same names and key
-- columns as before (keyset pagination still uses them); only INCLUDE columns are added.
DROP INDEX IF EXISTS "transactions_customer_occurred_idx";
--> statement-breakpoint
CREATE INDEX "transactions_customer_occurred_idx" ON "transactions" USING btree ("customer_id","occurred_at","id") INCLUDE ("type","status","amount_base","channel");
--> statement-breakpoint
DROP INDEX IF EXISTS "interactions_customer_occurred_idx";
--> statement-breakpoint
CREATE INDEX "interactions_customer_occurred_idx" ON "interactions" USING btree ("customer_id","occurred_at","id") INCLUDE ("type","channel","sentiment");
--> statement-breakpoint
-- "A complaint in the last 30 days": the planner starts from the (few) matching interactions and
-- joins their customers, instead of probing every customer.
CREATE INDEX IF NOT EXISTS "interactions_type_occurred_idx" ON "interactions" USING btree ("type","occurred_at") INCLUDE ("customer_id");
