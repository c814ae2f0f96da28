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

/** The Responses API's usage names (input/output tokens with their details) and our KV accounting beside them. */
export function responsesUsage(usage: Usage | null): Record<string, unknown> | null {
  const ours = openAiUsage(usage);
  if (!usage || !ours) return null;
  const { prompt_tokens: _p, completion_tokens: _c, total_tokens, ...kv } = ours;
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens,
    ...kv,
  };
}

/**
 * A Responses API `response` object: one assistant message per thread (`n`, our extension; one by
 * default), `incomplete` with reason max_output_tokens when a thread ran out of tokens.
 */
export function responseBody(result: RequestResult, ctx: BatchLineContext): Record<string, unknown> {
  const truncated = result.threads.some((t) => t.finish_reason === 'length');
  const output = result.threads.map((t, i) => ({
    type: 'message',
    id: `msg_${suffix(ctx)}_${i}`,
    status: t.finish_reason === 'length' ? 'incomplete' : 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text: t.text, annotations: [] }],
    answer: t.answer,
  }));
  return {
    id: `resp_${suffix(ctx)}`,
    object: 'response',
    created_at: ctx.created,
    status: truncated ? 'incomplete' : 'completed',
    error: null,
    incomplete_details: truncated ? { reason: 'max_output_tokens' } : null,
    instructions: null, // joined into the prompt the model saw (no chat template)
    max_output_tokens: ctx.params.max_tokens,
    metadata: null,
    model: ctx.model,
    output,
    parallel_tool_calls: false,
    temperature: ctx.params.temperature,
    tool_choice: 'none',
    tools: [],
    top_p: ctx.params.top_p,
    text: { format: { type: 'text' } },
    usage: responsesUsage(result.usage),
    // Extensions, as on the other endpoints.
    answer: result.answer,
    n: ctx.params.n,
    compression: ctx.params.compression,
    timings: result.timings,
    backend: result.backend,
  };
}

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
    const body = ctx.endpoint === '/v1/responses' ? responseBody(result, ctx) : completionBody(result, ctx);
    return { ...base, response: { status_code: 200, request_id: requestId, body }, error: null };
  }
  if (result.status === 'canceled') {
    const error = ctx.expired
      ? { code: 'batch_expired', message: 'the batch expired before this request ran' }
      : { code: 'batch_cancelled', message: 'the batch was cancelled before this request ran' };
    return { ...base, response: null, error };
  }
  const code = result.error?.code ?? 'server_error';
  const message = result.error?.message ?? 'the request failed';
  const usage = ctx.endpoint === '/v1/responses' ? responsesUsage(result.usage) : openAiUsage(result.usage);
  const body = { error: { message, type: 'server_error', param: null, code }, usage };
  return { ...base, response: { status_code: 500, request_id: requestId, body }, error: null };
}

/** Which file a result belongs in: succeeded requests to the output file, the rest to the error file. */
export const fileKindOf = (result: RequestResult): 'output' | 'error' => (result.status === 'succeeded' ? 'output' : 'error');
