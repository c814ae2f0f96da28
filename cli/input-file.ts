// Reads a batch file for `dms submit` and `dms run`: JSONL whose lines are job requests
// ({custom_id, prompt, params?}) or OpenAI batch lines ({custom_id, method, url, body}), never mixed.
import { readFileSync } from 'node:fs';
import { type JobRequest, JobRequestSchema, type RequestParams, RequestParamsSchema, type SubmitJob, zodIssues } from '../protocol/index.js';
import { OPENAI_BATCH_ENDPOINTS, type OpenAiBatchEndpoint } from '../protocol/openai-objects.js';
import { convertBatchLine, parseJsonl } from '../protocol/openai-requests.js';
import { usageError } from './errors.js';
import { groupProblems, listed, type Problem } from './problems.js';

/**
 * Job-level settings from flags: the job's model, defaults and metadata. Param flags are defaults
 * (a line's own params win) unless `override` is set, when they replace what every line says.
 */
export type JobFlags = { model?: string; defaults: RequestParams; metadata?: Record<string, string>; override?: boolean };

/** The flag that sets each param, for notices. */
const FLAG_OF: Record<string, string> = {
  max_tokens: '--max-tokens',
  n: '--n',
  temperature: '--temperature',
  top_p: '--top-p',
  seed: '--seed',
  compression: '--compression',
};

/**
 * Applies the precedence: with `override`, each flag's value replaces the lines' own; without it,
 * lines that set a param keep their value, and a notice says how many did (a flag is never ignored silently).
 */
function applyFlags(requests: JobRequest[], defaults: RequestParams, override: boolean, notify: (message: string) => void): JobRequest[] {
  const keys = Object.keys(defaults) as Array<keyof RequestParams>;
  if (override) return requests.map((r) => ({ ...r, params: { ...r.params, ...defaults } }));
  for (const key of keys) {
    const own = requests.filter((r) => r.params?.[key] !== undefined).length;
    if (own === 0) continue;
    const value = key === 'compression' ? JSON.stringify(defaults[key]) : String(defaults[key]);
    notify(
      `${FLAG_OF[key]} ${value} is a default: ${own} of ${requests.length} lines set ${key} themselves and keep it (add --override to apply flags to every line)`,
    );
  }
  return requests;
}

function fail(file: string, problems: Problem[]): never {
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  throw usageError(`${file}: ${count}${listed(groupProblems(problems, 'line'))}`);
}

/** Parses the file into a job submission; every malformed line is reported with its number, flag notices go to `notify`. */
export function readBatchFile(file: string, flags: JobFlags, notify: (message: string) => void = () => {}): SubmitJob {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw usageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const { lines, errors } = parseJsonl(text);
  const problems: Problem[] = errors.map((e) => ({ at: e.line, what: e.message }));
  if (lines.length === 0 && problems.length === 0) fail(file, [{ at: null, what: 'no requests (the file is empty)' }]);

  const isOpenAi = (json: unknown) => typeof json === 'object' && json !== null && 'url' in json && 'body' in json;
  const openAi = lines.filter((l) => isOpenAi(l.json)).length;
  if (openAi > 0 && openAi < lines.length) fail(file, [{ at: null, what: 'mixes OpenAI batch lines ({custom_id, method, url, body}) with job request lines' }]);

  const requests: JobRequest[] = [];
  let model = flags.model;
  for (const { line, json } of lines) {
    if (openAi > 0) {
      const url = (json as { url?: unknown }).url;
      const endpoint = (OPENAI_BATCH_ENDPOINTS as readonly unknown[]).includes(url) ? (url as OpenAiBatchEndpoint) : '/v1/chat/completions';
      const out = convertBatchLine(json, line, endpoint);
      if (!out.ok) {
        problems.push(...out.errors.map((e) => ({ at: line, what: e.message })));
        continue;
      }
      if (!flags.model) {
        // One model per job, as in OpenAI batches; --model overrides what the lines name.
        if (model !== undefined && out.value.model !== model)
          problems.push({ at: line, what: `model "${out.value.model}" differs from "${model}" (one model per job)` });
        model ??= out.value.model;
      }
      requests.push(out.value.request);
    } else {
      const parsed = JobRequestSchema.safeParse(json);
      if (parsed.success) requests.push(parsed.data);
      else problems.push(...zodIssues(parsed.error).map((i) => ({ at: line, what: `${i.field}: ${i.reason}` })));
    }
  }
  if (problems.length > 0) fail(file, problems);
  const defaults = RequestParamsSchema.safeParse(flags.defaults);
  if (!defaults.success)
    fail(
      file,
      zodIssues(defaults.error).map((i) => ({ at: null, what: `flag ${i.field}: ${i.reason}` })),
    );
  const hasDefaults = Object.keys(defaults.data).length > 0;
  if (flags.override && !hasDefaults)
    throw usageError('--override needs a param flag to apply (--max-tokens, --n, --temperature, --top-p, --seed, --compression)');
  return {
    ...(model ? { model } : {}),
    requests: applyFlags(requests, defaults.data, flags.override === true, notify),
    ...(hasDefaults ? { defaults: defaults.data } : {}),
    ...(flags.metadata ? { metadata: flags.metadata } : {}),
  };
}

/** `--compression dms:4` or `--compression none` as params. */
export function parseCompression(value: string): RequestParams['compression'] {
  const [method, ratio] = value.split(':');
  const out: Record<string, unknown> = { method };
  if (ratio !== undefined) out.ratio = Number(ratio);
  return out as RequestParams['compression'];
}
