// Loading straight to the webgpu device (loadModelForBackend on webgpu): the same logits, greedy tokens
// and retained sets as the device weights built from tfjs params, no tfjs tensor made, strict refusals,
// split embedding / matrices, and every buffer freed by the model's dispose(). CI=true never skips it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../engine/backend.js';
import { loadModelForBackend } from '../../../engine/executors/load-for-backend.js';
import { residentWeights, WEIGHT_LABEL } from '../../../engine/executors/webgpu/device-weights.js';
import type { GpuContext } from '../../../engine/executors/webgpu/gpu-context.js';
import { generate, type GenerateRequest } from '../../../engine/index.js';
import { numDerived } from '../../../engine/model/derived-resources.js';
import { isDeviceOnly, type DeviceOnlyWeights } from '../../../engine/model/weight-source.js';
import { loadModel } from '../../../engine/model/weights.js';
import { createPolicy, type PolicySpec } from '../../../engine/policies/registry.js';
import { tinyConfig, writeRandomModel } from '../helpers.js';
import { type ExecutorKind, executorKinds, makeExecutor, maxAbsDiff, type Trace, trace } from './harness.js';

await initBackend();
const { kinds, ctx, missing } = await executorKinds();
const gpu = kinds.find((k) => k.name === 'webgpu');
const wasm = kinds[0];
const root = mkdtempSync(join(tmpdir(), 'device-load-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('the webgpu device load is tested in CI (lavapipe), never skipped there', () => {
  expect(missing).toBeNull();
});

const prompts = [Array.from({ length: 21 }, (_, t) => (t === 0 ? 256 : (t * 13 + 5) % 256)), [256, 7, 99, 180]];

async function traceOf(kind: ExecutorKind, weights: Parameters<typeof makeExecutor>[1], spec: PolicySpec, precision?: 'f32' | 'f16'): Promise<Trace> {
  const ex = await makeExecutor(kind, weights, 1 << 14, 8, precision);
  const out = await trace(ex, () => createPolicy(spec, weights.config), prompts, 16);
  ex.dispose();
  return out;
}

function expectSameTrace(got: Trace, want: Trace, tol: number): void {
  expect(maxAbsDiff(got.prefillLogits, want.prefillLogits)).toBeLessThanOrEqual(tol);
  for (let s = 0; s < got.decodeLogits.length; s++) expect(maxAbsDiff(got.decodeLogits[s], want.decodeLogits[s])).toBeLessThanOrEqual(tol);
  expect(got.tokens).toEqual(want.tokens);
  expect(got.reads).toEqual(want.reads);
  expect(got.retained).toEqual(want.retained);
}

