// Runs the model over a flat list of new tokens (prefill chunks and decode steps alike): projections
// and MLP as 2-D tfjs matMuls, attention per (sequence, layer, KV head) row over the paged cache in JS.
import * as tf from '@tensorflow/tfjs';
import { attendRow } from '../kv/attention.js';
import type { PagedCache } from '../kv/paged-cache.js';
import { finishLayer, lmLogits, projectQkv } from '../model/llama.js';
import { ropeTables } from '../model/rope.js';
import type { LlamaParams } from '../model/weights.js';
import type { KvPolicy } from '../policies/kv-policy.js';

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

export class ModelRunner {
  private readonly policies = new Map<number, KvPolicy>();
  private slotScratch = new Int32Array(256);
  private weightScratch = new Float32Array(256);

  constructor(readonly params: LlamaParams, readonly cache: PagedCache) {}

  /** A new empty sequence governed by `policy`. */
  addSequence(policy: KvPolicy): number {
    if (policy.needsKeyBounds && !this.cache.trackKeyBounds) throw new Error(`policy ${policy.name} needs a cache that tracks key bounds`);
    const seq = this.cache.addSequence();
    for (const row of this.cache.rows(seq)) policy.initRow(row);
    this.policies.set(seq, policy);
    return seq;
  }

  /** A copy of a sequence's cache and policy state (threads of one prompt). */
  fork(seq: number): number {
    const policy = this.policyOf(seq);
    const id = this.cache.fork(seq, (s) => policy.cloneState(s));
    this.policies.set(id, policy);
    return id;
  }

  /** Frees a sequence's pages. */
  free(seq: number): void {
    this.cache.freeSequence(seq);
    this.policies.delete(seq);
  }

  policyOf(seq: number): KvPolicy {
    const p = this.policies.get(seq);
    if (!p) throw new Error(`model runner: unknown sequence ${seq}`);
    return p;
  }

  /** Feeds the items through every layer, updating the cache; returns the wanted logits and the reads. */
  run(items: StepItem[]): StepOutput {
    const cfg = this.params.config;
    const { numHeads: H, numKvHeads: K, headDim: D, vocabSize: V } = cfg;
    const G = H / K;
    const N = items.length;
    const scale = 1 / Math.sqrt(D);
    const reads = new Float64Array(N);
    const rope = ropeTables(cfg, items.map((it) => it.position));
    const policies = items.map((it) => this.policyOf(it.seq));
    const wanted = items.flatMap((it, i) => (it.wantLogits ? [i] : []));
    const logits = tf.tidy(() => {
      const cos = tf.tensor2d(rope.cos, [N, rope.rot]);
      const sin = tf.tensor2d(rope.sin, [N, rope.rot]);
      let x = tf.gather(this.params.embed, tf.tensor1d(items.map((it) => it.token), 'int32')) as tf.Tensor2D; // [N, d]
      this.params.layers.forEach((p, l) => {
        const { q, k, v, dmsLogit } = projectQkv(cfg, p, x, cos, sin);
        const qa = q.dataSync() as Float32Array; // [N, H, D]
        const ka = k.dataSync() as Float32Array; // [N, K, D]
        const va = v.dataSync() as Float32Array; // [N, K, D]
        const la = dmsLogit ? (dmsLogit.dataSync() as Float32Array) : null; // [N, K]
        const attn = new Float32Array(N * H * D); // [N, H*D]
        for (let i = 0; i < N; i++) {
          const it = items[i];
          const policy = policies[i];
          for (let h = 0; h < K; h++) {
            const row = this.cache.row(it.seq, l, h);
            const kvOff = (i * K + h) * D;
            policy.insert(row, { position: it.position, k: ka, kOff: kvOff, v: va, vOff: kvOff, dmsLogit: la ? la[i * K + h] : NaN });
            const qOff = (i * H + h * G) * D;
            let slots: Int32Array | null = null;
            let n = row.length;
            if (policy.selectSlots) {
              if (this.slotScratch.length < row.length) this.slotScratch = new Int32Array(row.length * 2);
              const chosen = policy.selectSlots(row, qa, qOff, G, this.slotScratch);
              if (chosen >= 0) { slots = this.slotScratch; n = chosen; }
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
        x = finishLayer(cfg, p, x, tf.tensor2d(attn, [N, H * D]));
      });
      if (wanted.length === 0) return new Float32Array(0);
      const xs = wanted.length === N ? x : tf.gather(x, tf.tensor1d(wanted, 'int32'));
      return lmLogits(this.params, xs as tf.Tensor2D).dataSync() as Float32Array; // [M, V]
    });
    if (logits.length !== wanted.length * V) throw new Error('model runner: logits size mismatch');
    return { logits, reads };
  }
}
