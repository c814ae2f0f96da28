// Validates a job submission beyond its zod shape: limits, unique custom_ids, the model and the
// compression each request resolves to (method served by the model and, when the gateway knows its
// whole fleet, by its runner's backend; DMS ratio trained), and the context length.
import {
  type ApiIssue,
  backendsServing,
  type CatalogModel,
  estimatePromptTokens,
  messagesToPrompt,
  type ModelCatalog,
  normalizeMessages,
  type RequestParams,
  type ResolvedParams,
  resolveParams,
  type RunnerCapability,
  SubmitJobSchema,
  zodIssues,
} from '../protocol/index.js';
import type { Limits } from './limits.js';

export type ValidatedJob = {
  model: string;
  defaults: RequestParams | null;
  metadata: Record<string, string> | null;
  requests: Array<{ customId: string; prompt: string; params: ResolvedParams; expectedAnswer: string | null }>;
};

export type Validation = { ok: true; job: ValidatedJob } | { ok: false; status: 400 | 413; issues: ApiIssue[] };

/**
 * `fleet`: what the only runner that will ever claim this job serves (the in-process one, when the
 * remote runner API is off); a request it cannot serve is refused. Absent: any runner may come, so nothing is refused for it.
 */
export function validateJob(body: unknown, catalog: ModelCatalog, limits: Limits, fleet?: RunnerCapability): Validation {
  const numRequests = (body as { requests?: unknown })?.requests;
  if (Array.isArray(numRequests) && numRequests.length > limits.maxRequestsPerJob) {
    const reason = `${numRequests.length} requests exceed the limit of ${limits.maxRequestsPerJob} per job`;
    return { ok: false, status: 413, issues: [{ field: 'requests', reason }] };
  }
  const parsed = SubmitJobSchema.safeParse(body);
  if (!parsed.success) return { ok: false, status: 400, issues: zodIssues(parsed.error) };
  const sub = parsed.data;
  const issues: ApiIssue[] = [];

  if (sub.metadata && Object.keys(sub.metadata).length > limits.maxMetadataKeys) {
    issues.push({ field: 'metadata', reason: `at most ${limits.maxMetadataKeys} keys` });
  }
  const modelName = sub.model ?? catalog.defaultModel;
  const model = catalog.models.find((m) => m.name === modelName);
  if (!model) {
    const available = catalog.models.map((m) => m.name).join(', ') || 'none installed';
    issues.push({ field: 'model', reason: `unknown model "${modelName}"; available: ${available}` });
  }

  const firstIndex = new Map<string, number>();
  const requests: ValidatedJob['requests'] = [];
  sub.requests.forEach((req, i) => {
    const seen = firstIndex.get(req.custom_id);
    if (seen !== undefined) {
      issues.push({ field: `requests[${i}].custom_id`, reason: `duplicate custom_id "${req.custom_id}" (first at requests[${seen}])` });
    } else firstIndex.set(req.custom_id, i);
    const messages = req.messages ? normalizeMessages(req.messages) : null;
    // A chat request stores its messages' text as the prompt (display, estimates) and the messages with its params.
    const prompt = messages ? messagesToPrompt(messages) : (req.prompt as string);
    const params = { ...resolveParams(sub.defaults, req.params), ...(messages ? { messages } : {}) };
    const ratioGiven = (req.params?.compression ?? sub.defaults?.compression)?.ratio !== undefined;
    if (model) issues.push(...checkParams(params, ratioGiven, prompt, model, limits, fieldOf(i, req.params, sub.defaults), fleet));
    requests.push({ customId: req.custom_id, prompt, params, expectedAnswer: req.expected_answer ?? null });
  });

  if (issues.length > 0 || !model) return { ok: false, status: 400, issues };
  return { ok: true, job: { model: model.name, defaults: sub.defaults ?? null, metadata: sub.metadata ?? null, requests } };
}

/** Names the field a resolved value came from: the request's params, else the job's defaults. */
function fieldOf(i: number, params: RequestParams | undefined, defaults: RequestParams | undefined) {
  return (key: keyof RequestParams, sub?: string): string => {
    const origin = params?.[key] === undefined && defaults?.[key] !== undefined ? 'defaults' : `requests[${i}].params`;
    return `${origin}.${key}${sub ? `.${sub}` : ''}`;
  };
}

function checkParams(
  p: ResolvedParams,
  ratioGiven: boolean,
  prompt: string,
  model: CatalogModel,
  limits: Limits,
  field: ReturnType<typeof fieldOf>,
  fleet: RunnerCapability | undefined,
): ApiIssue[] {
  const issues: ApiIssue[] = [];
  if (p.n > limits.maxThreads) issues.push({ field: field('n'), reason: `n must be at most ${limits.maxThreads}` });

  const { method, ratio } = p.compression;
  if (!model.methods.includes(method)) {
    issues.push({
      field: field('compression', 'method'),
      reason: `model "${model.name}" does not serve method "${method}"; available: ${model.methods.join(', ')}`,
    });
  } else if (fleet && !fleet.methods.includes(method)) {
    issues.push({
      field: field('compression', 'method'),
      reason: `method '${method}' is not served by this gateway's runner (backend ${fleet.backend}); backends that serve it: ${backendsServing(method).join(', ')}`,
    });
  } else if (method === 'none' && ratio !== 1) {
    issues.push({ field: field('compression', 'ratio'), reason: 'ratio must be 1 (or absent) for method none' });
  } else if (method !== 'none' && !ratioGiven) {
    issues.push({ field: field('compression', 'ratio'), reason: `ratio is required for method ${method}` });
  } else if (method === 'dms' && !model.dmsRatios.includes(ratio)) {
    issues.push({
      field: field('compression', 'ratio'),
      reason: `no DMS checkpoint of "${model.name}" for ratio ${ratio}; available ratios: ${model.dmsRatios.join(', ')}`,
    });
  }

  const promptTokens = estimatePromptTokens(prompt);
  if (promptTokens + p.max_tokens > model.contextLength) {
    issues.push({
      field: field('max_tokens'),
      reason: `prompt (~${promptTokens} tokens) + max_tokens ${p.max_tokens} exceeds the context length ${model.contextLength} of model "${model.name}"`,
    });
  }
  return issues;
}
