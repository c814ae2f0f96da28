CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`key_hash` text NOT NULL,
	`label` text,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_unique` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`model` text NOT NULL,
	`status` text NOT NULL,
	`defaults_json` text,
	`metadata_json` text,
	`idempotency_key` text,
	`body_hash` text,
	`num_requests` integer NOT NULL,
	`attempt` integer DEFAULT 0 NOT NULL,
	`max_attempts` integer NOT NULL,
	`not_before` integer NOT NULL,
	`lease_token` text,
	`lease_runner_id` text,
	`lease_expires_at` integer,
	`cancel_requested` integer DEFAULT false NOT NULL,
	`error_code` text,
	`error_message` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`cancel_requested_at` integer,
	`completed_at` integer,
	`failed_at` integer,
	`canceled_at` integer,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_id_unique` ON `jobs` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_tenant_idempotency` ON `jobs` (`tenant_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `jobs_tenant_seq` ON `jobs` (`tenant_id`,`seq`);--> statement-breakpoint
CREATE INDEX `jobs_claim` ON `jobs` (`status`,`not_before`,`seq`);--> statement-breakpoint
CREATE INDEX `jobs_lease_expiry` ON `jobs` (`status`,`lease_expires_at`);--> statement-breakpoint
CREATE TABLE `requests` (
	`job_id` text NOT NULL,
	`idx` integer NOT NULL,
	`custom_id` text NOT NULL,
	`prompt` text NOT NULL,
	`params_json` text NOT NULL,
	`status` text NOT NULL,
	`answer` text,
	`threads_json` text,
	`timings_json` text,
	`backend` text,
	`error_code` text,
	`error_message` text,
	`prompt_tokens` integer,
	`completion_tokens` integer,
	`kv_token_reads` real,
	`kv_token_reads_per_head` real,
	`prefill_kv_token_reads` real,
	`peak_kv_tokens` real,
	`peak_kv_tokens_per_head` real,
	`peak_kv_bytes` real,
	`achieved_ratio` real,
	`runner_seconds` real,
	`cost` real,
	`attempt` integer,
	`finished_at` integer,
	PRIMARY KEY(`job_id`, `idx`),
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `requests_job_custom_id` ON `requests` (`job_id`,`custom_id`);--> statement-breakpoint
CREATE INDEX `requests_job_status` ON `requests` (`job_id`,`status`);--> statement-breakpoint
CREATE TABLE `runners` (
	`id` text PRIMARY KEY NOT NULL,
	`backend` text,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tenants` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
