ALTER TABLE `batches` ADD `output_expires_after_seconds` integer;--> statement-breakpoint
ALTER TABLE `files` ADD `expires_at` integer;--> statement-breakpoint
ALTER TABLE `files` ADD `deleted_at` integer;--> statement-breakpoint
CREATE INDEX `files_expiry` ON `files` (`deleted_at`,`expires_at`);