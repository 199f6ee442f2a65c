CREATE TABLE "erasures" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"blocked_hashes" text[] NOT NULL,
	"reason" text NOT NULL,
	"erased_by" text NOT NULL,
	"erased_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "erasures_customer_idx" ON "erasures" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "erasures_blocked_hashes_idx" ON "erasures" USING gin ("blocked_hashes");