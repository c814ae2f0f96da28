// A job's submitted requests as clients read them back (GET /v1/jobs/{id}/requests): prompt,
// resolved params and status, in submission order, so a console can show each prompt beside its result.
import { z } from 'zod';
import { ResolvedParamsSchema } from './params.js';
import { named } from './registry.js';

export const JobRequestViewSchema = named(
  z.object({
    custom_id: z.string(),
    prompt: z.string(),
    params: ResolvedParamsSchema,
    status: z.enum(['pending', 'succeeded', 'failed', 'canceled']),
  }),
  'JobRequestView',
  'One submitted request with its resolved params; its result is in GET /v1/jobs/{id}/results',
);
export type JobRequestView = z.infer<typeof JobRequestViewSchema>;

export const JobRequestListSchema = named(
  z.object({
    object: z.literal('list'),
    data: z.array(JobRequestViewSchema),
    has_more: z.boolean(),
    next_after: z.number().int().nullable().describe('pass as ?after= to get the next page (a submission index)'),
  }),
  'JobRequestList',
);
export type JobRequestList = z.infer<typeof JobRequestListSchema>;

export const ListJobRequestsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).optional(),
  after: z.coerce.number().int().min(-1).optional(),
});
