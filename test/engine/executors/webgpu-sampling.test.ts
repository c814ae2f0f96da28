// Top-k / top-p rows on the webgpu executor read back their top candidates: the tokens drawn from them
// equal sampleToken on the same step's full logits for every seed and knob mix; rows the candidates
// cannot decide come back as logits (and say so); fewer bytes come back; no GPU buffer leaks.
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../../engine/backend.js';
import { createExecutor } from '../../../engine/executors/create-executor.js';
import { gpuContext } from '../../../engine/executors/webgpu/gpu-context.js';
import { WebgpuExecutor } from '../../../engine/executors/webgpu/webgpu-executor.js';
import { type GenerateRequest, generate } from '../../../engine/index.js';
import { releaseDerived } from '../../../engine/model/derived-resources.js';
import { loadModel } from '../../../engine/model/weights.js';
import { createPolicy } from '../../../engine/policies/registry.js';
import { sampleCandidates } from '../../../engine/runtime/candidate-sampler.js';
import { Rng, type SamplingParams, sampleToken } from '../../../engine/runtime/sampler.js';

await initBackend();
const ctx = await gpuContext();

/** The exact top-p nucleus size sampleToken finds on a row (top-k off), to know which rows must fall back. */
function exactNucleus(row: Float32Array, p: SamplingParams): number {
  const ids = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b);
  const probs = ids.map((v) => Math.exp((row[v] - row[ids[0]]) / p.temperature));
  const sum = probs.reduce((a, b) => a + b, 0);
  let acc = 0;
  for (let i = 0; i < probs.length; i++) {
    acc += probs[i] / sum;
    if (acc >= p.topP) return i + 1;
  }
  return probs.length;
}

const topOf = (row: Float32Array, c: number) =>
  Array.from(row.keys())
    .sort((a, b) => row[b] - row[a] || a - b)
    .slice(0, c);

