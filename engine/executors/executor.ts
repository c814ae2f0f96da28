// The seam between the backend-agnostic engine (scheduler, policies, page tables, accounting, sampler)
// and the code that runs the model: one ModelExecutor interface, implemented by wasm and webgpu.
import type { PagedCache } from '../kv/paged-cache.js';
import type { ModelConfig } from '../model/config.js';
import type { KvPolicy } from '../policies/kv-policy.js';

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
}

export interface StepOutput {
  /** [M, V] logits, one row per item with wantLogits, in item order. */
  logits: Float32Array;
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
  /** Feeds the items through every layer, updating the cache; the wanted logits and the reads. */
  run(items: StepItem[]): Promise<StepOutput>;
  /** Frees what the executor holds (weight copies, device buffers); the model params stay with their owner. */
  dispose(): void;
}
