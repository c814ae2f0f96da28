CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"key_hash" text NOT NULL,
	"label" text,
	"created_at" bigint NOT NULL,
	"revoked_at" bigint,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "jobs_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"model" text NOT NULL,
	"status" text NOT NULL,
	"defaults_json" text,
	"metadata_json" text,
	"idempotency_key" text,
	"body_hash" text,
	"num_requests" integer NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"not_before" bigint NOT NULL,
	"lease_token" text,
	"lease_runner_id" text,
	"lease_expires_at" bigint,
	"cancel_requested" boolean DEFAULT false NOT NULL,
	"error_code" text,
	"error_message" text,
	"created_at" bigint NOT NULL,
	"started_at" bigint,
	"cancel_requested_at" bigint,
	"completed_at" bigint,
	"failed_at" bigint,
	"canceled_at" bigint,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "jobs_id_unique" UNIQUE("id")
);
--> statement-breakpoint
CREATE TABLE "requests" (
	"job_id" text NOT NULL,
	"idx" integer NOT NULL,
	"custom_id" text NOT NULL,
	"prompt" text NOT NULL,
	"params_json" text NOT NULL,
	"status" text NOT NULL,
	"answer" text,
	"threads_json" text,
	"timings_json" text,
	"backend" text,
	"error_code" text,
	"error_message" text,
	"prompt_tokens" integer,
	"completion_tokens" integer,
	"kv_token_reads" double precision,
	"kv_token_reads_per_head" double precision,
	"prefill_kv_token_reads" double precision,
	"peak_kv_tokens" double precision,
	"peak_kv_tokens_per_head" double precision,
	"peak_kv_bytes" double precision,
	"achieved_ratio" double precision,
	"runner_seconds" double precision,
	"cost" double precision,
	"attempt" integer,
	"finished_at" bigint,
	CONSTRAINT "requests_job_id_idx_pk" PRIMARY KEY("job_id","idx")
);
--> statement-breakpoint
CREATE TABLE "runners" (
	"id" text PRIMARY KEY NOT NULL,
	"backend" text,
	"first_seen_at" bigint NOT NULL,
	"last_seen_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "batches" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "batches_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"endpoint" text NOT NULL,
	"input_file_id" text NOT NULL,
	"completion_window" text NOT NULL,
	"status" text NOT NULL,
	"job_id" text,
	"model" text,
	"num_requests" integer DEFAULT 0 NOT NULL,
	"errors_json" text,
	"metadata_json" text,
	"expiring" boolean DEFAULT false NOT NULL,
	"output_file_id" text,
	"error_file_id" text,
	"created_at" bigint NOT NULL,
	"in_progress_at" bigint,
	"expires_at" bigint NOT NULL,
	"finalizing_at" bigint,
	"completed_at" bigint,
	"failed_at" bigint,
	"expired_at" bigint,
	"cancelling_at" bigint,
	"cancelled_at" bigint,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "batches_id_unique" UNIQUE("id")
);
--> statement-breakpoint
CREATE TABLE "file_chunks" (
	"file_id" text NOT NULL,
	"idx" integer NOT NULL,
	"data" text NOT NULL,
	CONSTRAINT "file_chunks_file_id_idx_pk" PRIMARY KEY("file_id","idx")
);
--> statement-breakpoint
CREATE TABLE "files" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "files_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"purpose" text NOT NULL,
	"filename" text NOT NULL,
	"bytes" integer NOT NULL,
	"num_chunks" integer NOT NULL,
	"source_job_id" text,
	"source_kind" text,
	"created_at" bigint NOT NULL,
	CONSTRAINT "files_id_unique" UNIQUE("id")
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "requests" ADD CONSTRAINT "requests_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batches" ADD CONSTRAINT "batches_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batches" ADD CONSTRAINT "batches_input_file_id_files_id_fk" FOREIGN KEY ("input_file_id") REFERENCES "public"."files"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batches" ADD CONSTRAINT "batches_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "file_chunks" ADD CONSTRAINT "file_chunks_file_id_files_id_fk" FOREIGN KEY ("file_id") REFERENCES "public"."files"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "files" ADD CONSTRAINT "files_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "files" ADD CONSTRAINT "files_source_job_id_jobs_id_fk" FOREIGN KEY ("source_job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_tenant_idempotency" ON "jobs" USING btree ("tenant_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "jobs_tenant_seq" ON "jobs" USING btree ("tenant_id","seq");--> statement-breakpoint
CREATE INDEX "jobs_claim" ON "jobs" USING btree ("status","not_before","seq");--> statement-breakpoint
CREATE INDEX "jobs_lease_expiry" ON "jobs" USING btree ("status","lease_expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "requests_job_custom_id" ON "requests" USING btree ("job_id","custom_id");--> statement-breakpoint
CREATE INDEX "requests_job_status" ON "requests" USING btree ("job_id","status");--> statement-breakpoint
CREATE INDEX "batches_tenant_seq" ON "batches" USING btree ("tenant_id","seq");--> statement-breakpoint
CREATE INDEX "batches_job" ON "batches" USING btree ("job_id");--> statement-breakpoint
CREATE INDEX "files_tenant_seq" ON "files" USING btree ("tenant_id","seq");