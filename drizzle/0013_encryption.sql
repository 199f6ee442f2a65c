-- Application-layer encryption (src/lib/crypto.ts): birth_date, national_id and interaction texts hold
-- `v1:<kid>:<iv>:<tag>:<ciphertext>`. Values written before this migration stay plaintext until the
-- gateway encrypts them at start-up (or `npm run keys -- rotate`); reads accept both meanwhile.
-- birth_month (the birth date truncated to its month) keeps age filters and age bands in SQL; see
-- src/db/schema/profile.ts for why the month and not the year or the day.
ALTER TABLE "customers" ADD COLUMN "birth_month" date;--> statement-breakpoint
UPDATE "customers" SET "birth_month" = date_trunc('month', "birth_date")::date WHERE "birth_date" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "customers" ALTER COLUMN "birth_date" SET DATA TYPE text USING "birth_date"::text;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "national_id" text;--> statement-breakpoint
ALTER TABLE "customers" ADD CONSTRAINT "customers_birth_month_chk" CHECK ("birth_month" = date_trunc('month', "birth_month")::date);--> statement-breakpoint
CREATE INDEX "customers_birth_month_idx" ON "customers" USING btree ("birth_month");
