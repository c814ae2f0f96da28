// The runner protocol (`/v1/runner/...`, runner token): claim a job under a lease, heartbeat it,
// write results one by one, then complete, fail or release it. Every write names its lease token.
import { z } from 'zod';
import { COMPRESSION_METHODS, RequestParamsSchema, ResolvedParamsSchema } from './params.js';
import { named } from './registry.js';
import { RequestResultWriteSchema } from './results.js';

export const ClaimBodySchema = named(
  z.strictObject({
    runner_id: z.string().min(1).max(128),
    models: z.array(z.string().min(1)).min(1).optional().describe('only claim jobs for these models'),
    backend: z.string().max(64).optional().describe('engine backend (webgpu: with its adapter), shown in /healthz'),
    methods: z
      .array(z.enum(COMPRESSION_METHODS))
      .max(COMPRESSION_METHODS.length * 2)
      .optional()
      .describe(
        'compression methods this runner serves: only claim jobs whose every request uses one of them. Absent: those of the backend `backend` names (webgpu: none, window, dms), else any job',
      ),
  }),
  'ClaimBody',
);
export type ClaimBody = z.infer<typeof ClaimBodySchema>;

export const LeaseSchema = named(
  z.object({
    lease_token: z.string(),
    attempt: z.number().int().describe('1 for the first claim of the job'),
    expires_at: z.string(),
  }),
  'Lease',
);
export type Lease = z.infer<typeof LeaseSchema>;

export const ClaimedJobSchema = named(
  z.object({
    id: z.string(),
    model: z.string(),
    num_requests: z.number().int(),
    defaults: RequestParamsSchema.nullable(),
    metadata: z.record(z.string(), z.string()).nullable(),
  }),
  'ClaimedJob',
);
export type ClaimedJob = z.infer<typeof ClaimedJobSchema>;

export const PendingRequestSchema = named(
  z.object({ custom_id: z.string(), prompt: z.string(), params: ResolvedParamsSchema }),
  'PendingRequest',
  'A request without a result yet, parameters fully resolved',
);
export type PendingRequest = z.infer<typeof PendingRequestSchema>;

export const ClaimResponseSchema = named(z.object({ job: ClaimedJobSchema, lease: LeaseSchema, requests: z.array(PendingRequestSchema) }), 'ClaimResponse');
export type ClaimResponse = z.infer<typeof ClaimResponseSchema>;

export const LeaseBodySchema = named(z.strictObject({ lease_token: z.string().min(1) }), 'LeaseBody');

export const HeartbeatResponseSchema = named(z.object({ expires_at: z.string(), cancel_requested: z.boolean() }), 'HeartbeatResponse');
export type HeartbeatResponse = z.infer<typeof HeartbeatResponseSchema>;

export const WriteResultsBodySchema = named(
  z.strictObject({ lease_token: z.string().min(1), results: z.array(RequestResultWriteSchema).min(1) }),
  'WriteResultsBody',
);

export const WriteResultsResponseSchema = named(
  z.object({
    written: z.array(z.string()).describe('custom_ids stored by this call'),
    already_written: z.array(z.string()).describe('custom_ids that had a result already (kept as is)'),
  }),
  'WriteResultsResponse',
);
export type WriteResultsResponse = z.infer<typeof WriteResultsResponseSchema>;

export const FailBodySchema = named(z.strictObject({ lease_token: z.string().min(1), reason: z.string().min(1).max(4096) }), 'FailBody');

export const FinishResponseSchema = named(
  z.object({ status: z.enum(['completed', 'failed', 'canceled', 'queued']) }),
  'FinishResponse',
  'The job status after complete, fail or release',
);
export type FinishResponse = z.infer<typeof FinishResponseSchema>;
