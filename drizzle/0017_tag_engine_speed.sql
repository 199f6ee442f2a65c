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
