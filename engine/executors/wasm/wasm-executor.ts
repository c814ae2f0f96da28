// The wasm executor: runs any mix of prefill and decode tokens with the four matrix products per layer
// as 2-D tfjs matMuls, everything else (norms, RoPE, attention over the paged cache per (sequence,
// layer, KV head) row in WebAssembly memory) in plain JS and WASM SIMD: few backend calls per step.
import * as tf from '@tensorflow/tfjs';
import { attendRow } from '../../kv/attention.js';
import type { PagedCache } from '../../kv/paged-cache.js';
import { gatedRows } from '../../model/activation.js';
import type { ModelConfig } from '../../model/config.js';
import { ropeTables } from '../../model/rope.js';
import type { LlamaParams } from '../../model/weights.js';
import type { KvPolicy } from '../../policies/kv-policy.js';
import { type BackendInfo, type ModelExecutor, type StepItem, type StepOutput, splitGreedy } from '../executor.js';
import { addBiasRows, FusedWeights, matmulRows, rmsNormRows } from '../fused-weights.js';
import { SequencePolicies } from '../sequence-policies.js';
import { splitQkv } from './qkv-post.js';

export type { StepItem, StepOutput } from '../executor.js';

export class WasmExecutor implements ModelExecutor {
  private readonly policies: SequencePolicies;
  private slotScratch = new Int32Array(256);
  private weightScratch = new Float32Array(256);

  private readonly fused: FusedWeights;

  readonly config: ModelConfig;

  /** info: the tfjs backend the dense ops run on (wasm, tensorflow or cpu). */
  constructor(
    readonly params: LlamaParams,
    readonly cache: PagedCache,
    readonly info: BackendInfo = { backend: 'wasm' },
  ) {
    this.config = params.config;
    this.policies = new SequencePolicies(cache, 'wasm executor');
    this.fused = new FusedWeights(params);
  }

  /** Every policy runs here (the cache must track key bounds for Quest: checked in addSequence). */
  checkPolicy(_policy: KvPolicy): void {}

  /** A new empty sequence governed by `policy`. */
  addSequence(policy: KvPolicy): number {
    if (policy.needsKeyBounds && !this.cache.trackKeyBounds) throw new Error(`policy ${policy.name} needs a cache that tracks key bounds`);
    return this.policies.add(policy);
  }

  /** A copy of a sequence's cache and policy state (threads of one prompt). */
  fork(seq: number): number {
    return this.policies.fork(seq);
  }

  /** Frees a sequence's pages. */
  free(seq: number): void {
    this.policies.free(seq);
  }

  policyOf(seq: number): KvPolicy {
    return this.policies.of(seq);
  }

  run(items: StepItem[]): Promise<StepOutput> {
    return Promise.resolve(this.runSync(items));
  }

  /** Feeds the items through every layer, updating the cache; returns the wanted logits and the reads. */
  runSync(items: StepItem[]): StepOutput {
    const cfg = this.params.config;
    const { numHeads: H, numKvHeads: K, headDim: D, hiddenSize: d, intermediateSize: I, vocabSize: V } = cfg;
    const G = H / K;
    const N = items.length;
    const scale = 1 / Math.sqrt(D);
    const reads = new Float64Array(N);
    const rope = ropeTables(
      cfg,
      items.map((it) => it.position),
    );
    const policies = items.map((it) => this.policyOf(it.seq));
    const wanted = items.flatMap((it, i) => (it.wantLogits ? [i] : []));
    const x = embedRows(
      this.params.embed,
      items.map((it) => it.token),
    ); // [N, d]
    const qa = new Float32Array(N * H * D); // [N, H, D]
    const ka = new Float32Array(N * K * D); // [N, K, D]
    const va = new Float32Array(N * K * D); // [N, K, D]
    const la = new Float32Array(N * K).fill(NaN); // [N, K] DMS logits
    const attn = new Float32Array(N * H * D); // [N, H*D]
    this.fused.layers.forEach((f, l) => {
      const y = matmulRows(rmsNormRows(x, N, d, cfg.rmsNormEps), N, f.qkvd); // [N, (H+2K)*D (+K)]
      splitQkv(cfg, f, y, N, rope.cos, rope.sin, rope.rot, qa, ka, va, la);
      for (let i = 0; i < N; i++) {
        const it = items[i];
        const policy = policies[i];
        for (let h = 0; h < K; h++) {
          const row = this.cache.row(it.seq, l, h);
          const kvOff = (i * K + h) * D;
          policy.insert(row, { position: it.position, k: ka, kOff: kvOff, v: va, vOff: kvOff, dmsLogit: la[i * K + h] });
          const qOff = (i * H + h * G) * D;
          let slots: Int32Array | null = null;
          let n = row.length;
          if (policy.selectSlots) {
            if (this.slotScratch.length < row.length) this.slotScratch = new Int32Array(row.length * 2);
            const chosen = policy.selectSlots(row, qa, qOff, G, this.slotScratch);
            if (chosen >= 0) {
              slots = this.slotScratch;
              n = chosen;
            }
          }
          let weights: Float32Array | null = null;
          if (policy.needsAttention) {
            if (this.weightScratch.length < n) this.weightScratch = new Float32Array(n * 2);
            weights = this.weightScratch;
          }
          reads[i] += attendRow(row, qa, qOff, G, scale, attn, qOff, slots, n, weights);
          if (weights) policy.observe?.(row, weights, slots, n, it.position);
        }
      }
      addRows(x, matmulRows(attn, N, f.o), f.oBias, N, d);
      const gu = matmulRows(rmsNormRows(x, N, d, cfg.rmsNormEps), N, f.gateUp); // [N, 2I]
      if (f.gateUpBias) addBiasRows(gu, f.gateUpBias, N);
      const act = gatedRows(cfg.hiddenAct, gu, N, I); // [N, I] act(gate) * up
      addRows(x, matmulRows(act, N, f.down), f.downBias, N, d);
    });
    if (wanted.length === 0) return { logits: new Float32Array(0), ids: new Int32Array(0), reads };
    const xs = new Float32Array(wanted.length * d);
    for (let r = 0; r < wanted.length; r++) xs.set(x.subarray(wanted[r] * d, (wanted[r] + 1) * d), r * d);
    const logits = matmulRows(rmsNormRows(xs, wanted.length, d, cfg.rmsNormEps), wanted.length, this.fused.lmHead); // [M, V]
    if (logits.length !== wanted.length * V) throw new Error('wasm executor: logits size mismatch');
    // The logits are in host memory already: greedy rows take their argmax here.
    return { ...splitGreedy(items, logits, V), reads };
  }

  /** Frees the fused weight copies (the params stay with their owner). */
  dispose(): void {
    this.fused.dispose();
  }
}

/** Embedding rows of the tokens [N, d] (manual dispose: tf.tidy would walk the returned array). */
function embedRows(embed: tf.Tensor2D, tokens: number[]): Float32Array {
  const ids = tf.tensor1d(tokens, 'int32');
  const rows = tf.gather(embed, ids);
  const out = rows.dataSync() as Float32Array;
  ids.dispose();
  rows.dispose();
  return out;
}

/** x[N, d] += y[N, d] (+ bias[d]). */
function addRows(x: Float32Array, y: Float32Array, bias: Float32Array | null, n: number, d: number): void {
  for (let i = 0; i < n * d; i++) x[i] += y[i];
  if (bias) for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) x[r * d + j] += bias[j];
}
