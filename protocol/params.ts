// Per-request generation parameters: the zod schema clients send (all optional) and the fully
// resolved form runners receive (system defaults <- job defaults <- request params).
import { z } from 'zod';
import { NormalizedMessagesSchema } from './chat.js';
import { named } from './registry.js';

/** KV-cache policies a request may ask for: `none` keeps everything, `dms` is learned eviction. */
export const COMPRESSION_METHODS = ['none', 'dms', 'tova', 'h2o', 'quest', 'window'] as const;
export type CompressionMethod = (typeof COMPRESSION_METHODS)[number];

/** Methods that need no trained checkpoint: every base model serves them. */
export const TRAINING_FREE_METHODS: CompressionMethod[] = ['none', 'window', 'tova', 'h2o', 'quest'];

export const CompressionSchema = named(
  z.strictObject({
    method: z.enum(COMPRESSION_METHODS),
    ratio: z.number().min(1, 'ratio must be >= 1').optional(),
  }),
  'Compression',
  'KV-cache policy and target compression ratio (tokens seen / tokens kept); ratio defaults to 1 only for method none',
);

export const RequestParamsSchema = named(
  z.strictObject({
    max_tokens: z.number().int().min(1).optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    top_k: z.number().int().min(0).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
    stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(8)]).optional(),
    n: z.number().int().min(1).optional(),
    compression: CompressionSchema.optional(),
    answer_pattern: z.string().min(1).max(512).refine(isValidRegex, 'answer_pattern is not a valid regular expression').optional(),
  }),
  'RequestParams',
  'Sampling, threads (n, majority vote), compression and answer extraction; every field optional',
);
export type RequestParams = z.infer<typeof RequestParamsSchema>;

export const ResolvedParamsSchema = named(
  z.object({
    max_tokens: z.number().int(),
    temperature: z.number(),
    top_p: z.number(),
    top_k: z.number().int(),
    seed: z.number().int().nullable(),
    stop: z.array(z.string()),
    n: z.number().int(),
    compression: z.object({ method: z.enum(COMPRESSION_METHODS), ratio: z.number() }),
    answer_pattern: z.string().nullable(),
    messages: NormalizedMessagesSchema.optional().describe("chat requests: the messages the runner renders with the checkpoint's chat template"),
  }),
  'ResolvedParams',
  'Parameters with every default applied, as a runner receives them',
);
export type ResolvedParams = z.infer<typeof ResolvedParamsSchema>;

/** What a request gets when neither it nor its job says otherwise. top_k 0 means no top-k cut. */
export const SYSTEM_DEFAULTS: ResolvedParams = {
  max_tokens: 256,
  temperature: 0.7,
  top_p: 0.95,
  top_k: 0,
  seed: null,
  stop: [],
  n: 1,
  compression: { method: 'none', ratio: 1 },
  answer_pattern: null,
};

/** Merges system defaults, the job's defaults and the request's params (later wins, field by field). */
export function resolveParams(jobDefaults: RequestParams | undefined, params: RequestParams | undefined): ResolvedParams {
  const merged = { ...SYSTEM_DEFAULTS, ...stripUndefined(jobDefaults), ...stripUndefined(params) };
  const stop = merged.stop;
  const compression = params?.compression ?? jobDefaults?.compression ?? SYSTEM_DEFAULTS.compression;
  return {
    ...merged,
    stop: typeof stop === 'string' ? [stop] : [...stop],
    compression: { method: compression.method, ratio: compression.ratio ?? 1 },
  };
}

function stripUndefined<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function isValidRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
