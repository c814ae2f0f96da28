ALTER TABLE `requests` ADD `kv_tokens_retained` real;--> statement-breakpoint
ALTER TABLE `requests` ADD `method` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `requested_ratio` real;--> statement-breakpoint
ALTER TABLE `requests` ADD `window` integer;--> statement-breakpoint
ALTER TABLE `requests` ADD `expected_answer` text;--> statement-breakpoint
ALTER TABLE `requests` ADD `correct` integer;