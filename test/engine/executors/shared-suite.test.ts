// One case suite for every model executor (wasm, webgpu): all-position logits against the dense
// reference, greedy tokens, DMS retained sets and reads against the wasm executor, generate() with
// forks, preemption and cancellation, sampled rows (candidates or logits) against sampleToken, refusals,
// and no leaked tensors or GPU buffers.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../engine/backend.js';
import { type GenerateRequest, type GenerateStats, generate } from '../../../engine/index.js';
import { readSafetensors } from '../../../engine/model/safetensors.js';
import { numDerived, releaseDerived } from '../../../engine/model/derived-resources.js';
import { type LoadedModel, loadModel } from '../../../engine/model/weights.js';
import { createPolicy, type PolicySpec } from '../../../engine/policies/registry.js';
import { WEIGHT_LABEL } from '../../../engine/executors/webgpu/device-weights.js';
import { gpuContext } from '../../../engine/executors/webgpu/gpu-context.js';
import type { WebgpuExecutor } from '../../../engine/executors/webgpu/webgpu-executor.js';
import { sampleCandidates } from '../../../engine/runtime/candidate-sampler.js';
import { Rng, type SamplingParams, sampleToken } from '../../../engine/runtime/sampler.js';
import { tinyConfig, writeRandomModel } from '../helpers.js';
import { argmax, denseLogits, type ExecutorKind, executorKinds, makeExecutor, maxAbsDiff, type Trace, trace } from './harness.js';

await initBackend();
const { kinds, missing } = await executorKinds();
const wasm = kinds[0];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'executors-'));
});
afterAll(() => rmSync(dir, { recursive: true }));

it('the webgpu executor is available in CI (lavapipe), never skipped there', () => {
  expect(missing).toBeNull();
});

const prompt = (m: LoadedModel, s: string) => m.tokenizer.encodePrompt(s);

/** Compares an executor's trace with the wasm executor's: same tokens, reads and retained sets; logits within tol. */
async function compareWithWasm(kind: ExecutorKind, m: LoadedModel, spec: PolicySpec, prompts: number[][], steps: number, tol: number): Promise<Trace> {
  const make = () => createPolicy(spec, m.config);
  const ref = await makeExecutor(wasm, m.params);
  const want = await trace(ref, make, prompts, steps);
  ref.dispose();
  // Resident device weights of earlier executors on m are freed first, and this one's after, so the count is exact.
  releaseDerived(m.params);
  const before = kind.live();
  const ex = await makeExecutor(kind, m.params);
  const got = await trace(ex, make, prompts, steps);
  ex.dispose();
  releaseDerived(m.params);
  expect(kind.live()).toBe(before);
  expect(maxAbsDiff(got.prefillLogits, want.prefillLogits)).toBeLessThan(tol);
  for (let s = 0; s < got.decodeLogits.length; s++) expect(maxAbsDiff(got.decodeLogits[s], want.decodeLogits[s])).toBeLessThan(tol);
  expect(got.tokens).toEqual(want.tokens);
  expect(got.reads).toEqual(want.reads);
  expect(got.retained).toEqual(want.retained);
  return got;
}