if (gpu && ctx) {
  describe('webgpu: checkpoint -> device, one tensor at a time', () => {
    const cases: { name: string; extra: Record<string, unknown>; spec: PolicySpec; dtype: 'F16' | 'BF16' }[] = [
      {
        name: 'llama GQA 4/2, untied, adapter w=3, f16 checkpoint',
        extra: { tie_word_embeddings: false, partial_rotary_factor: 0.5, dms: { mode: 'adapter', window: 3, offset: -2 } },
        spec: { method: 'dms', ratio: 4 },
        dtype: 'F16',
      },
      {
        name: 'qwen2 biases, tied, neuron w=2, bf16 checkpoint',
        extra: { model_type: 'qwen2', hidden_size: 48, num_attention_heads: 6, dms: { mode: 'neuron', window: 2 } },
        spec: { method: 'dms', ratio: 4 },
        dtype: 'BF16',
      },
      {
        name: 'qwen3 q/k norm, tied, vanilla, bf16 checkpoint',
        extra: { model_type: 'qwen3', head_dim: 8 },
        spec: { method: 'none', ratio: 1 },
        dtype: 'BF16',
      },
    ];
    cases.forEach((c, i) => {
      for (const precision of ['f32', 'f16'] as const) {
        it(`${c.name}, ${precision} on the device: identical to the weights built from tfjs params; tokens, reads, retained sets = wasm`, async () => {
          const dir = join(root, `case-${i}`);
          writeRandomModel(dir, tinyConfig(c.extra), 40 + i, 0.08, c.dtype);
          const ref = loadModel(dir);
          const want = await traceOf(gpu, ref.params, c.spec, precision);
          const cpu = await traceOf(wasm, ref.params, c.spec);
          ref.dispose();
          const tensors = tf.memory().numTensors;
          const live = ctx.liveBuffers();
          const m = await loadModelForBackend(dir, { backend: gpu.info, weights: precision });
          expect(tf.memory().numTensors).toBe(tensors);
          expect(isDeviceOnly(m.weights)).toBe(true);
          const got = await traceOf(gpu, m.weights, c.spec, precision);
          expect(tf.memory().numTensors).toBe(tensors);
          // Same bytes on the device either way, so bit-identical logits.
          expectSameTrace(got, want, 0);
          // And the backend-agnostic outcome equals wasm's on f32 (f16 weights round, as on the tfjs path).
          if (precision === 'f32') expectSameTrace(got, cpu, 1e-3);
          m.dispose();
          expect(ctx.liveBuffers()).toBe(live);
        });
      }
    });

    it('generate() on a device-only model: same results as from tfjs params; one resident copy; no tfjs tensors; dispose frees every buffer', async () => {
      const dir = join(root, 'gen');
      writeRandomModel(dir, tinyConfig({ dms: { mode: 'adapter', window: 2, offset: -1 } }), 9, 0.08, 'F16');
      const reqs: GenerateRequest[] = [0, 1].map((k) => ({
        id: `r${k}`,
        prompt: `Q:${k + 3}a+2b=`,
        maxTokens: 12,
        ignoreEos: true,
        n: 2,
        temperature: k === 0 ? 0 : 0.8,
        seed: 3,
        compression: { method: 'dms', ratio: 4 },
      }));
      const ref = loadModel(dir);
      const want = await generate(ref, reqs, { backend: gpu.info, kvBudgetTokens: 1 << 12 });
      ref.dispose();
      const tensors = tf.memory().numTensors;
      const start = ctx.liveBuffers();
      const create = ctx.createBuffer;
      let weightBytes = 0;
      ctx.createBuffer = (desc) => {
        if (desc.label === WEIGHT_LABEL) weightBytes += desc.size;
        return create.call(ctx, desc);
      };
      try {
        const m = await loadModelForBackend(dir, { backend: gpu.info });
        const loaded = weightBytes;
        expect(loaded).toBeGreaterThan(0);
        const got = await generate(m, reqs, { backend: gpu.info, kvBudgetTokens: 1 << 12 });
        const again = await generate(m, reqs, { backend: gpu.info, kvBudgetTokens: 1 << 12 });
        expect(weightBytes).toBe(loaded);
        expect(numDerived(m.weights)).toBe(1);
        const strip = (rs: typeof got) => rs.map((r) => ({ id: r.id, threads: r.threads, usage: r.usage }));
        expect(strip(got)).toEqual(strip(want));
        expect(strip(again)).toEqual(strip(want));
        expect(tf.memory().numTensors).toBe(tensors);
        m.dispose();
      } finally {
        ctx.createBuffer = create;
      }
      expect(ctx.liveBuffers()).toBe(start);
    });

    it('a device-only model refuses tfjs uses with a clear error (params, the wasm executor)', async () => {
      const dir = join(root, 'refuse-uses');
      writeRandomModel(dir, tinyConfig(), 11, 0.08, 'BF16');
      const m = await loadModelForBackend(dir, { backend: gpu.info });
      expect(() => m.params).toThrow(/loaded for the webgpu backend: its weights are on the device only.*loadModel\(dir\)/);
      await expect(makeExecutor(wasm, m.weights)).rejects.toThrow(/weights are on the device only/);
      m.dispose();
    });

    it('embedding and matrices split past a (forced small) binding limit: identical logits and tokens', async () => {
      const dir = join(root, 'split');
      writeRandomModel(dir, tinyConfig({ tie_word_embeddings: false }), 12, 0.08, 'F16');
      const spec: PolicySpec = { method: 'none', ratio: 1 };
      const whole = await loadModelForBackend(dir, { backend: gpu.info });
      const want = await traceOf(gpu, whole.weights, spec);
      whole.dispose();
      // Build the resident f32 weights of a fresh device-only model with a 4 KiB binding limit: 259 x 32
      // f32 embedding rows -> 9 row blocks, every matrix in column blocks of 16 or 32 columns.
      const split = await loadModelForBackend(dir, { backend: gpu.info, weights: 'f16' });
      const limits = new Proxy(ctx.limits, { get: (t, k) => (k === 'maxStorageBufferBindingSize' ? 4096 : (t as unknown as Record<PropertyKey, unknown>)[k]) });
      const small: GpuContext = { ...ctx, limits };
      const w = await residentWeights(small, split.weights, (split.weights as DeviceOnlyWeights).source, false);
      expect(w.embed.length).toBe(Math.ceil(259 / Math.floor(4096 / (32 * 4))));
      expect(w.layers[0].gateUp.parts.length).toBeGreaterThan(1);
      expect(w.lmHead.parts.length).toBeGreaterThan(1);
      const got = await traceOf(gpu, split.weights, spec, 'f32');
      expectSameTrace(got, want, 0);
      split.dispose();
    });

    describe('strict loading fires on the device path', () => {
      const start = () => ({ tensors: tf.memory().numTensors, live: ctx.liveBuffers() });
      it('a tensor the config does not consume', async () => {
        const dir = join(root, 'stray');
        writeRandomModel(dir, tinyConfig({ mlp_bias: true }), 1, 0.05, 'F16');
        const cfgPath = join(dir, 'config.json');
        writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), mlp_bias: false }));
        const s = start();
        await expect(loadModelForBackend(dir, { backend: gpu.info })).rejects.toThrow(
          /6 tensor\(s\) the model does not consume \("model\.layers\.0\.mlp\.down_proj\.bias"/,
        );
        expect(start()).toEqual(s);
      });
      it('a missing tensor, with its expected shape; a wrong shape', async () => {
        const dir = join(root, 'missing');
        writeRandomModel(dir, tinyConfig(), 2, 0.05, 'BF16');
        const cfgPath = join(dir, 'config.json');
        const json = JSON.parse(readFileSync(cfgPath, 'utf8'));
        writeFileSync(cfgPath, JSON.stringify({ ...json, tie_word_embeddings: false }));
        await expect(loadModelForBackend(dir, { backend: gpu.info })).rejects.toThrow(/missing tensor "lm_head\.weight"/);
        writeFileSync(cfgPath, JSON.stringify({ ...json, attention_bias: true }));
        await expect(loadModelForBackend(dir, { backend: gpu.info })).rejects.toThrow(
          /missing tensor "model\.layers\.0\.self_attn\.q_proj\.bias" \(expected shape \[32\]\)/,
        );
        writeFileSync(cfgPath, JSON.stringify({ ...json, intermediate_size: 48 }));
        const s = start();
        await expect(loadModelForBackend(dir, { backend: gpu.info })).rejects.toThrow(/tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[64,32\]/);
        expect(start()).toEqual(s);
      });
      it('config values the kernels do not implement, before any tensor is read', async () => {
        const dir = join(root, 'gelu');
        writeRandomModel(dir, tinyConfig({ hidden_act: 'gelu_pytorch_tanh' }), 3, 0.05, 'F16');
        const s = start();
        await expect(loadModelForBackend(dir, { backend: gpu.info })).rejects.toThrow(
          /webgpu backend: config hidden_act = "gelu_pytorch_tanh" is not implemented/,
        );
        expect(start()).toEqual(s);
      });
    });
  });
}

describe('loadModelForBackend on wasm', () => {
  it('is loadModel: tfjs params, as before', async () => {
    const dir = join(root, 'wasm');
    writeRandomModel(dir, tinyConfig(), 5, 0.05, 'F16');
    const m = await loadModelForBackend(dir, { backend: wasm.info });
    expect(isDeviceOnly(m.weights)).toBe(false);
    expect(m.weights).toBe(m.params);
    m.dispose();
  });
});
