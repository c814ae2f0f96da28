// The one table of usage fields: wire name, engine name, how a job aggregates it. The protocol's zod
// schemas, the store's columns and write set, the job aggregation and the views are all derived from it.
//
// Plain data with no imports at all, so that protocol/ (which imports nothing of ours) holds it and
// db/ can use it without pulling in zod. Adding a metric: one entry here, then `npm run db:generate` and `npm run db:generate:pg`.

/** How a job (or batch, or eval) combines a field over its requests. */
export type Aggregation =
  /** Added up over requests. */
  | { kind: 'sum' }
  /** The largest request's value. */
  | { kind: 'max' }
  /** Mean weighted by another (summed) field: a ratio of sums, so it means the same per request and per job. */
  | { kind: 'weighted_mean'; weight: string };

export interface UsageField {
  /** snake_case name on the wire and in the database. */
  readonly wire: string;
  /** camelCase name in the engine's Usage and the Drizzle schema. */
  readonly engine: string;
  /** Where the number comes from: the engine's accounting, the runner (its clock), or the gateway (price). */
  readonly source: 'engine' | 'runner' | 'gateway';
  /** Whole numbers (an integer column). */
  readonly integer: boolean;
  readonly aggregation: Aggregation;
  /** Description on the wire (the OpenAPI document). */
  readonly doc: string;
}

const sum = { kind: 'sum' } as const;
const max = { kind: 'max' } as const;

export const USAGE_FIELDS = [
  { wire: 'prompt_tokens', engine: 'promptTokens', source: 'engine', integer: true, aggregation: sum, doc: 'prompt tokens, counted once for all n threads' },
  { wire: 'completion_tokens', engine: 'completionTokens', source: 'engine', integer: true, aggregation: sum, doc: 'generated tokens summed over all threads' },
  {
    wire: 'kv_token_reads',
    engine: 'kvTokenReads',
    source: 'engine',
    integer: false,
    aggregation: sum,
    doc: 'decode-time KV tokens read, summed over layers and KV heads',
  },
  {
    wire: 'kv_token_reads_per_head',
    engine: 'kvTokenReadsPerHead',
    source: 'engine',
    integer: false,
    aggregation: sum,
    doc: 'kv_token_reads / (layers x KV heads)',
  },
  {
    wire: 'prefill_kv_token_reads',
    engine: 'prefillKvTokenReads',
    source: 'engine',
    integer: false,
    aggregation: sum,
    doc: 'prefill-time KV token reads (re-prefills of preempted threads included)',
  },
  {
    wire: 'peak_kv_tokens',
    engine: 'peakKvTokens',
    source: 'engine',
    integer: false,
    aggregation: max,
    doc: 'most cached tokens held at once, all threads, layers and heads (a job: the largest request)',
  },
  {
    wire: 'peak_kv_tokens_per_head',
    engine: 'peakKvTokensPerHead',
    source: 'engine',
    integer: false,
    aggregation: max,
    doc: 'peak_kv_tokens / (layers x KV heads)',
  },
  { wire: 'peak_kv_bytes', engine: 'peakKvBytes', source: 'engine', integer: false, aggregation: max, doc: 'bytes of peak_kv_tokens (key + value)' },
  {
    wire: 'kv_tokens_retained',
    engine: 'kvTokensRetained',
    source: 'engine',
    integer: false,
    aggregation: sum,
    doc: 'tokens held in the cache summed over decode steps, threads, layers and KV heads: the weight of achieved_ratio',
  },
  {
    wire: 'achieved_ratio',
    engine: 'achievedRatio',
    source: 'engine',
    integer: false,
    aggregation: { kind: 'weighted_mean', weight: 'kv_tokens_retained' },
    doc: 'tokens seen / tokens retained summed over all decode steps (dms.md section 6); for a job the same ratio of sums (token-weighted)',
  },
  { wire: 'runner_seconds', engine: 'runnerSeconds', source: 'runner', integer: false, aggregation: sum, doc: "the request's share of runner compute time" },
  { wire: 'cost', engine: 'cost', source: 'gateway', integer: false, aggregation: sum, doc: 'runner_seconds x price per runner-second, set by the gateway' },
] as const satisfies readonly UsageField[];

export type UsageFieldSpec = (typeof USAGE_FIELDS)[number];
export type UsageWireName = UsageFieldSpec['wire'];
export type UsageEngineName = UsageFieldSpec['engine'];
/** Fields the engine's accounting produces (the runner maps them by engine name). */
export type EngineUsageField = Extract<UsageFieldSpec, { source: 'engine' }>;

/**
 * What ran, reported beside achieved_ratio in every result: a job whose results all agree shows the
 * value, a mixed job null (and its per-configuration breakdown groups by these three).
 */
export const COMPRESSION_LABELS = [
  { wire: 'method', engine: 'method', kind: 'text', doc: 'the KV policy that ran' },
  { wire: 'requested_ratio', engine: 'requestedRatio', kind: 'real', doc: 'the compression ratio asked for (compression.ratio)' },
  {
    wire: 'window',
    engine: 'window',
    kind: 'integer',
    doc: 'tokens before the current one never evicted: the DMS window w or a tova/h2o recent window; null for methods without a fixed one',
  },
] as const;

export type CompressionLabelSpec = (typeof COMPRESSION_LABELS)[number];