for (const kind of kinds) {
  describe(`${kind.name} executor`, () => {
    describe('shipped checkpoints', () => {
      const cases: { model: string; spec: PolicySpec; window: number | null }[] = [
        { model: 'reasoner-base', spec: { method: 'none', ratio: 1 }, window: null },
        { model: 'reasoner-dms-r8', spec: { method: 'dms', ratio: 8 }, window: 16 },
        { model: 'reasoner-dms-r2-neuron', spec: { method: 'dms', ratio: 2 }, window: 16 },
        { model: 'reasoner-dms-r4', spec: { method: 'dms', ratio: 4, window: 3 }, window: 3 },
        { model: 'reasoner-base', spec: { method: 'window', ratio: 4 }, window: null },
        { model: 'reasoner-dms-r4-w0', spec: { method: 'dms-w0', ratio: 4 }, window: 0 },
      ];
      for (const c of cases) {
        it(`${c.model} ${c.spec.method}${c.spec.window !== undefined ? ` w=${c.spec.window}` : ''}: logits vs dense (1e-4), then greedy tokens, reads and retained sets = wasm`, async () => {
          const m = loadModel(join('models', c.model));
          const p = prompt(m, 'Q:7a+3b*2c-4d+1e*3f-2g=a+7:7;b+3:');
          if (c.spec.method !== 'window') {
            const ex = await makeExecutor(kind, m.params);
            const seq = ex.addSequence(createPolicy(c.spec, m.config));
            const out = await ex.run(p.map((token, t) => ({ seq, token, position: t, wantLogits: true })));
            expect(maxAbsDiff(out.logits, denseLogits(m.params, p, c.window))).toBeLessThan(1e-4);
            ex.dispose();
          }
          const got = await compareWithWasm(kind, m, c.spec, [p, p.slice(0, 20)], 40, 1e-4);
          if (c.window !== null) expect(got.retained.some((r) => r.split(',').length < p.length + 40)).toBe(true);
          m.dispose();
        }, 300_000);
      }
    });

    if (kind.name === 'webgpu') {
      it('f16 weights (shader-f16, f32 accumulation) on reasoner-dms-r8: logits within 3e-2 of wasm f32; same tokens, reads, retained sets here', async () => {
        const m = loadModel('models/reasoner-dms-r8');
        const p = prompt(m, 'Q:7a+3b*2c-4d+1e*3f-2g=a+7:7;b+3:');
        const make = () => createPolicy({ method: 'dms', ratio: 8 }, m.config);
        const ref = await makeExecutor(wasm, m.params);
        const want = await trace(ref, make, [p], 40);
        ref.dispose();
        const ex = await makeExecutor(kind, m.params, 1 << 15, 8, 'f16');
        const got = await trace(ex, make, [p], 40);
        ex.dispose();
        expect(maxAbsDiff(got.prefillLogits, want.prefillLogits)).toBeLessThan(3e-2);
        for (let s = 0; s < got.decodeLogits.length; s++) expect(maxAbsDiff(got.decodeLogits[s], want.decodeLogits[s])).toBeLessThan(3e-2);
        expect(got.tokens).toEqual(want.tokens);
        expect(got.reads).toEqual(want.reads);
        expect(got.retained).toEqual(want.retained);
        m.dispose();
      });
    }

    describe('random-weight checkpoints', () => {
      const configs: { name: string; extra: Record<string, unknown>; spec: PolicySpec; dtype?: 'F16' | 'BF16' }[] = [
        {
          name: 'llama GQA 4/2, partial RoPE, untied, adapter w=3',
          extra: { partial_rotary_factor: 0.5, tie_word_embeddings: false, dms: { mode: 'adapter', window: 3, offset: -2 } },
          spec: { method: 'dms', ratio: 4 },
        },
        {
          name: 'qwen2 biases, GQA 6/2, neuron w=2',
          extra: { model_type: 'qwen2', hidden_size: 48, num_attention_heads: 6, partial_rotary_factor: 0.75, dms: { mode: 'neuron', window: 2 } },
          spec: { method: 'dms', ratio: 4 },
        },
        { name: 'qwen3 q/k norm, tied, head_dim 8, vanilla', extra: { model_type: 'qwen3', head_dim: 8 }, spec: { method: 'none', ratio: 1 } },
        {
          name: 'llama3 RoPE scaling, MHA, f16 checkpoint, window',
          extra: {
            num_key_value_heads: 4,
            rope_scaling: { rope_type: 'llama3', factor: 4, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
          },
          spec: { method: 'window', ratio: 3 },
          dtype: 'F16',
        },
        {
          name: 'qwen2 biases, GQA 4/2, bf16 checkpoint, adapter w=2',
          extra: { model_type: 'qwen2', tie_word_embeddings: false, dms: { mode: 'adapter', window: 2, offset: -1 } },
          spec: { method: 'dms', ratio: 4 },
          dtype: 'BF16',
        },
      ];
      configs.forEach((c, i) => {
        it(`${c.name}: same tokens, reads and retained sets as wasm; logits within 1e-3`, async () => {
          const path = join(dir, `${kind.name}-${i}`);
          writeRandomModel(path, tinyConfig(c.extra), 20 + i, 0.08, c.dtype);
          const stored = readSafetensors(readFileSync(join(path, 'model.safetensors')));
          expect(new Set([...stored.values()].map((t) => t.dtype))).toEqual(new Set([c.dtype ?? 'F32']));
          const m = loadModel(path);
          const prompts = [Array.from({ length: 23 }, (_, t) => (t === 0 ? 256 : (t * 11 + i * 7) % 256)), [256, 5, 9, 200]];
          await compareWithWasm(kind, m, c.spec, prompts, 24, 1e-3);
          m.dispose();
        });
      });
    });

    if (kind.name === 'webgpu') {
      it('K/V pools split across buffers (forced small per-buffer cap): rows span buffers; logits, tokens, reads, retained sets identical to one buffer', async () => {
        const m = loadModel('models/reasoner-base');
        const p = prompt(m, 'Q:7a+3b*2c-4d+1e*3f-2g=a+7:7;b+3:');
        const P = 8;
        const pageBytes = P * m.config.headDim * 4;
        const ppb = 48;
        // 180 pages: 4 buffers per pool (the last one partial); two sequences of ~70 tokens x 8 rows hold ~144 pages.
        const budget = 180 * P;
        const spans: number[] = [];
        for (const spec of [
          { method: 'none', ratio: 1 },
          { method: 'window', ratio: 4 },
        ] as PolicySpec[]) {
          const make = () => createPolicy(spec, m.config);
          const one = await makeExecutor(kind, m.params, budget, P);
          const want = await trace(one, make, [p, p.slice(0, 20)], 40);
          one.dispose();
          const split = (await makeExecutor(kind, m.params, budget, P, undefined, ppb * pageBytes)) as WebgpuExecutor;
          expect(split.numPoolBuffers).toBe(4);
          const got = await trace(split, make, [p, p.slice(0, 20)], 40, (seqs) => {
            for (const seq of seqs) for (const row of split.cache.rows(seq)) spans.push(new Set(row.pages.map((pg) => Math.floor(pg / ppb))).size);
          });
          split.dispose();
          expect(got.prefillLogits).toEqual(want.prefillLogits);
          expect(got.decodeLogits).toEqual(want.decodeLogits);
          expect(got.tokens).toEqual(want.tokens);
          expect(got.reads).toEqual(want.reads);
          expect(got.retained).toEqual(want.retained);
        }
        // Vanilla rows grow by a page every P decode steps, taking pages far from their prefill pages.
        expect(Math.max(...spans)).toBeGreaterThan(1);
        m.dispose();
      }, 300_000);

      it('a KV budget that needs more pool buffers than the adapter binds fails naming maxStorageBuffersPerShaderStage', async () => {
        const m = loadModel('models/reasoner-base');
        const pageBytes = 8 * m.config.headDim * 4;
        const perStage = (await gpuContext())!.limits.maxStorageBuffersPerShaderStage;
        await expect(makeExecutor(kind, m.params, 8 * perStage, 8, undefined, pageBytes)).rejects.toThrow(
          /maxStorageBuffersPerShaderStage is \d+: lower kvBudgetTokens/,
        );
        m.dispose();
      });

      it('weights stay resident: a second generate() on the same model uploads no weight bytes; dispose() frees them all', async () => {
        const ctx = (await gpuContext())!;
        const start = ctx.liveBuffers();
        const m = loadModel('models/reasoner-dms-r8');
        const create = ctx.createBuffer;
        let weightBytes = 0;
        let buffers = 0;
        ctx.createBuffer = (desc) => {
          if (desc.label === WEIGHT_LABEL) weightBytes += desc.size;
          buffers++;
          return create.call(ctx, desc);
        };
        try {
          const req: GenerateRequest[] = [{ id: 'a', prompt: 'Q:2a+5b=', maxTokens: 6, ignoreEos: true, compression: { method: 'dms', ratio: 8 } }];
          const first = await generate(m, req, { backend: kind.info, kvBudgetTokens: 1 << 12 });
          const uploaded = weightBytes;
          // The fused weights of the shipped model, f32: every matrix and the embedding at least once.
          expect(uploaded).toBeGreaterThanOrEqual(4 * m.params.embed.size);
          const resident = ctx.liveBuffers();
          const second = await generate(m, req, { backend: kind.info, kvBudgetTokens: 1 << 12 });
          expect(weightBytes).toBe(uploaded);
          expect(ctx.liveBuffers()).toBe(resident);
          expect(second[0].threads).toEqual(first[0].threads);
          expect(buffers).toBeGreaterThan(0);
        } finally {
          ctx.createBuffer = create;
        }
        m.dispose();
        expect(ctx.liveBuffers()).toBe(start);
      });
    }

    it('greedy rows return their argmax id only, sampled rows their logits (webgpu: readback of 4 bytes per greedy row)', async () => {
      const m = loadModel('models/reasoner-base');
      const V = m.config.vocabSize;
      const p = prompt(m, 'Q:3a+4b*2c=');
      const ex = await makeExecutor(kind, m.params);
      const seqs = [0, 1, 2].map(() => ex.addSequence(createPolicy({ method: 'none', ratio: 1 }, m.config)));
      for (const seq of seqs) await ex.run(p.map((token, t) => ({ seq, token, position: t, wantLogits: false })));
      // The same step twice on forks: once all logits, once greedy / sampled / greedy.
      const forks = seqs.map((seq) => ex.fork(seq));
      const full = await ex.run(seqs.map((seq, b) => ({ seq, token: 40 + b, position: p.length, wantLogits: true })));
      const bytesBefore = (ex as WebgpuExecutor).readbackBytes ?? 0;
      const mixed = await ex.run(forks.map((seq, b) => ({ seq, token: 40 + b, position: p.length, wantLogits: true, greedy: b !== 1 })));
      expect(full.ids).toEqual(Int32Array.from([-1, -1, -1]));
      // Real logits (a device step that did not run would leave zeros, whose argmax is 0 everywhere).
      expect(new Set(full.logits).size).toBeGreaterThan(V);
      expect(Array.from(mixed.ids)).toEqual([argmax(full.logits, 0, V), -1, argmax(full.logits, 2 * V, V)]);
      expect(mixed.logits).toEqual(full.logits.slice(V, 2 * V));
      if (kind.name === 'webgpu') {
        expect((ex as WebgpuExecutor).readbackBytes - bytesBefore).toBe(3 * 4 + V * 4);
        const before = (ex as WebgpuExecutor).readbackBytes;
        const next = await ex.run(forks.map((seq, b) => ({ seq, token: mixed.ids[0] + b, position: p.length + 1, wantLogits: true, greedy: true })));
        expect((ex as WebgpuExecutor).readbackBytes - before).toBe(3 * 4);
        expect(next.logits.length).toBe(0);
      }
      ex.dispose();
      m.dispose();
    });

    it('top-k / top-p rows: whatever comes back (candidates on webgpu, logits on wasm) draws what sampleToken draws on the full row', async () => {
      const m = loadModel('models/reasoner-base');
      const V = m.config.vocabSize;
      const p = prompt(m, 'Q:5a+2b*3c=');
      const ex = await makeExecutor(kind, m.params);
      const seq = ex.addSequence(createPolicy({ method: 'none', ratio: 1 }, m.config));
      await ex.run(p.map((token, t) => ({ seq, token, position: t, wantLogits: false })));
      const knobs: SamplingParams[] = [
        { temperature: 0.8, topK: 20, topP: 1 },
        { temperature: 1, topK: 0, topP: 0.9 },
        { temperature: 1.3, topK: 100, topP: 0.95 },
        { temperature: 0.9, topK: 0, topP: 1 },
      ];
      const full = knobs.map(() => ex.fork(seq));
      const sampled = knobs.map(() => ex.fork(seq));
      const want = await ex.run(full.map((s, b) => ({ seq: s, token: 50 + b, position: p.length, wantLogits: true })));
      const got = await ex.run(sampled.map((s, b) => ({ seq: s, token: 50 + b, position: p.length, wantLogits: true, sampling: knobs[b] })));
      let row = 0;
      for (const [b, k] of knobs.entries()) {
        const c = got.candidates?.[b];
        for (let s = 0; s < 50; s++) {
          const x = c ? sampleCandidates(c, k, new Rng(s)) : sampleToken(got.logits, row * V, V, k, new Rng(s));
          expect(x).toBe(sampleToken(want.logits, b * V, V, k, new Rng(s)));
        }
        if (!c) row++;
      }
      expect(got.logits.length).toBe(row * V);
      // webgpu: the top-k 20 row always comes back as candidates (top-p 0.9 when its nucleus is decided), top-k 100 > C
      // and pure temperature as logits; wasm: every row as logits.
      const asCandidates = knobs.map((_, b) => (got.candidates?.[b] ?? null) !== null);
      if (kind.name === 'webgpu') expect([asCandidates[0], asCandidates[2], asCandidates[3]]).toEqual([true, false, false]);
      else expect(asCandidates).toEqual([false, false, false, false]);
      ex.dispose();
      m.dispose();
    });

    it('greedy generate() (temperature 0) on the shipped DMS model: same tokens and accounting as wasm', async () => {
      const m = loadModel('models/reasoner-dms-r8');
      const reqs: GenerateRequest[] = [0, 1, 2, 3].map((k) => ({
        id: `g${k}`,
        prompt: `Q:${k + 3}a+${k + 2}b*3c-1=`,
        maxTokens: 48,
        temperature: 0,
        compression: { method: 'dms', ratio: 8 },
      }));
      const want = await generate(m, reqs, { backend: wasm.info, kvBudgetTokens: 1 << 13 });
      const got = await generate(m, reqs, { backend: kind.info, kvBudgetTokens: 1 << 13 });
      const strip = (rs: typeof got) => rs.map((r) => ({ id: r.id, answer: r.answer, threads: r.threads, usage: r.usage }));
      expect(strip(got)).toEqual(strip(want));
      expect(got.some((r) => r.usage.completionTokens > 10)).toBe(true);
      m.dispose();
    }, 300_000);

    describe('generate()', () => {
      const reqs = (method: string, ratio: number, firstMaxTokens = 40): GenerateRequest[] =>
        [0, 1, 2].map((k) => ({
          id: `q${k}`,
          prompt: `Q:${k + 2}a+${k + 5}b*2c-3=`,
          maxTokens: k === 0 ? firstMaxTokens : 40,
          ignoreEos: true,
          n: 3,
          temperature: 0.8,
          topP: 0.95,
          seed: 7 + k,
          compression: { method, ratio },
        }));
      it('n > 1 forks, preemption under a tight budget and recompute: results equal to wasm; no leak after the model is disposed', async () => {
        const start = kind.live();
        const m = loadModel('models/reasoner-dms-r8');
        const tensorsLoaded = tf.memory().numTensors;
        let afterFirst: number | null = null;
        for (const [method, ratio] of [
          ['dms', 8],
          ['none', 1],
        ] as const) {
          // 112 pages of 8 for 9 threads of ~55 tokens x 8 rows (~56 pages each): threads are preempted as they grow.
          const opts = { kvBudgetTokens: 8 * 8 * 14, pageSize: 8, maxBatch: 6 };
          const want = await generate(m, reqs(method, ratio), { ...opts, backend: wasm.info });
          const stats = {} as GenerateStats;
          const got = await generate(m, reqs(method, ratio), { ...opts, backend: kind.info, stats });
          // What stays between calls is the model's resident device weights (webgpu), nothing per job.
          afterFirst ??= kind.live();
          expect(kind.live()).toBe(afterFirst);
          expect(numDerived(m.params)).toBe(kind.name === 'webgpu' ? 1 : 0);
          expect(tf.memory().numTensors).toBe(tensorsLoaded);
          expect(stats.numPreemptions).toBeGreaterThan(0);
          const strip = (rs: typeof got) => rs.map((r) => ({ id: r.id, answer: r.answer, threads: r.threads, usage: r.usage }));
          expect(strip(got)).toEqual(strip(want));
          expect(got[0].backend).toBe(kind.info.backend);
          if (kind.name === 'webgpu') expect(got[0].adapter?.description).toBeTruthy();
        }
        m.dispose();
        expect(kind.live()).toBe(start);
      }, 300_000);

      it('cancellation rejects and frees everything', async () => {
        const m = loadModel('models/reasoner-dms-r8');
        await generate(m, reqs('dms', 8, 3).slice(0, 1), { backend: kind.info, kvBudgetTokens: 1 << 14 });
        const before = kind.live();
        const ac = new AbortController();
        const run = generate(m, reqs('dms', 8, 3), { backend: kind.info, signal: ac.signal, onResult: () => ac.abort(), kvBudgetTokens: 1 << 14 });
        await expect(run).rejects.toThrow(/abort/i);
        expect(kind.live()).toBe(before);
        m.dispose();
      }, 300_000);

      it('serves none, window, dms and dms-w0; refuses what it cannot with a message naming the method and backends', async () => {
        const start = kind.live();
        const m = loadModel('models/reasoner-dms-r4-w0');
        const refused = kind.name === 'webgpu' ? ['tova', 'h2o', 'quest'] : [];
        for (const method of refused) {
          const run = generate(m, [{ id: 'x', prompt: 'Q:1+2=', maxTokens: 4, compression: { method, ratio: 2 } }], {
            backend: kind.info,
            kvBudgetTokens: 1 << 12,
          });
          await expect(run).rejects.toThrow(new RegExp(`"${method}" is not served by the webgpu backend.*wasm`));
        }
        m.dispose();
        expect(kind.live()).toBe(start);
      });
    });
  });
}
