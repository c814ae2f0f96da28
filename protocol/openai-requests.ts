// One line of an OpenAI batch input file ({custom_id, method, url, body}) turned into a job request:
// chat messages or a completion prompt become the prompt; sampling fields and our extensions, params.
import { z } from 'zod';
import type { OpenAiBatchEndpoint, OpenAiBatchError } from './openai-objects.js';
import { ChatMessagesSchema, type ChatMessage, normalizeMessages } from './chat.js';
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
  text: [null],
  tool_choice: [null, 'none', 'auto'],
  reasoning: [null],
  previous_response_id: [null],
  background: [false, null],
};

/** Responses API input: a string, or items that are messages with text content (`input_text` parts). */
const InputTextPartSchema = z.object({ type: z.enum(['input_text', 'output_text', 'text']), text: z.string() });
const InputMessageSchema = z.object({
  type: z.literal('message').optional(),
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(InputTextPartSchema)]),
});
const ResponsesInputSchema = z.union([z.string().min(1, 'input must not be empty'), z.array(InputMessageSchema).min(1, 'input must not be empty')]);

/**
 * A Responses input as chat messages (`instructions` first, as a system turn), so that the runner
 * renders the checkpoint's chat template over it as for chat lines. A bare string without
 * instructions stays a plain prompt, so models without a chat template serve it too.
 */
export function responsesInput(input: z.infer<typeof ResponsesInputSchema>, instructions: string | null): { prompt: string } | { messages: ChatMessage[] } {
  if (typeof input === 'string' && !instructions) return { prompt: input };
  const turns =
    typeof input === 'string'
      ? [{ role: 'user' as const, content: input }]
      : input.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('') }));
  return { messages: [...(instructions ? [{ role: 'system' as const, content: instructions }] : []), ...turns] };
}

/** Where each endpoint's body keeps the prompt (the param named in errors). */
export const PROMPT_FIELD: Record<OpenAiBatchEndpoint, string> = {
  '/v1/responses': 'input',
  '/v1/chat/completions': 'messages',
  '/v1/completions': 'prompt',
};

const issue = (line: number, code: string, message: string, param: string | null = null): OpenAiBatchError => ({ code, message, param, line });

/** Plain-text output asked for explicitly: chat's response_format {type: text}, the Responses API's text {format: {type: text}}. */
function isTextFormat(key: string, value: unknown): boolean {
  if (key === 'response_format') return (value as { type?: unknown })?.type === 'text';
  if (key === 'text') {
    const { format, ...rest } = (value ?? {}) as { format?: { type?: unknown } };
    return Object.keys(rest).length === 0 && (format === undefined || format?.type === 'text');
  }
  return false;
}

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
  let messages: ChatMessage[] | null = null;
  if (endpoint === '/v1/responses') {
    const input = ResponsesInputSchema.safeParse(body.input);
    const instructions = body.instructions ?? null;
    if (instructions !== null && typeof instructions !== 'string')
      errors.push(issue(line, 'invalid_request', 'body.instructions must be a string', 'body.instructions'));
    else if (input.success) {
      const converted = responsesInput(input.data, instructions);
      if ('prompt' in converted) prompt = converted.prompt;
      else messages = converted.messages;
    }
    if (!input.success)
      errors.push(
        issue(
          line,
          body.input === undefined ? 'missing_required_parameter' : 'invalid_request',
          `body.input: ${body.input === undefined ? 'input is required' : 'must be a string or a list of messages with text content'}`,
          'body.input',
        ),
      );
  } else if (endpoint === '/v1/chat/completions') {
    const parsedMessages = ChatMessagesSchema.safeParse(body.messages);
    if (parsedMessages.success) messages = normalizeMessages(parsedMessages.data);
    else
      errors.push(
        issue(
          line,
          body.messages === undefined ? 'missing_required_parameter' : 'invalid_request',
          `body.messages: ${parsedMessages.error.issues[0].message}`,
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
  const promptFields = endpoint === '/v1/responses' ? ['input', 'instructions'] : [PROMPT_FIELD[endpoint]];
  // The newer names of max_tokens: chat's max_completion_tokens, the Responses API's max_output_tokens.
  const maxName = endpoint === '/v1/responses' ? 'max_output_tokens' : 'max_completion_tokens';
  for (const [key, value] of Object.entries(body)) {
    if (key === 'model' || promptFields.includes(key) || IGNORED_FIELDS.has(key)) continue;
    if (key === 'tools' && (value === null || (Array.isArray(value) && value.length === 0))) continue; // no tools offered
    if (key === 'max_completion_tokens' || key === 'max_output_tokens') {
      if (key !== maxName) {
        errors.push(issue(line, 'unsupported_parameter', `body.${key} is not supported by this endpoint (use ${maxName})`, `body.${key}`));
        continue;
      }
      if (body.max_tokens !== undefined && body.max_tokens !== value)
        errors.push(issue(line, 'invalid_request', `max_tokens and ${key} differ`, `body.${key}`));
      if (value !== null) params.max_tokens = value;
    } else if ((PARAM_FIELDS as readonly string[]).includes(key)) {
      if (value !== null) params[key] = value;
    } else if (key in NEUTRAL_VALUES) {
      const fine = NEUTRAL_VALUES[key].some((v) => v === value) || isTextFormat(key, value);
      if (!fine) errors.push(issue(line, 'unsupported_value', `body.${key} = ${JSON.stringify(value)} is not supported here`, `body.${key}`));
    } else {
      errors.push(issue(line, 'unsupported_parameter', `body.${key} is not supported by this endpoint`, `body.${key}`));
    }
  }

  const metadata = body.metadata;
  const expected = metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, unknown>)[EXPECTED_ANSWER_KEY] : undefined;
  if (expected !== undefined && typeof expected !== 'string')
    errors.push(issue(line, 'invalid_request', `body.metadata.${EXPECTED_ANSWER_KEY} must be a string`, `body.metadata.${EXPECTED_ANSWER_KEY}`));

  if (errors.length > 0 || (prompt === null && messages === null)) return { ok: false, errors };
  const request: JobRequest = {
    custom_id,
    ...(messages ? { messages } : { prompt: prompt as string }),
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
