-- import_runs: where the run's process is (host, pid) and its heartbeat, so that the next import can mark a run whose
-- process died (kill -9, a crash, a lost machine) INTERRUPTED instead of leaving it RUNNING forever.
ALTER TABLE "import_runs" DROP CONSTRAINT "import_runs_status_chk";--> statement-breakpoint
ALTER TABLE "import_runs" ADD COLUMN "host" text;--> statement-breakpoint
ALTER TABLE "import_runs" ADD COLUMN "pid" integer;--> statement-breakpoint
ALTER TABLE "import_runs" ADD COLUMN "heartbeat_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "import_runs" ADD CONSTRAINT "import_runs_status_chk" CHECK ("import_runs"."status" IN ('RUNNING','COMPLETED','FAILED','DRY_RUN','INTERRUPTED'));