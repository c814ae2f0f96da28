ALTER TABLE "jobs" ADD COLUMN "method_bits" integer;--> statement-breakpoint
-- Jobs a runner may still claim get the bits of their requests' methods (protocol/backend-methods.ts METHOD_BITS); finished ones keep null.
UPDATE "jobs" SET "method_bits" = (
  SELECT coalesce(bit_or(CASE "requests"."params_json"::json -> 'compression' ->> 'method'
    WHEN 'none' THEN 1 WHEN 'dms' THEN 2 WHEN 'tova' THEN 4 WHEN 'h2o' THEN 8 WHEN 'quest' THEN 16 WHEN 'window' THEN 32 ELSE 0 END), 0)
  FROM "requests" WHERE "requests"."job_id" = "jobs"."id"
) WHERE "status" IN ('queued', 'running', 'canceling');
