CREATE TABLE "audit_log" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_kind" text NOT NULL,
	"actor_id" text NOT NULL,
	"role" text NOT NULL,
	"action" text NOT NULL,
	"customer_id" uuid,
	"fields" text[] NOT NULL,
	"operation_name" text,
	"request_id" text NOT NULL,
	CONSTRAINT "audit_log_action_chk" CHECK ("audit_log"."action" IN ('READ','WRITE','ADMIN'))
);
--> statement-breakpoint
CREATE INDEX "audit_log_customer_occurred_idx" ON "audit_log" USING btree ("customer_id","occurred_at");--> statement-breakpoint
CREATE INDEX "audit_log_occurred_idx" ON "audit_log" USING btree ("occurred_at");