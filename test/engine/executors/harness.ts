// Harness of the shared executor suite: which executors this machine runs (webgpu needs an adapter; in
// CI a missing one is a failure, never a skip), how to build one, and what a run leaves behind to compare.
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, ModelExecutor, StepItem } from '../../../engine/executors/executor.js';
import { createExecutor } from '../../../engine/executors/create-executor.js';
import { type GpuContext, gpuContext } from '../../../engine/executors/webgpu/gpu-context.js';
import { forwardDense, hardDmsBias } from '../../../engine/model/llama.js';
import type { ModelWeights } from '../../../engine/model/weight-source.js';
import type { LlamaParams } from '../../../engine/model/weights.js';
import type { KvPolicy } from '../../../engine/policies/kv-policy.js';

export interface ExecutorKind {
  name: 'wasm' | 'webgpu';
  info: BackendInfo;
  /** Live device resources (GPU buffers; tfjs tensors for wasm): must return to their start after dispose. */
  live(): number;
}

/** The executors to run here; when CI is set and no adapter opens, `missing` says why (the suite fails on it). */
export async function executorKinds(): Promise<{ kinds: ExecutorKind[]; ctx: GpuContext | null; missing: string | null }> {
  const wasm: ExecutorKind = { name: 'wasm', info: { backend: 'wasm' }, live: () => tf.memory().numTensors };
  const ctx = await gpuContext();
  if (!ctx) {
    const why = 'no WebGPU adapter (install Mesa lavapipe from bookworm-backports: .ci/system-packages.sh)';
    if (process.env.CI) return { kinds: [wasm], ctx, missing: why };
    console.warn(`\n*** SKIPPING the webgpu executor suite: ${why} ***\n`);
    return { kinds: [wasm], ctx, missing: null };
  }
  const gpu: ExecutorKind = { name: 'webgpu', info: { backend: 'webgpu', adapter: ctx.adapter }, live: () => ctx.liveBuffers() };
  return { kinds: [wasm, gpu], ctx, missing: null };
}

export function makeExecutor(
  kind: ExecutorKind,
  params: ModelWeights,
  budgetTokens = 1 << 15,
  pageSize = 8,
  weights?: 'f32' | 'f16',
  maxPoolBufferBytes?: number,
): Promise<ModelExecutor> {
  return createExecutor(kind.info, params, {
    pool: { pageSize, headDim: params.config.headDim, budgetTokens },
    trackKeyBounds: false,
    weights,
    maxPoolBufferBytes,
  });
}

/** Dense reference logits [T, V] of one sequence (hard DMS mask when window is given). */
export function denseLogits(params: LlamaParams, ids: number[], window: number | null): Float32Array {
  return tf.tidy(() => {
    const out = forwardDense(params, tf.tensor2d([ids], [1, ids.length], 'int32'), window === null ? {} : { attnBias: (_l, lg) => hardDmsBias(lg, window) });
    return out.logits.dataSync() as Float32Array;
  });
}

export function argmax(a: Float32Array, off: number, n: number): number {
  let b = 0;
  for (let j = 1; j < n; j++) if (a[off + j] > a[off + b]) b = j;
  return b;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** What one executor produced on a fixed workload: logits, greedy tokens, reads per step, retained positions per row. */
export interface Trace {
  prefillLogits: Float32Array;
  decodeLogits: Float32Array[];
  tokens: number[][];
  reads: number[];
  retained: string[];
}

/**
 * Prefills `prompts` (all positions' logits), then decodes `steps` greedy tokens for all of them in
 * one batch per step (the sequences of a step are decoded together, as the scheduler does).
 */
export async function trace(
  ex: ModelExecutor,
  makePolicy: () => KvPolicy,
  prompts: number[][],
  steps: number,
  inspect?: (seqs: number[]) => void,
): Promise<Trace> {
  const V = ex.config.vocabSize;
  const seqs = prompts.map(() => ex.addSequence(makePolicy()));
  const pre: StepItem[] = seqs.flatMap((seq, b) => prompts[b].map((token, t) => ({ seq, token, position: t, wantLogits: true })));
  const first = await ex.run(pre);
  const reads = [Array.from(first.reads).reduce((a, b) => a + b, 0)];
  let offs = 0;
  let next = prompts.map((p) => {
    offs += p.length;
    return argmax(first.logits, (offs - 1) * V, V);
  });
  const tokens = prompts.map((_, b) => [next[b]]);
  const decodeLogits: Float32Array[] = [];
  for (let s = 0; s < steps; s++) {
    const out = await ex.run(seqs.map((seq, b) => ({ seq, token: next[b], position: prompts[b].length + s, wantLogits: true })));
    decodeLogits.push(out.logits);
    reads.push(Array.from(out.reads).reduce((a, b) => a + b, 0));
    next = seqs.map((_, b) => argmax(out.logits, b * V, V));
    for (let b = 0; b < next.length; b++) tokens[b].push(next[b]);
  }
  const retained = seqs.flatMap((seq) =>
    ex.cache.rows(seq).map((r) =>
      Array.from(r.positions.subarray(0, r.length))
        .sort((a, b) => a - b)
        .join(','),
    ),
  );
  ex.cache.checkIntegrity();
  inspect?.(seqs);
  for (const s of seqs) ex.free(s);
  ex.cache.checkIntegrity();
  return { prefillLogits: first.logits, decodeLogits, tokens, reads, retained };
}