describe.skipIf(!ctx)('webgpu sampling from top candidates', () => {
  const knobs: { p: SamplingParams; how: 'candidates' | 'logits' | 'either' | 'id' }[] = [
    { p: { temperature: 0.8, topK: 10, topP: 1 }, how: 'candidates' },
    { p: { temperature: 1.2, topK: 16, topP: 0.9 }, how: 'candidates' },
    { p: { temperature: 0.7, topK: 0, topP: 0.95 }, how: 'either' },
    { p: { temperature: 1, topK: 0, topP: 0.5 }, how: 'either' },
    { p: { temperature: 4, topK: 0, topP: 0.995 }, how: 'either' }, // a wide nucleus: past 16 candidates
    { p: { temperature: 1, topK: 300, topP: 0.9 }, how: 'either' }, // top-k >= V is off
    { p: { temperature: 0.05, topK: 0, topP: 0.9 }, how: 'either' },
    { p: { temperature: 1, topK: 100, topP: 1 }, how: 'logits' }, // top-k > C
    { p: { temperature: 0.9, topK: 0, topP: 1 }, how: 'logits' }, // pure temperature
    { p: { temperature: 0, topK: 5, topP: 0.9 }, how: 'id' },
  ];

  for (const C of [16, 64]) {
    it(`C=${C}: every row's draw equals sampleToken on the full logits (100 seeds); fallbacks counted; fewer bytes; no leak`, async () => {
      const m = loadModel('models/reasoner-base');
      const V = m.config.vocabSize;
      const live = ctx!.liveBuffers();
      const ex = (await createExecutor({ backend: 'webgpu', adapter: ctx!.adapter }, m.params, {
        pool: { pageSize: 8, headDim: m.config.headDim, budgetTokens: 1 << 14 },
        trackKeyBounds: false,
        weights: 'f32',
        numCandidates: C,
      })) as WebgpuExecutor;
      const prompt = m.tokenizer.encodePrompt('Q:3a+4b*2c=');
      const base = ex.addSequence(createPolicy({ method: 'none', ratio: 1 }, m.config));
      await ex.run(prompt.map((token, t) => ({ seq: base, token, position: t, wantLogits: false })));
      const full = knobs.map(() => ex.fork(base));
      const sampled = knobs.map(() => ex.fork(base));
      const token = (b: number) => 40 + 3 * b;
      const want = await ex.run(full.map((seq, b) => ({ seq, token: token(b), position: prompt.length, wantLogits: true })));
      expect(new Set(want.logits).size).toBeGreaterThan(V); // real logits, not a pass that did not run
      const before = { bytes: ex.readbackBytes, cand: ex.numCandidateRows, full: ex.numFullRows, undecided: ex.numUndecidedRows };
      const got = await ex.run(
        sampled.map((seq, b) => ({
          seq,
          token: token(b),
          position: prompt.length,
          wantLogits: true,
          greedy: knobs[b].p.temperature === 0,
          sampling: knobs[b].p,
        })),
      );
      const cand = got.candidates!;
      let row = 0;
      let undecided = 0;
      for (const [b, { p, how }] of knobs.entries()) {
        const ref = want.logits.subarray(b * V, (b + 1) * V);
        if (how === 'id') expect(got.ids[b]).toBe(sampleToken(ref, 0, V, p, new Rng(0)));
        else if (how === 'candidates') expect(cand[b]).not.toBeNull();
        else if (how === 'logits') expect(cand[b]).toBeNull();
        if (cand[b]) {
          expect(Array.from(cand[b]!.ids)).toEqual(topOf(ref, C));
          expect(Array.from(cand[b]!.logits)).toEqual(Array.from(cand[b]!.ids, (v) => ref[v]));
          for (let s = 0; s < 100; s++) expect(sampleCandidates(cand[b]!, p, new Rng(s)), `row ${b} seed ${s}`).toBe(sampleToken(ref, 0, V, p, new Rng(s)));
        } else if (how !== 'id') {
          // A row read as logits: exactly the full step's row.
          expect(got.logits.subarray(row * V, (row + 1) * V)).toEqual(ref);
          for (let s = 0; s < 100; s++) expect(sampleToken(got.logits, row * V, V, p, new Rng(s))).toBe(sampleToken(ref, 0, V, p, new Rng(s)));
          if (how === 'either') undecided++;
          row++;
        }
        // A nucleus wider than C can never be decided by C candidates.
        if (p.topK === 0 && p.topP < 1 && p.temperature > 0 && exactNucleus(ref, p) > C) expect(cand[b]).toBeNull();
      }
      expect(got.logits.length).toBe(row * V);
      const numCand = cand.filter((c) => c !== null).length;
      expect(ex.numCandidateRows - before.cand).toBe(numCand);
      expect(ex.numFullRows - before.full).toBe(2);
      expect(ex.numUndecidedRows - before.undecided).toBe(undecided);
      if (C === 16) expect(undecided).toBeGreaterThan(0);
      expect(numCand).toBeGreaterThanOrEqual(4);
      // Bytes: one id per wanted row (a greedy row is there), 2C + 2 words per candidate row, V floats per other sampled row (undecided rows: both).
      const bytes = ex.readbackBytes - before.bytes;
      expect(bytes).toBe(4 * (knobs.length + (numCand + undecided) * (2 * C + 2) + row * V));
      console.log(
        `webgpu sampling C=${C}: ${knobs.length} rows of V=${V}: ${bytes} bytes read back (${numCand} candidate rows, ${row - undecided} full, ${undecided} undecided re-read) against ${knobs.length * V * 4} for all logits`,
      );
      ex.dispose();
      releaseDerived(m.params);
      expect(ctx!.liveBuffers()).toBe(live);
      m.dispose();
    }, 300_000);
  }

  it('generate() with top-k / top-p / temperature mixes: the same threads and accounting as wasm; no leak', async () => {
    const m = loadModel('models/reasoner-dms-r8');
    const live = ctx!.liveBuffers();
    const knobsOf = (k: number) =>
      [{ temperature: 0.8, topK: 20 }, { temperature: 1, topP: 0.9 }, { temperature: 1.5, topK: 100, topP: 0.95 }, { temperature: 0.7 }][k];
    const reqs: GenerateRequest[] = [0, 1, 2, 3].map((k) => ({
      id: `s${k}`,
      prompt: `Q:${k + 2}a+${k + 4}b*3c=`,
      maxTokens: 24,
      ignoreEos: true,
      n: 2,
      seed: 11 + k,
      ...knobsOf(k),
      compression: { method: 'dms', ratio: 8 },
    }));
    const want = await generate(m, reqs, { backend: { backend: 'wasm' }, kvBudgetTokens: 1 << 13 });
    // What the run's executor did, taken as generate() disposes it.
    const dispose = WebgpuExecutor.prototype.dispose;
    let seen = { candidates: 0, full: 0, undecided: 0, bytes: 0 };
    WebgpuExecutor.prototype.dispose = function (this: WebgpuExecutor) {
      seen = { candidates: this.numCandidateRows, full: this.numFullRows, undecided: this.numUndecidedRows, bytes: this.readbackBytes };
      dispose.call(this);
    };
    let got: Awaited<ReturnType<typeof generate>>;
    try {
      got = await generate(m, reqs, { backend: { backend: 'webgpu', adapter: ctx!.adapter }, kvBudgetTokens: 1 << 13 });
    } finally {
      WebgpuExecutor.prototype.dispose = dispose;
    }
    console.log(`webgpu generate(): ${JSON.stringify(seen)}`);
    // Requests 0 and 1 draw from candidates; 2 (top-k 100 > 64) and 3 (pure temperature) read their logits.
    expect(seen.candidates).toBeGreaterThan(0);
    expect(seen.full).toBeGreaterThan(0);
    const strip = (rs: typeof got) => rs.map((r) => ({ id: r.id, answer: r.answer, threads: r.threads, usage: r.usage }));
    expect(strip(got)).toEqual(strip(want));
    m.dispose();
    expect(ctx!.liveBuffers()).toBe(live);
  }, 600_000);
});
