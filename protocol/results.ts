// One request's result as it travels on the wire: written by a runner, stored by the gateway,
// streamed back to clients as one NDJSON line. Usage and timings are the engine's accounting.
import { z } from 'zod';
import { named } from './registry.js';
import { COMPRESSION_LABELS, type CompressionLabelSpec, USAGE_FIELDS, type UsageWireName } from './usage-fields.js';

/** One zod number per usage field (usage-fields.ts), described from the table. */
const usageShape = Object.fromEntries(
  USAGE_FIELDS.map((f) => [f.wire, (f.integer ? z.number().int() : z.number()).min(0).describe(f.doc)]),
) as unknown as Record<UsageWireName, z.ZodNumber>;

type LabelZod<L extends CompressionLabelSpec> = z.ZodNullable<L['kind'] extends 'text' ? z.ZodString : z.ZodNumber>;
/** The compression labels; null in results written by runners that predate them. */
const labelShape = Object.fromEntries(
  COMPRESSION_LABELS.map((l) => [
    l.wire,
    (l.kind === 'text' ? z.string() : l.kind === 'integer' ? z.number().int().min(0) : z.number().min(1)).nullable().describe(l.doc),
  ]),
) as unknown as { [L in CompressionLabelSpec as L['wire']]: LabelZod<L> };

export const UsageSchema = named(
  z.object({ ...usageShape, ...labelShape }),
  'Usage',
  'Per-request accounting, and the compression that ran beside its achieved ratio',
);
export type Usage = z.infer<typeof UsageSchema>;

/**
 * What a runner reports: everything but cost, which the gateway computes from runner_seconds.
 * kv_tokens_retained and the labels are optional so that runners of the previous version still write.
 */
export const RunnerUsageSchema = UsageSchema.extend({
  cost: z.number().min(0).optional(),
  kv_tokens_retained: usageShape.kv_tokens_retained.optional(),
  method: labelShape.method.optional(),
  requested_ratio: labelShape.requested_ratio.optional(),
  window: labelShape.window.optional(),
});
export type RunnerUsage = z.infer<typeof RunnerUsageSchema>;

export const TimingsSchema = named(
  z.object({
    ttft_ms: z.number().min(0),
    prefill_ms: z.number().min(0),
    decode_ms: z.number().min(0),
    total_ms: z.number().min(0),
  }),
  'Timings',
);
export type Timings = z.infer<typeof TimingsSchema>;

export const ThreadSchema = named(
  z.object({
    text: z.string(),
    answer: z.string().nullable(),
    finish_reason: z.enum(['stop', 'length', 'canceled', 'error']),
    completion_tokens: z.number().int().min(0),
  }),
  'Thread',
  'One sampled chain of thought; the request answer is the majority vote over threads',
);
export type Thread = z.infer<typeof ThreadSchema>;

export const ResultErrorSchema = named(z.object({ code: z.string().min(1).max(64), message: z.string().max(4096) }), 'ResultError');
export type ResultError = z.infer<typeof ResultErrorSchema>;

export const REQUEST_RESULT_STATUSES = ['succeeded', 'failed', 'canceled'] as const;

export const RequestResultSchema = named(
  z.object({
    custom_id: z.string(),
    status: z.enum(REQUEST_RESULT_STATUSES),
    answer: z.string().nullable(),
    threads: z.array(ThreadSchema),
    usage: UsageSchema.nullable(),
    timings: TimingsSchema.nullable(),
    backend: z.string().nullable().describe('engine backend that ran the request (webgpu: "webgpu (<adapter>)")'),
    error: ResultErrorSchema.nullable(),
    expected_answer: z.string().nullable().describe('as submitted; null when the request carried none'),
    correct: z.boolean().nullable().describe('answer === expected_answer; null when there is no expected answer or no result'),
  }),
  'RequestResult',
  'One line of GET /v1/jobs/{id}/results',
);
export type RequestResult = z.infer<typeof RequestResultSchema>;

export const RequestResultWriteSchema = named(
  z.strictObject({
    custom_id: z.string().min(1),
    status: z.enum(['succeeded', 'failed']),
    answer: z.string().nullable(),
    threads: z.array(ThreadSchema),
    usage: RunnerUsageSchema.nullable(),
    timings: TimingsSchema.nullable(),
    backend: z.string().nullable().optional(),
    error: ResultErrorSchema.nullable(),
  }),
  'RequestResultWrite',
  'A result as a runner writes it (cost, if sent, is ignored and recomputed)',
);
export type RequestResultWrite = z.infer<typeof RequestResultWriteSchema>;
