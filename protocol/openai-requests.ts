// One line of an OpenAI batch input file ({custom_id, method, url, body}) turned into a job request:
// chat messages or a completion prompt become the prompt; sampling fields and our extensions, params.
import { z } from 'zod';
import type { OpenAiBatchEndpoint, OpenAiBatchError } from './openai-objects.js';
import type { JobRequest, RequestParams } from './index.js';

/** A line converted: the job request and the model it names. */
export type ConvertedLine = { request: JobRequest; model: string };
export type LineOutcome = { ok: true; value: ConvertedLine } | { ok: false; errors: OpenAiBatchError[] };

const InputLineSchema = z.object({
  custom_id: z.string().min(1, 'custom_id must not be empty').max(256),
  method: z.literal('POST', 'method must be "POST"'),
  url: z.string(),
  body: z.record(z.string(), z.unknown()),
});

/** Body fields mapped onto our params; max_completion_tokens is OpenAI's newer name for max_tokens. */
const PARAM_FIELDS = ['max_tokens', 'temperature', 'top_p', 'n', 'seed', 'stop', 'top_k', 'compression', 'answer_pattern'] as const;
/** Fields accepted and ignored because they do not change what is generated (metadata: but see EXPECTED_ANSWER_KEY). */
const IGNORED_FIELDS = new Set(['user', 'store', 'metadata', 'service_tier', 'stream_options', 'parallel_tool_calls']);
/** body.metadata key whose string value grades the request (the job's expected_answer). */
export const EXPECTED_ANSWER_KEY = 'expected_answer';
/** Fields accepted only at their no-op value (anything else changes semantics we do not serve). */
const NEUTRAL_VALUES: Record<string, unknown[]> = {
  stream: [false, null],
  logprobs: [false, null],
  echo: [false, null],
  suffix: [null, ''],
  presence_penalty: [0, null],
  frequency_penalty: [0, null],
  best_of: [1, null],
  response_format: [null],
};

const TextPartSchema = z.object({ type: z.literal('text'), text: z.string() });
const MessageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(TextPartSchema)]),
});
const MessagesSchema = z.array(MessageSchema).min(1, 'messages must not be empty');

/**
 * The served models have no chat template: a lone message's content is the prompt verbatim, and
 * several messages are joined by newlines in order (so a task prompt such as `Q:8a+2b=` passes as is).
 */
export function messagesToPrompt(messages: z.infer<typeof MessagesSchema>): string {
  return messages.map((m) => (typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''))).join('\n');
}

const issue = (line: number, code: string, message: string, param: string | null = null): OpenAiBatchError => ({ code, message, param, line });

/** Converts one parsed JSON line (1-based `line`) for `endpoint`; collects every problem it finds. */
export function convertBatchLine(json: unknown, line: number, endpoint: OpenAiBatchEndpoint): LineOutcome {
  const parsed = InputLineSchema.safeParse(json);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) =>
      issue(line, i.code === 'invalid_type' && i.input === undefined ? 'missing_required_parameter' : 'invalid_request', i.message, i.path.join('.') || null),
    );
    return { ok: false, errors };
  }
  const { custom_id, url, body } = parsed.data;
  const errors: OpenAiBatchError[] = [];
  if (url !== endpoint) errors.push(issue(line, 'mismatched_endpoint', `url "${url}" differs from the batch endpoint "${endpoint}"`, 'url'));

  const model = body.model;
  if (typeof model !== 'string' || model.length === 0) errors.push(issue(line, 'missing_required_parameter', 'body.model is required', 'body.model'));

  let prompt: string | null = null;
  if (endpoint === '/v1/chat/completions') {
    const messages = MessagesSchema.safeParse(body.messages);
    if (messages.success) prompt = messagesToPrompt(messages.data);
    else
      errors.push(
        issue(
          line,
          body.messages === undefined ? 'missing_required_parameter' : 'invalid_request',
          `body.messages: ${messages.error.issues[0].message}`,
          'body.messages',
        ),
      );
  } else {
    const p = body.prompt;
    if (typeof p === 'string') prompt = p;
    else if (Array.isArray(p) && p.length === 1 && typeof p[0] === 'string') prompt = p[0];
    else
      errors.push(
        issue(
          line,
          p === undefined ? 'missing_required_parameter' : 'invalid_request',
          'body.prompt must be a string (or an array of one string)',
          'body.prompt',
        ),
      );
  }

  const params: Record<string, unknown> = {};
  const promptField = endpoint === '/v1/chat/completions' ? 'messages' : 'prompt';
  for (const [key, value] of Object.entries(body)) {
    if (key === 'model' || key === promptField || IGNORED_FIELDS.has(key)) continue;
    if (key === 'max_completion_tokens') {
      if (body.max_tokens !== undefined && body.max_tokens !== value)
        errors.push(issue(line, 'invalid_request', 'max_tokens and max_completion_tokens differ', 'body.max_completion_tokens'));
      params.max_tokens = value;
    } else if ((PARAM_FIELDS as readonly string[]).includes(key)) {
      if (value !== null) params[key] = value;
    } else if (key in NEUTRAL_VALUES) {
      const fine = NEUTRAL_VALUES[key].some((v) => v === value) || (key === 'response_format' && (value as { type?: unknown })?.type === 'text');
      if (!fine) errors.push(issue(line, 'unsupported_value', `body.${key} = ${JSON.stringify(value)} is not supported here`, `body.${key}`));
    } else {
      errors.push(issue(line, 'unsupported_parameter', `body.${key} is not supported by this endpoint`, `body.${key}`));
    }
  }

  const metadata = body.metadata;
  const expected = metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, unknown>)[EXPECTED_ANSWER_KEY] : undefined;
  if (expected !== undefined && typeof expected !== 'string')
    errors.push(issue(line, 'invalid_request', `body.metadata.${EXPECTED_ANSWER_KEY} must be a string`, `body.metadata.${EXPECTED_ANSWER_KEY}`));

  if (errors.length > 0 || prompt === null) return { ok: false, errors };
  const request: JobRequest = {
    custom_id,
    prompt,
    ...(Object.keys(params).length > 0 ? { params: params as RequestParams } : {}),
    ...(typeof expected === 'string' ? { expected_answer: expected } : {}),
  };
  return { ok: true, value: { request, model: model as string } };
}

/** Splits a JSONL text into (1-based line number, parsed JSON) pairs; blank lines are skipped. */
export function parseJsonl(text: string): { lines: Array<{ line: number; json: unknown }>; errors: OpenAiBatchError[] } {
  const lines: Array<{ line: number; json: unknown }> = [];
  const errors: OpenAiBatchError[] = [];
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed === '') return;
    try {
      lines.push({ line: i + 1, json: JSON.parse(trimmed) });
    } catch (error) {
      errors.push(issue(i + 1, 'invalid_json_line', `line is not valid JSON: ${(error as Error).message}`));
    }
  });
  return { lines, errors };
}
