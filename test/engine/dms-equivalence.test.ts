// The decisive test (dms.md section 5): a full forward with the hard DMS mask equals prefill +
// token-by-token decode over the paged, compacted cache: same logits and same retained set per row.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../engine/backend.js';
import { forwardDense, hardDmsBias } from '../../engine/model/llama.js';
import { disposeParams } from '../../engine/model/weights.js';
import { PagePool } from '../../engine/kv/page-pool.js';
import { PagedCache } from '../../engine/kv/paged-cache.js';
import { DmsPolicy } from '../../engine/policies/dms.js';
import { WasmExecutor, type StepItem } from '../../engine/executors/wasm/wasm-executor.js';
import { randomParams, tinyConfig } from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

interface Case {
  name: string;
  extra: Record<string, unknown>;
  window: number;
  prefill: number;
  seed: number;
}
const cases: Case[] = [
  {
    name: 'adapter, GQA 4/2, partial RoPE, w=3',
    extra: { partial_rotary_factor: 0.5, dms: { mode: 'adapter', window: 3, offset: -2 } },
    window: 3,
    prefill: 7,
    seed: 1,
  },
  {
    name: 'neuron, qwen3 q/k-norm, GQA 4/2, full RoPE, w=2',
    extra: { model_type: 'qwen3', head_dim: 8, dms: { mode: 'neuron', window: 2 } },
    window: 2,
    prefill: 1,
    seed: 2,
  },
  {
    name: 'neuron, qwen2 bias, GQA 6/2, partial RoPE, w=3',
    extra: { model_type: 'qwen2', hidden_size: 48, num_attention_heads: 6, partial_rotary_factor: 0.75, dms: { mode: 'neuron', window: 3 } },
    window: 3,
    prefill: 12,
    seed: 3,
  },
  {
    name: 'adapter, MHA 2/2, llama3 rope scaling, w=0 (immediate eviction)',
    extra: {
      num_attention_heads: 2,
      num_key_value_heads: 2,
      rope_scaling: { rope_type: 'llama3', factor: 4, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
      dms: { mode: 'adapter', window: 0, offset: -1 },
    },
    window: 0,
    prefill: 4,
    seed: 4,
  },
  {
    name: 'NVIDIA adapter with bias, alpha per layer; mlp_bias, gelu_pytorch_tanh, yarn, w=3',
    extra: {
      attention_bias: true,
      mlp_bias: true,
      hidden_act: 'gelu_pytorch_tanh',
      rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 16 },
      dms_separate_alpha: true,
      dms_window_size: 3,
      dms_alpha_per: 'layer',
      dms_initial_alpha_offset: -2,
    },
    window: 3,
    prefill: 5,
    seed: 5,
  },
];

