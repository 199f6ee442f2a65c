CREATE TABLE "customer_metrics" (
	"customer_id" uuid PRIMARY KEY NOT NULL,
	"order_count" integer DEFAULT 0 NOT NULL,
	"total_spent" numeric(18, 4) DEFAULT '0' NOT NULL,
	"first_purchase_at" timestamp with time zone,
	"last_purchase_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "customer_metrics" ADD CONSTRAINT "customer_metrics_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "customer_metrics_total_spent_idx" ON "customer_metrics" USING btree ("total_spent","customer_id");--> statement-breakpoint
CREATE INDEX "customer_metrics_order_count_idx" ON "customer_metrics" USING btree ("order_count","customer_id");--> statement-breakpoint
CREATE INDEX "customer_metrics_last_purchase_idx" ON "customer_metrics" USING btree (coalesce("last_purchase_at", 'epoch'::timestamptz),"customer_id");