// The seam between the backend-agnostic engine (scheduler, policies, page tables, accounting, sampler)
// and the code that runs the model: one ModelExecutor interface, implemented by wasm and webgpu.
import type { PagedCache } from '../kv/paged-cache.js';
import type { ModelConfig } from '../model/config.js';
import type { KvPolicy } from '../policies/kv-policy.js';
import type { Candidates } from '../runtime/candidate-sampler.js';
import { argmax, type SamplingParams } from '../runtime/sampler.js';

/** Engine backends: webgpu (WGSL on a GPU adapter), tensorflow (tfjs-node-gpu), wasm, cpu (tfjs). */
export type BackendName = 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';

/** The GPU adapter an executor runs on (webgpu only), as the adapter reports it. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
}

/** What every result and /healthz report about where the model ran. */
export interface BackendInfo {
  backend: BackendName;
  adapter?: AdapterInfo;
}

/** One new token of one sequence. Tokens of the same sequence must come in position order. */
export interface StepItem {
  /** Cache sequence id. */
  seq: number;
  /** Input token id. */
  token: number;
  /** Its position in the sequence. */
  position: number;
  /** Whether the next-token logits of this item are needed. */
  wantLogits: boolean;
  /** With wantLogits: only the argmax id is needed (greedy sampling), so the executor may return just the id. */
  greedy?: boolean;
  /**
   * With wantLogits and not greedy: how the row will be sampled. An executor may then return the row's
   * top candidates instead of its V logits, when they decide sampleToken's draw exactly (candidate-sampler).
   */
  sampling?: SamplingParams;
}

export interface StepOutput {
  /** [S, V] logits, one row per item with wantLogits, neither greedy nor answered by candidates, in item order. */
  logits: Float32Array;
  /** [M] per item with wantLogits, in item order: the argmax id (lowest on ties) when greedy, else -1. */
  ids: Int32Array;
  /** [M] per item with wantLogits, in item order: its top candidates when they decide its draw (sampleCandidates), else null. Absent: none. */
  candidates?: (Candidates | null)[];
  /** Per item: cache slots read, summed over layers and KV heads. */
  reads: Float64Array;
}

/**
 * Runs one step's plan of prefill and decode tokens over the paged cache. The host-side bookkeeping
 * (page tables, row lengths, positions, policy state) lives in `cache` and the policies for every
 * executor alike; where the K/V data lives (WebAssembly memory, GPU buffers) is the executor's business.
 */
export interface ModelExecutor {
  readonly info: BackendInfo;
  readonly config: ModelConfig;
  /** Page tables and capacity queries (canAllocate, pagesForNextToken, pagesHeld, tokensHeld). */
  readonly cache: PagedCache;
  /** Throws a clear error (UnsupportedOnBackendError on webgpu) when this backend cannot serve the policy. */
  checkPolicy(policy: KvPolicy): void;
  /** A new empty sequence governed by `policy`; throws when this backend cannot serve the policy. */
  addSequence(policy: KvPolicy): number;
  /** A copy of a sequence's cache and policy state (threads of one prompt). */
  fork(seq: number): number;
  /** Frees a sequence's pages. */
  free(seq: number): void;
  /** Feeds the items through every layer, updating the cache; the wanted logits (ids of greedy items) and the reads. */
  run(items: StepItem[]): Promise<StepOutput>;
  /** Frees what the executor holds (weight copies, device buffers); the model params stay with their owner. */
  dispose(): void;
}

/**
 * Splits wanted rows into ids and logits on the host (executors that compute every wanted row's
 * logits anyway): greedy rows keep only their argmax, the others their logits in order.
 */
export function splitGreedy(items: StepItem[], logits: Float32Array, V: number): { logits: Float32Array; ids: Int32Array } {
  const wanted = items.filter((it) => it.wantLogits);
  const ids = new Int32Array(wanted.length).fill(-1);
  if (!wanted.some((it) => it.greedy)) return { logits, ids };
  const kept = new Float32Array(wanted.filter((it) => !it.greedy).length * V);
  let r = 0;
  wanted.forEach((it, j) => {
    if (it.greedy) ids[j] = argmax(logits, j * V, V);
    else kept.set(logits.subarray(j * V, (j + 1) * V), V * r++);
  });
  return { logits: kept, ids };
}
