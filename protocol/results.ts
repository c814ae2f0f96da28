// One request's result as it travels on the wire: written by a runner, stored by the gateway,
// streamed back to clients as one NDJSON line. Usage and timings are the engine's accounting.
import { z } from 'zod';
import { named } from './registry.js';

export const UsageSchema = named(
  z.object({
    prompt_tokens: z.number().int().min(0),
    completion_tokens: z.number().int().min(0).describe('summed over all threads'),
    kv_token_reads: z.number().min(0).describe('decode-time KV tokens read, summed over layers and KV heads'),
    kv_token_reads_per_head: z.number().min(0).describe('kv_token_reads / (layers x KV heads)'),
    prefill_kv_token_reads: z.number().min(0),
    peak_kv_tokens: z.number().min(0).describe('most cached tokens held at once, all threads, layers, heads'),
    peak_kv_tokens_per_head: z.number().min(0),
    peak_kv_bytes: z.number().min(0),
    achieved_ratio: z.number().min(0).describe('tokens seen / tokens retained, time-averaged'),
    runner_seconds: z.number().min(0),
    cost: z.number().min(0).describe('runner_seconds x price per runner-second, set by the gateway'),
  }),
  'Usage',
  'Per-request accounting',
);
export type Usage = z.infer<typeof UsageSchema>;

/** What a runner reports: everything but cost, which the gateway computes from runner_seconds. */
export const RunnerUsageSchema = UsageSchema.extend({ cost: z.number().min(0).optional() });
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
