CREATE TABLE "consents" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"purpose" text NOT NULL,
	"status" text NOT NULL,
	"source" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "consents_customer_id_id_pk" PRIMARY KEY("customer_id","id"),
	CONSTRAINT "consents_status_chk" CHECK ("consents"."status" IN ('GRANTED','DENIED','WITHDRAWN'))
);
--> statement-breakpoint
CREATE TABLE "customer_identities" (
	"customer_id" uuid NOT NULL,
	"source" text NOT NULL,
	"external_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_identities_customer_id_source_external_id_pk" PRIMARY KEY("customer_id","source","external_id")
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"first_name" text,
	"last_name" text,
	"display_name" text NOT NULL,
	"email" text,
	"email_normalized" text,
	"phone" text,
	"phone_e164" text,
	"birth_date" date,
	"gender" text,
	"address_line1" text,
	"address_line2" text,
	"city" text,
	"region" text,
	"postal_code" text,
	"country" char(2),
	"lifecycle_stage" text DEFAULT 'PROSPECT' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customers_gender_chk" CHECK ("customers"."gender" IN ('FEMALE','MALE','NON_BINARY','UNKNOWN')),
	CONSTRAINT "customers_lifecycle_chk" CHECK ("customers"."lifecycle_stage" IN ('PROSPECT','NEW','ACTIVE','AT_RISK','CHURNED','REACTIVATED'))
);
--> statement-breakpoint
CREATE TABLE "customer_tag_events" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"tag_id" uuid NOT NULL,
	"action" text NOT NULL,
	"value" text,
	"previous_value" text,
	"source" text NOT NULL,
	"actor" text,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_tag_events_customer_id_id_pk" PRIMARY KEY("customer_id","id"),
	CONSTRAINT "customer_tag_events_action_chk" CHECK ("customer_tag_events"."action" IN ('ADDED','CHANGED','REMOVED'))
);
--> statement-breakpoint
CREATE TABLE "customer_tags" (
	"customer_id" uuid NOT NULL,
	"tag_id" uuid NOT NULL,
	"value" text,
	"source" text NOT NULL,
	"actor" text,
	"confidence" numeric(5, 4),
	"assigned_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	CONSTRAINT "customer_tags_customer_id_tag_id_pk" PRIMARY KEY("customer_id","tag_id"),
	CONSTRAINT "customer_tags_source_chk" CHECK ("customer_tags"."source" IN ('MANUAL','RULE','IMPORT','MODEL'))
);
--> statement-breakpoint
CREATE TABLE "tag_categories" (
	"key" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tag_definitions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"category" text NOT NULL,
	"value_type" text DEFAULT 'BOOLEAN' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tag_definitions_key_unique" UNIQUE("key"),
	CONSTRAINT "tag_definitions_value_type_chk" CHECK ("tag_definitions"."value_type" IN ('BOOLEAN','TEXT','NUMBER','ENUM'))
);
--> statement-breakpoint
CREATE TABLE "currency_rates" (
	"currency" char(3) NOT NULL,
	"base_currency" char(3) NOT NULL,
	"valid_from" date NOT NULL,
	"rate" numeric(18, 8) NOT NULL,
	CONSTRAINT "currency_rates_currency_base_currency_valid_from_pk" PRIMARY KEY("currency","base_currency","valid_from")
);
--> statement-breakpoint
CREATE TABLE "transaction_items" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"transaction_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"sku" text NOT NULL,
	"product_name" text NOT NULL,
	"category" text,
	"quantity" integer NOT NULL,
	"unit_price" numeric(18, 4) NOT NULL,
	CONSTRAINT "transaction_items_customer_id_id_pk" PRIMARY KEY("customer_id","id"),
	CONSTRAINT "transaction_items_quantity_chk" CHECK ("transaction_items"."quantity" > 0)
);
--> statement-breakpoint
CREATE TABLE "transactions" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"source" text NOT NULL,
	"external_id" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"type" text NOT NULL,
	"status" text DEFAULT 'COMPLETED' NOT NULL,
	"channel" text,
	"store" text,
	"currency" char(3) NOT NULL,
	"amount" numeric(18, 4) NOT NULL,
	"amount_base" numeric(18, 4) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "transactions_customer_id_id_pk" PRIMARY KEY("customer_id","id"),
	CONSTRAINT "transactions_type_chk" CHECK ("transactions"."type" IN ('ORDER','REFUND')),
	CONSTRAINT "transactions_status_chk" CHECK ("transactions"."status" IN ('PENDING','COMPLETED','CANCELLED'))
);
--> statement-breakpoint
CREATE TABLE "interactions" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" uuid NOT NULL,
	"source" text NOT NULL,
	"external_id" text NOT NULL,
	"channel" text NOT NULL,
	"type" text NOT NULL,
	"direction" text DEFAULT 'INBOUND' NOT NULL,
	"subject" text,
	"summary" text,
	"sentiment" text,
	"status" text DEFAULT 'OPEN' NOT NULL,
	"agent" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "interactions_customer_id_id_pk" PRIMARY KEY("customer_id","id"),
	CONSTRAINT "interactions_channel_chk" CHECK ("interactions"."channel" IN ('EMAIL','PHONE','CHAT','SOCIAL','STORE','WEB','APP')),
	CONSTRAINT "interactions_type_chk" CHECK ("interactions"."type" IN ('TICKET','CALL','MESSAGE','VISIT','FEEDBACK','COMPLAINT')),
	CONSTRAINT "interactions_direction_chk" CHECK ("interactions"."direction" IN ('INBOUND','OUTBOUND')),
	CONSTRAINT "interactions_sentiment_chk" CHECK ("interactions"."sentiment" IS NULL OR "interactions"."sentiment" IN ('POSITIVE','NEUTRAL','NEGATIVE')),
	CONSTRAINT "interactions_status_chk" CHECK ("interactions"."status" IN ('OPEN','PENDING','RESOLVED','CLOSED'))
);
--> statement-breakpoint
ALTER TABLE "consents" ADD CONSTRAINT "consents_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_identities" ADD CONSTRAINT "customer_identities_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_tag_events" ADD CONSTRAINT "customer_tag_events_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_tag_events" ADD CONSTRAINT "customer_tag_events_tag_id_tag_definitions_id_fk" FOREIGN KEY ("tag_id") REFERENCES "public"."tag_definitions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_tags" ADD CONSTRAINT "customer_tags_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_tags" ADD CONSTRAINT "customer_tags_tag_id_tag_definitions_id_fk" FOREIGN KEY ("tag_id") REFERENCES "public"."tag_definitions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tag_definitions" ADD CONSTRAINT "tag_definitions_category_tag_categories_key_fk" FOREIGN KEY ("category") REFERENCES "public"."tag_categories"("key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transaction_items" ADD CONSTRAINT "transaction_items_customer_id_transaction_id_transactions_customer_id_id_fk" FOREIGN KEY ("customer_id","transaction_id") REFERENCES "public"."transactions"("customer_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transactions" ADD CONSTRAINT "transactions_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "interactions" ADD CONSTRAINT "interactions_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "consents_customer_purpose_recorded_idx" ON "consents" USING btree ("customer_id","purpose","recorded_at");--> statement-breakpoint
CREATE UNIQUE INDEX "customer_identities_source_external_id_uq" ON "customer_identities" USING btree ("source","external_id");--> statement-breakpoint
CREATE INDEX "customers_email_normalized_idx" ON "customers" USING btree ("email_normalized");--> statement-breakpoint
CREATE INDEX "customers_phone_e164_idx" ON "customers" USING btree ("phone_e164");--> statement-breakpoint
CREATE INDEX "customers_created_at_id_idx" ON "customers" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "customers_display_name_id_idx" ON "customers" USING btree ("display_name","id");--> statement-breakpoint
CREATE INDEX "customers_country_idx" ON "customers" USING btree ("country");--> statement-breakpoint
CREATE INDEX "customers_lifecycle_stage_idx" ON "customers" USING btree ("lifecycle_stage");--> statement-breakpoint
CREATE INDEX "customers_display_name_trgm_idx" ON "customers" USING gin ("display_name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "customers_email_trgm_idx" ON "customers" USING gin ("email_normalized" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "customer_tag_events_customer_occurred_idx" ON "customer_tag_events" USING btree ("customer_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "customer_tags_tag_idx" ON "customer_tags" USING btree ("tag_id");--> statement-breakpoint
CREATE INDEX "tag_definitions_category_idx" ON "tag_definitions" USING btree ("category");--> statement-breakpoint
CREATE INDEX "transaction_items_transaction_idx" ON "transaction_items" USING btree ("transaction_id","position");--> statement-breakpoint
CREATE INDEX "transactions_id_idx" ON "transactions" USING btree ("id");--> statement-breakpoint
CREATE UNIQUE INDEX "transactions_source_external_id_uq" ON "transactions" USING btree ("source","external_id");--> statement-breakpoint
CREATE INDEX "transactions_customer_occurred_idx" ON "transactions" USING btree ("customer_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "interactions_id_idx" ON "interactions" USING btree ("id");--> statement-breakpoint
CREATE UNIQUE INDEX "interactions_source_external_id_uq" ON "interactions" USING btree ("source","external_id");--> statement-breakpoint
CREATE INDEX "interactions_customer_occurred_idx" ON "interactions" USING btree ("customer_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "interactions_customer_channel_occurred_idx" ON "interactions" USING btree ("customer_id","channel","occurred_at","id");