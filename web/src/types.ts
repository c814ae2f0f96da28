// What the console reads from the API, typed loosely on purpose: fields other services add later
// (method, requested_ratio, window, correct, accuracy) are optional, so old and new shapes both render.

export type Counts = { total: number; queued: number; running: number; succeeded: number; failed: number; canceled: number };

export type UsageTotals = {
  num_results?: number;
  prompt_tokens?: number;
  completion_tokens?: number;
  kv_token_reads?: number;
  kv_token_reads_per_head?: number;
  prefill_kv_token_reads?: number;
  peak_kv_tokens?: number;
  peak_kv_tokens_per_head?: number;
  peak_kv_bytes?: number;
  achieved_ratio?: number;
  runner_seconds?: number;
  cost?: number;
};

export type Compression = { method?: string; ratio?: number };

export type Job = {
  id: string;
  model: string;
  status: string;
  created_at: string;
  started_at?: string | null;
  cancel_requested_at?: string | null;
  completed_at?: string | null;
  failed_at?: string | null;
  canceled_at?: string | null;
  attempt?: number;
  max_attempts?: number;
  request_counts: Counts;
  usage?: UsageTotals | null;
  error?: { code: string; message: string } | null;
  defaults?: { compression?: Compression; n?: number; max_tokens?: number } | null;
  metadata?: Record<string, string> | null;
  accuracy?: number | null;
};

export type JobList = { data: Job[]; has_more: boolean; next_after: string | null };

export type Thread = { text: string; answer: string | null; finish_reason: string; completion_tokens: number };

export type ResultLine = {
  custom_id: string;
  status: string;
  answer: string | null;
  threads?: Thread[];
  usage?: UsageTotals | null;
  timings?: { ttft_ms?: number; prefill_ms?: number; decode_ms?: number; total_ms?: number } | null;
  backend?: string | null;
  error?: { code: string; message: string } | null;
  method?: string;
  requested_ratio?: number;
  window?: number;
  correct?: boolean | null;
  expected_answer?: string | null;
};

export type RequestView = { custom_id: string; prompt: string; status: string; params?: { compression?: Compression; n?: number; max_tokens?: number } };

export const TERMINAL = ['completed', 'failed', 'canceled'];
export const JOB_STATUSES = ['queued', 'running', 'canceling', 'completed', 'failed', 'canceled'];
