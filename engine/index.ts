// The engine's public API: generate(model, requests, options) -> plain-data results, one per request,
// with threads, majority-vote answer, usage (KV reads, peak KV, achieved ratio) and timings. No tensors cross it.
import { RequestAccounting, type Timings, type Usage } from './accounting.js';
import { type AdapterInfo, type BackendName, initBackendInfo } from './backend.js';
import { createExecutor } from './executors/create-executor.js';
import type { BackendInfo } from './executors/executor.js';
import type { PagedCache } from './kv/paged-cache.js';
import type { LoadedModel } from './model/weights.js';
import { createPolicy } from './policies/registry.js';
import { extractAnswer, majorityVote } from './runtime/answer.js';
import { Scheduler } from './runtime/scheduler.js';
import { type FinishReason, type GenerateRequest, RequestState } from './runtime/sequence.js';

export type { GenerateRequest, FinishReason } from './runtime/sequence.js';
export type { Usage, Timings } from './accounting.js';
export type { CompressionSpec } from './policies/kv-policy.js';
export type { LoadedModel } from './model/weights.js';
export { loadModel, saveModel, initParams, modelFromParams } from './model/weights.js';
export { initBackend, initBackendInfo, backendName, backendInfo } from './backend.js';
export { loadModelForBackend } from './executors/load-for-backend.js';
export type { BackendName, BackendInfo, AdapterInfo } from './backend.js';
export { UnsupportedOnBackendError, checkPolicyOnBackend } from './executors/webgpu/support.js';
export { extractAnswer, majorityVote } from './runtime/answer.js';
export { createPolicy, policyNames } from './policies/registry.js';

export interface ThreadResult {
  text: string;
  answer: string | null;
  finishReason: FinishReason;
  completionTokens: number;
}

export interface GenerateResult {
  id: string;
  /** Majority vote over the threads' answers (null when no thread produced one). */
  answer: string | null;
  threads: ThreadResult[];
  usage: Usage;
  /** The compression that ran: method, the ratio asked for (beside usage.achievedRatio) and the policy's window. */
  compression: { method: string; requestedRatio: number; window: number | null };
  timings: Timings;
  backend: BackendName;
  /** The GPU adapter the request ran on (webgpu only). */
  adapter?: AdapterInfo;
}

export interface GenerateOptions {
  /** KV memory budget in cached tokens (one token of one KV head of one layer); default from kvBudgetBytes. */
  kvBudgetTokens?: number;
  /** KV memory budget in bytes (default 256 MiB). */
  kvBudgetBytes?: number;
  /** Token slots per page (default 16). */
  pageSize?: number;
  /** Most threads decoding together (default 64). */
  maxBatch?: number;
  /** Called with each request's result as soon as it finishes. */
  onResult?: (result: GenerateResult) => void;
  /** Stops generation: pending requests are dropped and the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** Run on this backend instead of the process's choice (initBackend); tests and the eval CLI compare backends. */
  backend?: BackendInfo;
  /** Out-param: filled with run-wide scheduler statistics when generate returns (or throws). */
  stats?: GenerateStats;
  /** Called after every scheduler step with the paged cache, so that tests can check its invariants between steps. */
  afterStep?: (cache: PagedCache) => void;
}

/** Run-wide scheduler statistics of one generate call (plain numbers). */
export interface GenerateStats {
  /** Most threads decoded together in one step (bounded by maxBatch and the KV budget). */
  maxBatch: number;
  /** Mean threads per decode step (0 when nothing was decoded). */
  meanBatch: number;
  /** Threads preempted (freed and later recomputed) because the KV budget ran out. */
  numPreemptions: number;
}

const DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024;

