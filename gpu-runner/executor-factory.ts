// The one construction point of the runner's executor, used by gateway/node.ts, gpu-runner/main.ts
// and the CLI: the engine executor over the checkpoints in DMS_MODELS_DIR (default ./models).
import { EngineExecutor } from './engine-executor.js';
import type { Executor } from './executor.js';
import { ModelRegistry } from './model-registry.js';

/** Env: DMS_MODELS_DIR (checkpoints), DMS_KV_BUDGET_MB (KV memory per batch), DMS_MAX_BATCH (threads decoded together). */
export async function createDefaultExecutor(env: NodeJS.ProcessEnv = process.env): Promise<Executor> {
  const budgetMb = env.DMS_KV_BUDGET_MB ? Number(env.DMS_KV_BUDGET_MB) : undefined;
  const maxBatch = env.DMS_MAX_BATCH ? Number(env.DMS_MAX_BATCH) : undefined;
  return EngineExecutor.create(new ModelRegistry(env.DMS_MODELS_DIR || './models'), {
    kvBudgetBytes: budgetMb === undefined ? undefined : budgetMb * 1024 * 1024,
    maxBatch,
  });
}
