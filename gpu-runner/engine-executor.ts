// The Executor the runners use: a claimed job's requests go through the engine's generate() on the
// checkpoint their compression asks for, and each finished request is written back with its accounting.
import {
  type BackendName,
  checkPolicyOnBackend,
  type GenerateRequest,
  type GenerateResult,
  generate,
  initBackendInfo,
  type LoadedModel,
  UnsupportedOnBackendError,
} from '../engine/index.js';
import { createPolicy } from '../engine/policies/registry.js';
import { type ClaimedJob, capabilityOf, type PendingRequest, type RequestResultWrite, type RunnerCapability, type RunnerUsage } from '../protocol/index.js';
import { type EngineUsageField, USAGE_FIELDS } from '../protocol/usage-fields.js';
import type { ExecutionContext, Executor } from './executor.js';
import { StaleLeaseError } from './job-source.js';
import { ModelRegistry } from './model-registry.js';

export interface EngineExecutorOptions {
  /** KV memory budget of one generate call in bytes (the scheduler admits sequences while it allows). */
  kvBudgetBytes?: number;
  /** Most threads decoding together. */
  maxBatch?: number;
}

/** A request that can not run at all gets a failed result with a code and the reason. */
function failed(customId: string, code: string, message: string, backend: string): RequestResultWrite {
  return { custom_id: customId, status: 'failed', answer: null, threads: [], usage: null, timings: null, backend, error: { code, message } };
}

/** The wire usage of a result: every engine field of the usage table by name, the runner's seconds, and what ran. */
export function toRunnerUsage(r: GenerateResult): RunnerUsage {
  // Fails to compile when the table names an engine field the engine's Usage does not have.
  const engine: Record<EngineUsageField['engine'], number> = r.usage;
  const fields = Object.fromEntries(USAGE_FIELDS.filter((f) => f.source === 'engine').map((f) => [f.wire, engine[f.engine as EngineUsageField['engine']]]));
  return {
    ...(fields as Record<EngineUsageField['wire'], number>),
    runner_seconds: r.timings.computeMs / 1000,
    method: r.compression.method,
    requested_ratio: r.compression.requestedRatio,
    window: r.compression.window,
  };
}

export function toResultWrite(customId: string, r: GenerateResult): RequestResultWrite {
  return {
    custom_id: customId,
    status: 'succeeded',
    answer: r.answer,
    threads: r.threads.map((t) => ({ text: t.text, answer: t.answer, finish_reason: t.finishReason, completion_tokens: t.completionTokens })),
    usage: toRunnerUsage(r),
    timings: { ttft_ms: r.timings.ttftMs, prefill_ms: r.timings.prefillMs, decode_ms: r.timings.decodeMs, total_ms: r.timings.totalMs },
    // On webgpu the adapter rides in the same field as in /healthz: no schema change for the result store.
    backend: r.adapter ? `${r.backend} (${r.adapter.description || r.adapter.vendor})` : r.backend,
    error: null,
  };
}

/** Resolved wire params -> the engine's request; throws a clear Error when the model can not serve it. */
export function toGenerateRequest(model: LoadedModel, p: PendingRequest, backend: BackendName = 'wasm'): GenerateRequest {
  const { params } = p;
  const compression = { method: params.compression.method, ratio: params.compression.ratio };
  // Throws on a method/ratio this checkpoint can not run, or one this runner's backend does not serve.
  checkPolicyOnBackend(backend, createPolicy(compression, model.config));
  const messages = params.messages;
  const promptTokens = (messages ? model.tokenizer.encodeChat(messages) : model.tokenizer.encodePrompt(p.prompt)).length;
  const context = model.config.maxPositionEmbeddings;
  if (promptTokens + params.max_tokens > context) {
    throw new Error(`prompt (${promptTokens} tokens) + max_tokens (${params.max_tokens}) exceeds the model context of ${context} tokens`);
  }
  return {
    id: p.custom_id,
    prompt: p.prompt,
    ...(messages ? { messages } : {}),
    maxTokens: params.max_tokens,
    temperature: params.temperature,
    topP: params.top_p,
    topK: params.top_k,
    seed: params.seed ?? undefined,
    stop: params.stop,
    n: params.n,
    compression,
    answerPattern: params.answer_pattern ?? undefined,
  };
}

