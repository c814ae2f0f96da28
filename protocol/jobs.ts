// The client job API on the wire: the submission body, the job view with live request counts
// and usage totals, and the list page. Timestamps are ISO 8601 strings, null until reached.
import { z } from 'zod';
import { ChatMessagesSchema } from './chat.js';
import { RequestParamsSchema } from './params.js';
import { named } from './registry.js';
import { ResultErrorSchema } from './results.js';
import { USAGE_FIELDS, type UsageWireName } from './usage-fields.js';

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'canceling', 'canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses after which nothing about a job changes any more. */
export const TERMINAL_STATUSES: JobStatus[] = ['completed', 'failed', 'canceled'];

export const JobRequestSchema = named(
  z
    .strictObject({
      custom_id: z.string().min(1, 'custom_id must not be empty').max(256),
      prompt: z.string().min(1, 'prompt must not be empty').optional().describe('raw prompt text, fed as is (after bos)'),
      messages: ChatMessagesSchema.optional().describe("chat messages, rendered with the checkpoint's chat template"),
      params: RequestParamsSchema.optional(),
      expected_answer: z
        .string()
        .max(1024)
        .optional()
        .describe('the correct answer: the result gets `correct` (exact match of the voted answer) and the job its accuracy'),
    })
    .refine((r) => (r.prompt === undefined) !== (r.messages === undefined), { message: 'give exactly one of prompt and messages', path: ['prompt'] }),
  'JobRequest',
);
export type JobRequest = z.infer<typeof JobRequestSchema>;

export const MetadataSchema = named(
  z.record(z.string().min(1).max(64), z.string().max(512)),
  'Metadata',
  'Free-form string pairs kept with the job (at most limits.maxMetadataKeys keys)',
);

export const SubmitJobSchema = named(
  z.strictObject({
    model: z.string().min(1).optional(),
    requests: z.array(JobRequestSchema).min(1, 'requests must not be empty'),
    defaults: RequestParamsSchema.optional(),
    metadata: MetadataSchema.optional(),
  }),
  'SubmitJob',
  'Body of POST /v1/jobs',
);
export type SubmitJob = z.infer<typeof SubmitJobSchema>;

export const RequestCountsSchema = named(
  z.object({
    total: z.number().int(),
    queued: z.number().int(),
    running: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    canceled: z.number().int(),
  }),
  'RequestCounts',
);
export type RequestCounts = z.infer<typeof RequestCountsSchema>;

const AGGREGATION_DOC = { sum: 'sum over requests', max: 'max over requests', weighted_mean: 'token-weighted over requests' } as const;

/** Each usage field as a job totals it, described by its aggregation (usage-fields.ts). */
const totalsShape = Object.fromEntries(
  USAGE_FIELDS.map((f) => [f.wire, z.number().describe(`${AGGREGATION_DOC[f.aggregation.kind]}: ${f.doc}`)]),
) as unknown as Record<UsageWireName, z.ZodNumber>;

/** Accuracy over the requests that carried expected_answer. */
const gradingShape = {
  num_graded: z.number().int().describe('results graded against an expected_answer'),
  num_correct: z.number().int(),
  accuracy: z.number().nullable().describe('num_correct / num_graded; null when nothing was graded'),
};

/** The labels a group of results shares (null on the job when its results differ). */
const labelTotalsShape = {
  method: z.string().nullable().describe('the KV policy, when every result ran the same one'),
  requested_ratio: z.number().nullable().describe('the requested compression ratio, when every result asked for the same one'),
  window: z.number().int().nullable().describe('the window, when every result ran with the same one'),
};

export const CompressionTotalsSchema = named(
  z.object({ ...labelTotalsShape, num_results: z.number().int(), ...totalsShape, ...gradingShape }),
  'CompressionTotals',
  'Usage and accuracy of the results that ran one (method, requested_ratio, window)',
);
export type CompressionTotals = z.infer<typeof CompressionTotalsSchema>;

export const UsageTotalsSchema = named(
  z.object({
    num_results: z.number().int().describe('requests whose usage is counted'),
    ...totalsShape,
    ...labelTotalsShape,
    ...gradingShape,
    by_compression: z
      .array(CompressionTotalsSchema)
      .nullable()
      .describe('one entry per (method, requested_ratio, window) when the job mixes them; null when it does not'),
  }),
  'UsageTotals',
  'Totals over finished requests, each field aggregated as usage-fields.ts says (sums, maxima, token-weighted achieved_ratio); null until one has usage',
);
export type UsageTotals = z.infer<typeof UsageTotalsSchema>;

const timestamp = z.string().nullable();

export const JobSchema = named(
  z.object({
    id: z.string(),
    object: z.literal('job'),
    model: z.string(),
    status: z.enum(JOB_STATUSES),
    created_at: z.string(),
    started_at: timestamp,
    cancel_requested_at: timestamp,
    completed_at: timestamp,
    failed_at: timestamp,
    canceled_at: timestamp,
    attempt: z.number().int().describe('how many times a runner has claimed it'),
    max_attempts: z.number().int(),
    request_counts: RequestCountsSchema,
    usage: UsageTotalsSchema.nullable(),
    error: ResultErrorSchema.nullable().describe('why the job failed'),
    defaults: RequestParamsSchema.nullable(),
    metadata: MetadataSchema.nullable(),
  }),
  'Job',
);
export type Job = z.infer<typeof JobSchema>;

export const JobListSchema = named(
  z.object({
    object: z.literal('list'),
    data: z.array(JobSchema),
    has_more: z.boolean(),
    next_after: z.string().nullable().describe('pass as ?after= to get the next page'),
  }),
  'JobList',
);
export type JobList = z.infer<typeof JobListSchema>;

const isJobStatus = (s: string): s is JobStatus => (JOB_STATUSES as readonly string[]).includes(s);

export const ListJobsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).optional(),
  after: z.string().min(1).optional(),
  status: z
    .string()
    .refine((s) => s.split(',').every(isJobStatus), `must be one or more of ${JOB_STATUSES.join(', ')}, comma-separated`)
    .transform((s) => [...new Set(s.split(','))] as JobStatus[])
    .optional()
    .describe('only jobs in these statuses, e.g. queued,running'),
});
