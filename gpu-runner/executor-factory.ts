// The one construction point of the runner's executor, used by gateway/node.ts and gpu-runner/main.ts.
// Returns null while no engine executor exists: then no runner starts and jobs wait in the queue.
import type { Executor } from './executor.js';

/**
 * The engine-backed executor (gpu-runner/engine-executor.ts) is wired here by issue 3. Until then
 * there is deliberately no executor: the product never answers with placeholder results.
 */
export async function createDefaultExecutor(): Promise<Executor | null> {
  return null;
}
