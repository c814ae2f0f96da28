// Turns a dropped JSONL file into job requests: native lines {custom_id, prompt, params?} as the API
// takes them, or OpenAI batch lines (body.prompt or body.messages), with line-numbered errors.

export type ParsedRequest = { custom_id: string; prompt: string; params?: Record<string, unknown> };
export type ParsedFile = { requests: ParsedRequest[]; model: string | null; errors: string[] };

/** OpenAI body fields that map onto our request params (names as the API takes them). */
const OPENAI_PARAMS = ['temperature', 'top_p', 'top_k', 'n', 'seed', 'stop', 'compression', 'answer_pattern'];

function fromOpenAi(line: Record<string, unknown>): { request: ParsedRequest; model: string | null } | string {
  const body = (line.body ?? {}) as Record<string, unknown>;
  let prompt: string | null = typeof body.prompt === 'string' ? body.prompt : null;
  if (prompt === null && Array.isArray(body.messages)) {
    prompt = body.messages.map((m) => (typeof m?.content === 'string' ? m.content : '')).join('\n');
  }
  if (!prompt) return 'an OpenAI batch line needs body.prompt or body.messages';
  const params: Record<string, unknown> = {};
  for (const k of OPENAI_PARAMS) if (body[k] !== undefined) params[k] = body[k];
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined) params.max_tokens = maxTokens;
  const request: ParsedRequest = { custom_id: String(line.custom_id), prompt, ...(Object.keys(params).length ? { params } : {}) };
  return { request, model: typeof body.model === 'string' ? body.model : null };
}

export function parseJsonl(text: string, maxErrors = 10): ParsedFile {
  const requests: ParsedRequest[] = [];
  const errors: string[] = [];
  let model: string | null = null;
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    if (raw.trim() === '' || errors.length >= maxErrors) continue;
    const where = `line ${i + 1}`;
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(raw);
    } catch (e) {
      errors.push(`${where}: not JSON (${(e as Error).message})`);
      continue;
    }
    if (!line || typeof line !== 'object' || Array.isArray(line)) {
      errors.push(`${where}: not a JSON object`);
      continue;
    }
    if (typeof line.custom_id !== 'string' || line.custom_id === '') {
      errors.push(`${where}: custom_id must be a non-empty string`);
      continue;
    }
    if (line.body !== undefined || line.url !== undefined) {
      const converted = fromOpenAi(line);
      if (typeof converted === 'string') {
        errors.push(`${where}: ${converted}`);
        continue;
      }
      requests.push(converted.request);
      model ??= converted.model;
      continue;
    }
    if (typeof line.prompt !== 'string' || line.prompt === '') {
      errors.push(`${where}: prompt must be a non-empty string`);
      continue;
    }
    const params = line.params && typeof line.params === 'object' ? (line.params as Record<string, unknown>) : undefined;
    requests.push({ custom_id: line.custom_id, prompt: line.prompt, ...(params ? { params } : {}) });
  }
  if (requests.length === 0 && errors.length === 0) errors.push('the file holds no requests');
  return { requests, model, errors };
}
