ALTER TABLE "requests" ADD COLUMN "kv_tokens_retained" double precision;--> statement-breakpoint
ALTER TABLE "requests" ADD COLUMN "method" text;--> statement-breakpoint
ALTER TABLE "requests" ADD COLUMN "requested_ratio" double precision;--> statement-breakpoint
ALTER TABLE "requests" ADD COLUMN "window" integer;--> statement-breakpoint
ALTER TABLE "requests" ADD COLUMN "expected_answer" text;--> statement-breakpoint
ALTER TABLE "requests" ADD COLUMN "correct" boolean;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "output_expires_after_seconds" integer;--> statement-breakpoint
ALTER TABLE "files" ADD COLUMN "expires_at" bigint;--> statement-breakpoint
ALTER TABLE "files" ADD COLUMN "deleted_at" bigint;--> statement-breakpoint
CREATE INDEX "files_expiry" ON "files" USING btree ("deleted_at","expires_at");