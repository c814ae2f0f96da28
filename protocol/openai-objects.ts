// The OpenAI Batch API's objects as this gateway sends them: File, Batch, their lists and the
// create-batch body. Field names, states and null-for-unset follow OpenAI's; times are Unix seconds.
import { z } from 'zod';
import { CatalogModelSchema } from './models.js';
import { named } from './registry.js';

/** Endpoints a batch may target; each line's `url` must equal the batch's endpoint. */
export const OPENAI_BATCH_ENDPOINTS = ['/v1/responses', '/v1/chat/completions', '/v1/completions'] as const;
export type OpenAiBatchEndpoint = (typeof OPENAI_BATCH_ENDPOINTS)[number];

export const OPENAI_BATCH_STATUSES = ['validating', 'failed', 'in_progress', 'finalizing', 'completed', 'expired', 'cancelling', 'cancelled'] as const;
export type OpenAiBatchStatus = (typeof OPENAI_BATCH_STATUSES)[number];

/** States after which a batch never changes again. */
export const OPENAI_TERMINAL_STATUSES: OpenAiBatchStatus[] = ['failed', 'completed', 'expired', 'cancelled'];

export const OpenAiFileSchema = named(
  z.object({
    id: z.string(),
    object: z.literal('file'),
    bytes: z.number().int(),
    created_at: z.number().int(),
    filename: z.string(),
    purpose: z.enum(['batch', 'batch_output']),
    status: z.literal('processed'),
    expires_at: z.number().int().nullable(),
    status_details: z.string().nullable(),
  }),
  'OpenAiFile',
  'An uploaded batch input (purpose batch) or a batch output / error file (purpose batch_output)',
);
export type OpenAiFile = z.infer<typeof OpenAiFileSchema>;

export const OpenAiBatchErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  param: z.string().nullable(),
  line: z.number().int().nullable().describe('1-based line of the input file'),
});
export type OpenAiBatchError = z.infer<typeof OpenAiBatchErrorSchema>;

/** Token usage of a batch (OpenAI's names) plus this service's KV accounting totals. */
export const OpenAiBatchUsageSchema = z.object({
  input_tokens: z.number(),
  input_tokens_details: z.object({ cached_tokens: z.number() }),
  output_tokens: z.number(),
  output_tokens_details: z.object({ reasoning_tokens: z.number() }),
  total_tokens: z.number(),
  kv_token_reads: z.number(),
  prefill_kv_token_reads: z.number(),
  peak_kv_tokens: z.number().describe('max over requests'),
  peak_kv_bytes: z.number().describe('max over requests'),
  achieved_ratio: z.number().describe('tokens seen / tokens retained over all decode steps of all requests (token-weighted)'),
  method: z.string().nullable().describe('the KV policy, when every request ran the same one'),
  requested_ratio: z.number().nullable(),
  window: z.number().int().nullable(),
  accuracy: z.number().nullable().describe('share of graded requests (metadata.expected_answer) whose answer matched'),
  runner_seconds: z.number(),
  cost: z.number(),
});
export type OpenAiBatchUsage = z.infer<typeof OpenAiBatchUsageSchema>;

const seconds = z.number().int().nullable();

export const OpenAiBatchSchema = named(
  z.object({
    id: z.string(),
    object: z.literal('batch'),
    endpoint: z.string(),
    model: z.string().nullable(),
    errors: z.object({ object: z.literal('list'), data: z.array(OpenAiBatchErrorSchema) }).nullable(),
    input_file_id: z.string(),
    completion_window: z.string(),
    status: z.enum(OPENAI_BATCH_STATUSES),
    output_file_id: z.string().nullable(),
    error_file_id: z.string().nullable(),
    created_at: z.number().int(),
    in_progress_at: seconds,
    expires_at: seconds,
    finalizing_at: seconds,
    completed_at: seconds,
    failed_at: seconds,
    expired_at: seconds,
    cancelling_at: seconds,
    cancelled_at: seconds,
    request_counts: z.object({ total: z.number().int(), completed: z.number().int(), failed: z.number().int() }),
    usage: OpenAiBatchUsageSchema.nullable(),
    metadata: z.record(z.string(), z.string()).nullable(),
    job_id: z.string().nullable().describe('extension: the dms-batch job that runs this batch (GET /v1/jobs/{id})'),
  }),
  'OpenAiBatch',
  'An OpenAI-compatible batch; its job can also be read through /v1/jobs',
);
export type OpenAiBatch = z.infer<typeof OpenAiBatchSchema>;

/** OpenAI's expiration policy of a file: `seconds` (1 hour to 30 days) after its creation. */
export const ExpiresAfterSchema = z.strictObject({
  anchor: z.literal('created_at', 'anchor must be "created_at"'),
  seconds: z.number().int().min(3600, 'seconds must be at least 3600 (1 hour)').max(2_592_000, 'seconds must be at most 2592000 (30 days)'),
});

/** Uploaded batch input files expire after 30 days unless the upload says otherwise (OpenAI's default). */
export const DEFAULT_INPUT_FILE_TTL_SECONDS = 30 * 24 * 3600;

export const OpenAiFileDeletedSchema = named(
  z.object({ id: z.string(), object: z.literal('file'), deleted: z.boolean() }),
  'OpenAiFileDeleted',
  'Answer of DELETE /v1/files/{id}',
);
export type OpenAiFileDeleted = z.infer<typeof OpenAiFileDeletedSchema>;

export const OpenAiCreateBatchSchema = named(
  z.strictObject({
    input_file_id: z.string().min(1),
    endpoint: z.string().min(1),
    completion_window: z.string().regex(/^\d{1,3}h$/, 'completion_window must be hours, like "24h"'),
    metadata: z.record(z.string().min(1).max(64), z.string().max(512)).nullable().optional(),
    output_expires_after: ExpiresAfterSchema.optional().describe('when the output and error files expire, counted from their creation'),
  }),
  'OpenAiCreateBatch',
  'Body of POST /v1/batches',
);
export type OpenAiCreateBatch = z.infer<typeof OpenAiCreateBatchSchema>;

export const OpenAiModelSchema = named(
  CatalogModelSchema.omit({ name: true }).extend({
    id: z.string().describe('the model name jobs and batch lines use'),
    object: z.literal('model'),
    created: z.number().int().describe('Unix seconds when this gateway loaded its catalog'),
    owned_by: z.string(),
  }),
  'OpenAiModel',
  "A served model: OpenAI's Model fields plus the catalog's (context length, methods, DMS ratios)",
);
export type OpenAiModel = z.infer<typeof OpenAiModelSchema>;

export const OpenAiModelListSchema = named(
  z.object({
    object: z.literal('list'),
    data: z.array(OpenAiModelSchema),
    default_model: z.string().nullable().describe('extension: the model a job that names none gets'),
  }),
  'OpenAiModelList',
  'GET /v1/models',
);
export type OpenAiModelList = z.infer<typeof OpenAiModelListSchema>;

/** OpenAI's list page: `after` takes the last id of the previous page. */
export type OpenAiList<T> = { object: 'list'; data: T[]; first_id: string | null; last_id: string | null; has_more: boolean };

export const OpenAiListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).optional(),
  after: z.string().min(1).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  purpose: z.string().optional(),
});

/** Hours of a completion window like "24h" (1 to 168 accepted). */
export function completionWindowHours(window: string): number | null {
  const match = /^(\d{1,3})h$/.exec(window);
  const hours = match ? Number(match[1]) : NaN;
  return Number.isInteger(hours) && hours >= 1 && hours <= 168 ? hours : null;
}
