// A finished request as a line of a batch's output or error file, in OpenAI's result format
// {id, custom_id, response: {status_code, request_id, body}, error}; our accounting rides along.
import type { OpenAiBatchEndpoint } from './openai-objects.js';
import type { RequestResult, ResolvedParams, Usage } from './index.js';

/** Where a line comes from: the batch, the request's position and params, the job's model. */
export type BatchLineContext = {
  batchId: string;
  endpoint: OpenAiBatchEndpoint;
  model: string;
  /** Unix seconds used as the completion's `created` (the job's start), so renders are stable. */
  created: number;
  idx: number;
  params: ResolvedParams;
  /** The batch passed its completion window: unfinished requests are `batch_expired`. */
  expired: boolean;
};

export type BatchResultLine = {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
};

/** OpenAI's usage names plus this service's KV accounting and what ran (per request, prompt counted once for all n threads). */
export function openAiUsage(usage: Usage | null): Record<string, number | string | null> | null {
  if (!usage) return null;
  const { prompt_tokens, completion_tokens, ...ours } = usage;
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens, ...ours };
}

const suffix = (ctx: BatchLineContext) => `${ctx.batchId.replace(/^batch_/, '')}_${ctx.idx}`;

/** The chat.completion or text_completion body: one choice per thread, the vote in `answer`. */
export function completionBody(result: RequestResult, ctx: BatchLineContext): Record<string, unknown> {
  const chat = ctx.endpoint === '/v1/chat/completions';
  const choices = result.threads.map((t, index) =>
    chat
      ? { index, message: { role: 'assistant', content: t.text, refusal: null }, logprobs: null, finish_reason: t.finish_reason, answer: t.answer }
      : { index, text: t.text, logprobs: null, finish_reason: t.finish_reason, answer: t.answer },
  );
  return {
    id: `${chat ? 'chatcmpl' : 'cmpl'}-${suffix(ctx)}`,
    object: chat ? 'chat.completion' : 'text_completion',
    created: ctx.created,
    model: ctx.model,
    choices,
    usage: openAiUsage(result.usage),
    system_fingerprint: null,
    // Extensions: the majority-vote answer over the n threads and its grade, the KV policy used, timings, backend.
    answer: result.answer,
    correct: result.correct,
    n: ctx.params.n,
    compression: ctx.params.compression,
    timings: result.timings,
    backend: result.backend,
  };
}

/** The output-file line of a succeeded request, or the error-file line of any other. */
export function batchResultLine(result: RequestResult, ctx: BatchLineContext): BatchResultLine {
  const base = { id: `batch_req_${suffix(ctx)}`, custom_id: result.custom_id };
  const requestId = `req_${suffix(ctx)}`;
  if (result.status === 'succeeded') {
    return { ...base, response: { status_code: 200, request_id: requestId, body: completionBody(result, ctx) }, error: null };
  }
  if (result.status === 'canceled') {
    const error = ctx.expired
      ? { code: 'batch_expired', message: 'the batch expired before this request ran' }
      : { code: 'batch_cancelled', message: 'the batch was cancelled before this request ran' };
    return { ...base, response: null, error };
  }
  const code = result.error?.code ?? 'server_error';
  const message = result.error?.message ?? 'the request failed';
  const body = { error: { message, type: 'server_error', param: null, code }, usage: openAiUsage(result.usage) };
  return { ...base, response: { status_code: 500, request_id: requestId, body }, error: null };
}

/** Which file a result belongs in: succeeded requests to the output file, the rest to the error file. */
export const fileKindOf = (result: RequestResult): 'output' | 'error' => (result.status === 'succeeded' ? 'output' : 'error');