export class EngineExecutor implements Executor {
  /** The methods this backend serves (protocol/backend-methods.ts, which support.ts agrees with): what the claim asks for. */
  readonly capability: RunnerCapability;

  private constructor(
    /** What /healthz shows: the backend, and on webgpu the adapter (claim field, at most 64 characters). */
    readonly backend: string,
    private readonly backendName: BackendName,
    private readonly registry: ModelRegistry,
    private readonly options: EngineExecutorOptions,
  ) {
    this.capability = capabilityOf(backendName);
  }

  static async create(registry = new ModelRegistry(), options: EngineExecutorOptions = {}): Promise<EngineExecutor> {
    const info = await initBackendInfo();
    const shown = info.adapter ? `${info.backend} (${info.adapter.description || info.adapter.vendor})`.slice(0, 64) : info.backend;
    return new EngineExecutor(shown, info.backend, registry, options);
  }

  async execute(job: ClaimedJob, requests: PendingRequest[], ctx: ExecutionContext): Promise<void> {
    const groups = new Map<string, PendingRequest[]>();
    for (const r of requests) {
      const key = { model: job.model, ...r.params.compression };
      // Requests whose checkpoint is unknown group by their key and fail together with the registry's reason.
      const folder = this.registry.folderOf(key) ?? `?${key.method}/${key.ratio}`;
      const group = groups.get(folder);
      if (group) group.push(r);
      else groups.set(folder, [r]);
    }
    for (const group of groups.values()) {
      if (ctx.signal.aborted) return;
      await this.runGroup(job, group, ctx);
    }
  }

  /** Runs requests that share one checkpoint in one continuous batch. */
  private async runGroup(job: ClaimedJob, group: PendingRequest[], ctx: ExecutionContext): Promise<void> {
    const first = group[0].params.compression;
    let model: LoadedModel;
    try {
      model = await this.registry.get({ model: job.model, ...first });
    } catch (e) {
      for (const r of group) await ctx.onResult(failed(r.custom_id, 'model_unavailable', (e as Error).message, this.backend));
      return;
    }
    const runnable: GenerateRequest[] = [];
    for (const r of group) {
      try {
        runnable.push(toGenerateRequest(model, r, this.backendName));
      } catch (e) {
        const code = e instanceof UnsupportedOnBackendError ? 'unsupported_on_backend' : 'invalid_request';
        await ctx.onResult(failed(r.custom_id, code, (e as Error).message, this.backend));
      }
    }
    if (runnable.length === 0) return;

    // Writes happen in finish order; a stale lease (409) stops the engine at its next step.
    const stop = new AbortController();
    const onAbort = () => stop.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const written = new Set<string>();
    let writes = Promise.resolve();
    let writeError: unknown = null;
    const onResult = (res: GenerateResult) => {
      writes = writes.then(async () => {
        if (writeError) return;
        try {
          await ctx.onResult(toResultWrite(res.id, res));
          written.add(res.id);
        } catch (e) {
          writeError = e;
          stop.abort(e);
        }
      });
    };
    try {
      await generate(model, runnable, { onResult, signal: stop.signal, kvBudgetBytes: this.options.kvBudgetBytes, maxBatch: this.options.maxBatch });
      await writes;
    } catch (e) {
      await writes;
      if (writeError instanceof StaleLeaseError) throw writeError;
      if (stop.signal.aborted) return; // canceled, lease lost or shutting down: unfinished work stays pending
      const message = (e as Error).message;
      for (const r of runnable) if (!written.has(r.id)) await ctx.onResult(failed(r.id, 'engine_error', message, this.backend));
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
    if (writeError) throw writeError;
  }

  dispose(): void {
    this.registry.dispose();
  }
}