describe('DMS: hard-mask dense forward == prefill + step-by-step decode', () => {
  for (const c of cases) {
    it(c.name, () => {
      const cfg = tinyConfig(c.extra);
      const params = randomParams(cfg, c.seed, 0.08);
      const B = 2,
        T = 26,
        V = cfg.vocabSize,
        K = cfg.numKvHeads,
        L = cfg.numLayers;
      const idsArr = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (t === 0 ? 256 : (b * 37 + t * 11 + c.seed * 5) % 256)));
      const before = tf.memory().numTensors;
      const { dense, evict } = tf.tidy(() => {
        const ids = tf.tensor2d(idsArr, [B, T], 'int32');
        const out = forwardDense(params, ids, { attnBias: (_l, lg) => hardDmsBias(lg, c.window) });
        return { dense: out.logits.arraySync() as number[][][], evict: out.dmsLogits.map((lg) => lg.arraySync() as number[][][]) };
      });
      expect(tf.memory().numTensors).toBe(before);
      // Engine: batched sequences, prefill a prefix, then decode one token per sequence per step.
      const cache = new PagedCache(new PagePool({ pageSize: 4, headDim: cfg.headDim, budgetTokens: 4 * 1024 }), { numLayers: L, numKvHeads: K });
      const runner = new WasmExecutor(params, cache);
      const policy = new DmsPolicy(c.window);
      const seqs = idsArr.map(() => runner.addSequence(policy));
      const got: number[][][] = idsArr.map(() => []);
      const pre: StepItem[] = seqs.flatMap((seq, b) => idsArr[b].slice(0, c.prefill).map((token, t) => ({ seq, token, position: t, wantLogits: true })));
      const collect = (items: StepItem[], logits: Float32Array) => {
        for (const [i, it] of items.entries()) got[seqs.indexOf(it.seq)].push(Array.from(logits.subarray(i * V, (i + 1) * V)));
      };
      collect(pre, runner.runSync(pre).logits);
      let evictedSeen = 0,
        total = 0;
      for (let t = c.prefill; t < T; t++) {
        const step: StepItem[] = seqs.map((seq, b) => ({ seq, token: idsArr[b][t], position: t, wantLogits: true }));
        collect(step, runner.runSync(step).logits);
        cache.checkIntegrity();
        // Retained set after token t: every j <= t except evicted ones older than the window.
        for (let b = 0; b < B; b++)
          for (let l = 0; l < L; l++)
            for (let h = 0; h < K; h++) {
              const row = cache.row(seqs[b], l, h);
              const held = Array.from(row.positions.subarray(0, row.length)).sort((x, y) => x - y);
              const want: number[] = [];
              for (let j = 0; j <= t; j++) {
                const ev = j + 1 <= t && evict[l][b][j + 1][h] > 0;
                if (!(ev && t - j > c.window)) want.push(j);
              }
              expect(held).toEqual(want);
              evictedSeen += t + 1 - held.length;
              total += t + 1;
            }
      }
      expect(evictedSeen / total).toBeGreaterThan(0.15); // the test must actually evict
      let maxDiff = 0;
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let v = 0; v < V; v++) maxDiff = Math.max(maxDiff, Math.abs(got[b][t][v] - dense[b][t][v]));
      expect(maxDiff).toBeLessThan(1e-4);
      for (const s of seqs) runner.free(s);
      cache.checkIntegrity();
      expect(cache.pool.numUsed).toBe(0);
      disposeParams(params);
    });
  }

  it('whole-prompt prefill gives the same cache and logits as token-by-token feeding', () => {
    const cfg = tinyConfig({ partial_rotary_factor: 0.5, dms: { mode: 'adapter', window: 3, offset: -2 } });
    const params = randomParams(cfg, 9, 0.08);
    const ids = Array.from({ length: 30 }, (_, t) => (t * 13 + 7) % 256);
    const cache = new PagedCache(new PagePool({ pageSize: 4, headDim: cfg.headDim, budgetTokens: 4096 }), { numLayers: 2, numKvHeads: 2 });
    const runner = new WasmExecutor(params, cache);
    const a = runner.addSequence(new DmsPolicy(3));
    const b = runner.addSequence(new DmsPolicy(3));
    const la = runner.runSync(ids.map((token, t) => ({ seq: a, token, position: t, wantLogits: t === ids.length - 1 }))).logits;
    let lb: Float32Array = new Float32Array(0);
    ids.forEach((token, t) => {
      lb = runner.runSync([{ seq: b, token, position: t, wantLogits: true }]).logits;
    });
    for (let i = 0; i < la.length; i++) expect(Math.abs(la[i] - lb[i])).toBeLessThan(1e-4);
    for (let r = 0; r < 4; r++) {
      const ra = cache.rows(a)[r],
        rb = cache.rows(b)[r];
      expect(Array.from(ra.positions.subarray(0, ra.length))).toEqual(Array.from(rb.positions.subarray(0, rb.length)));
      expect(ra.length).toBeLessThan(ids.length);
    }
    runner.free(a);
    runner.free(b);
    disposeParams(params);
  });
});