function validate(model: LoadedModel, req: GenerateRequest, promptIds: number[]): void {
  const where = `request ${req.id}`;
  if (!(Number.isInteger(req.maxTokens) && req.maxTokens >= 1)) throw new Error(`${where}: maxTokens must be an integer >= 1`);
  const n = req.n ?? 1;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`${where}: n must be an integer >= 1`);
  if (promptIds.length + 1 > model.config.maxPositionEmbeddings) {
    throw new Error(`${where}: prompt of ${promptIds.length} tokens exceeds the model context (${model.config.maxPositionEmbeddings})`);
  }
  if (req.answerPattern) new RegExp(req.answerPattern); // throws on a bad pattern before any work
}

function toResult(r: RequestState, info: BackendInfo): GenerateResult {
  const threads = r.threads.map((t) => ({
    text: t.text,
    answer: extractAnswer(t.text, r.req.answerPattern),
    finishReason: t.finishReason ?? 'length',
    completionTokens: t.generated.length,
  }));
  const compression = { method: r.policy.name, requestedRatio: r.req.compression?.ratio ?? 1, window: r.policy.window };
  const res: GenerateResult = {
    id: r.req.id,
    answer: majorityVote(threads.map((t) => t.answer)),
    threads,
    usage: r.acct.usage(),
    compression,
    timings: r.acct.timings(),
    backend: info.backend,
  };
  if (info.adapter) res.adapter = info.adapter;
  return res;
}

function abortError(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const e = new Error('generate aborted');
  e.name = 'AbortError';
  return e;
}

/** Runs every request to completion with continuous batching under the KV budget; results in request order. */
export async function generate(model: LoadedModel, requests: GenerateRequest[], options: GenerateOptions = {}): Promise<GenerateResult[]> {
  const chosen = await initBackendInfo();
  const backend = options.backend ?? chosen;
  const cfg = model.config;
  const started = performance.now();
  const states = requests.map((req, i) => {
    const promptIds = req.messages ? model.tokenizer.encodeChat(req.messages) : model.tokenizer.encodePrompt(req.prompt);
    validate(model, req, promptIds);
    const policy = createPolicy(req.compression ?? { method: 'none', ratio: 1 }, cfg);
    const rows = cfg.numLayers * cfg.numKvHeads;
    const acct = new RequestAccounting(started, rows, 2 * cfg.headDim * 4);
    acct.promptTokens = promptIds.length;
    return new RequestState(req, i, promptIds, policy, acct);
  });
  const pageSize = options.pageSize ?? 16;
  const runner = await createExecutor(backend, model.weights, {
    pool: {
      pageSize,
      headDim: cfg.headDim,
      budgetTokens: options.kvBudgetTokens,
      budgetBytes: options.kvBudgetTokens === undefined ? (options.kvBudgetBytes ?? DEFAULT_BUDGET_BYTES) : undefined,
    },
    trackKeyBounds: states.some((s) => s.policy.needsKeyBounds),
  });
  try {
    for (const s of states) runner.checkPolicy(s.policy);
  } catch (err) {
    runner.dispose();
    throw err;
  }
  const scheduler = new Scheduler(runner, model.tokenizer, { maxBatch: options.maxBatch ?? 64 });
  for (const s of states) scheduler.enqueue(s);
  const results = new Map<number, GenerateResult>();
  try {
    while (scheduler.hasWork()) {
      if (options.signal?.aborted) throw abortError(options.signal);
      for (const r of await scheduler.step()) {
        const res = toResult(r, backend);
        results.set(r.order, res);
        options.onResult?.(res);
      }
      options.afterStep?.(runner.cache);
      // Let timers (runner heartbeats) and I/O run between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    if (options.stats) {
      options.stats.maxBatch = scheduler.maxBatchReached;
      options.stats.meanBatch = scheduler.numDecodeSteps > 0 ? scheduler.numThreadSteps / scheduler.numDecodeSteps : 0;
      options.stats.numPreemptions = scheduler.numPreemptions;
    }
    scheduler.releaseAll();
    runner.dispose();
  }
  return states.map((s) => results.get(s.order)!);
}
