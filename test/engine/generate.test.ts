// generate(): golden greedy decoding against the dense forward, seeds, threads and vote, stop rules,
// exact accounting for the vanilla policy, preemption under a tight budget, abort, and no tensor leaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../engine/backend.js';
import { generate, type GenerateRequest } from '../../engine/index.js';
import type { PagedCache } from '../../engine/kv/paged-cache.js';
import { forwardDense, hardDmsBias } from '../../engine/model/llama.js';
import { buildByteLevelTokenizerConfig, buildByteLevelTokenizerJson } from '../../engine/model/tokenizer.js';
import { disposeParams, loadModel, saveModel, type LoadedModel, type LlamaParams } from '../../engine/model/weights.js';
import { randomParams, tinyConfig } from './helpers.js';

let dir: string;
let model: LoadedModel;
let dmsModel: LoadedModel;

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'gen-'));
  const write = (name: string, params: LlamaParams) => {
    saveModel(join(dir, name), params, { tokenizerJson: buildByteLevelTokenizerJson(), tokenizerConfig: buildByteLevelTokenizerConfig() });
    disposeParams(params);
    return loadModel(join(dir, name));
  };
  model = write('vanilla', randomParams(tinyConfig({ model_type: 'qwen3', head_dim: 8, partial_rotary_factor: 0.5 }), 11));
  dmsModel = write('dms', randomParams(tinyConfig({ dms: { mode: 'adapter', window: 2, offset: -2 } }), 12, 0.08));
});

afterAll(() => {
  model.dispose();
  dmsModel.dispose();
  rmSync(dir, { recursive: true });
});

/** Reference greedy decoding: the full dense forward re-run at every step (the readable model, no cache). */
function denseGreedy(m: LoadedModel, prompt: string, maxTokens: number, window?: number): number[] {
  const ids = m.tokenizer.encodePrompt(prompt);
  const out: number[] = [];
  for (let i = 0; i < maxTokens; i++) {
    const next = tf.tidy(() => {
      const { logits } = forwardDense(
        m.params,
        tf.tensor2d([ids], [1, ids.length], 'int32'),
        window === undefined ? {} : { attnBias: (_l, lg) => hardDmsBias(lg, window) },
      );
      return tf.argMax(logits.slice([0, ids.length - 1, 0], [1, 1, m.config.vocabSize]).reshape([-1])).dataSync()[0];
    });
    out.push(next);
    if (next === 257) break;
    ids.push(next);
  }
  return out;
}

/** generate() options that check the page pool and cache invariants after every scheduler step, counting the steps. */
function integrityChecked(): { afterStep: (cache: PagedCache) => void; steps: () => number } {
  let steps = 0;
  return {
    afterStep: (cache) => {
      cache.checkIntegrity();
      steps++;
    },
    steps: () => steps,
  };
}

const req = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({ id: 'r', prompt: 'Q:3+4=', maxTokens: 12, ...over });

describe('generate', () => {
  it('temperature 0 matches the dense forward token for token (vanilla and DMS), no tensor leak', async () => {
    const before = tf.memory().numTensors;
    const [a] = await generate(model, [req()]);
    expect(tf.memory().numTensors).toBe(before);
    const want = model.tokenizer.decode(denseGreedy(model, 'Q:3+4=', 12));
    expect(a.threads[0].text).toBe(want);
    expect(a.threads[0].completionTokens).toBe(12);
    expect(a.threads[0].finishReason).toBe('length');
    const [d] = await generate(dmsModel, [req({ compression: { method: 'dms', ratio: 8 }, maxTokens: 20 })]);
    expect(d.threads[0].text).toBe(dmsModel.tokenizer.decode(denseGreedy(dmsModel, 'Q:3+4=', 20, 2)));
    expect(d.usage.achievedRatio).toBeGreaterThan(1.2);
    expect(['wasm', 'cpu', 'tensorflow']).toContain(d.backend);
  });

  it('accounts vanilla reads, peak and ratio exactly', async () => {
    const [r] = await generate(model, [req({ maxTokens: 5, n: 2, temperature: 1, seed: 3 })]);
    const P = model.tokenizer.encodePrompt('Q:3+4=').length; // 7
    const rows = model.config.numLayers * model.config.numKvHeads;
    expect(r.usage.promptTokens).toBe(P);
    expect(r.usage.completionTokens).toBe(10);
    // Decode steps feed tokens at positions P..P+3 in each thread; each reads every token so far.
    const perThread = [P + 1, P + 2, P + 3, P + 4].reduce((a, b) => a + b, 0) * rows;
    expect(r.usage.kvTokenReads).toBe(2 * perThread);
    expect(r.usage.kvTokenReadsPerHead).toBe((2 * perThread) / rows);
    expect(r.usage.prefillKvTokenReads).toBe(((P * (P + 1)) / 2) * rows);
    expect(r.usage.peakKvTokens).toBe(2 * (P + 4) * rows);
    expect(r.usage.peakKvBytes).toBe(r.usage.peakKvTokens * 2 * model.config.headDim * 4);
    expect(r.usage.achievedRatio).toBe(1);
    expect(r.timings.ttftMs).toBeGreaterThan(0);
    expect(r.timings.totalMs).toBeGreaterThanOrEqual(r.timings.ttftMs);
  });

  it('same seed same output; other seeds differ; threads vote', async () => {
    const base = req({ temperature: 1.5, topK: 50, topP: 0.95, n: 4, seed: 7, maxTokens: 16 });
    const checked = integrityChecked();
    const [a] = await generate(model, [base], { afterStep: checked.afterStep });
    expect(checked.steps()).toBeGreaterThanOrEqual(Math.max(...a.threads.map((t) => t.completionTokens)) - 1); // a step per token after the first
    const [b] = await generate(model, [base]);
    const [c] = await generate(model, [{ ...base, seed: 8 }]);
    expect(b.threads.map((t) => t.text)).toEqual(a.threads.map((t) => t.text));
    expect(c.threads.map((t) => t.text)).not.toEqual(a.threads.map((t) => t.text));
    expect(new Set(a.threads.map((t) => t.text)).size).toBeGreaterThan(1);
    // A pattern that captures the first char of each thread: the vote is the most frequent one.
    const [v] = await generate(model, [{ ...base, answerPattern: '^([\\s\\S])' }]);
    const counts = new Map<string, number>();
    for (const t of v.threads) counts.set(t.answer!, (counts.get(t.answer!) ?? 0) + 1);
    expect(counts.get(v.answer!)).toBe(Math.max(...counts.values()));
  });

  it('stop strings cut the text; results arrive by callback and in order', async () => {
    const [free] = await generate(model, [req({ maxTokens: 30 })]);
    const stop = free.threads[0].text.slice(3, 5);
    const seen: string[] = [];
    const res = await generate(model, [req({ id: 'a', maxTokens: 30, stop: [stop] }), req({ id: 'b', maxTokens: 2 })], { onResult: (r) => seen.push(r.id) });
    expect(res.map((r) => r.id)).toEqual(['a', 'b']);
    expect(seen.sort()).toEqual(['a', 'b']);
    expect(res[0].threads[0].finishReason).toBe('stop');
    expect(res[0].threads[0].text).toBe(free.threads[0].text.slice(0, free.threads[0].text.indexOf(stop)));
  });

  it('a tight KV budget preempts and recomputes without changing greedy outputs', async () => {
    const reqs = Array.from({ length: 6 }, (_, i) => req({ id: `q${i}`, prompt: `Q:${i}*7+${i}=`, maxTokens: 40, n: 2 }));
    const big = await generate(model, reqs);
    const stats = { maxBatch: 0, meanBatch: 0, numPreemptions: 0 };
    const checked = integrityChecked();
    const small = await generate(model, reqs, { kvBudgetTokens: 4 * 16 * 14, pageSize: 16, stats, afterStep: checked.afterStep });
    expect(stats.numPreemptions).toBeGreaterThan(0);
    expect(checked.steps()).toBeGreaterThanOrEqual(40);
    expect(stats.meanBatch).toBeGreaterThan(1);
    expect(small.map((r) => r.threads.map((t) => t.text))).toEqual(big.map((r) => r.threads.map((t) => t.text)));
    // The small budget cannot hold all 12 threads at once: the peak per request stays within it.
    for (const r of small) expect(r.usage.peakKvTokens).toBeLessThanOrEqual(4 * 16 * 14);
    await expect(generate(model, [req({ prompt: 'x'.repeat(200) })], { kvBudgetTokens: 4 * 16 * 4 })).rejects.toThrow(/does not fit the KV budget/);
  });

  it('abort rejects and frees everything', async () => {
    const ac = new AbortController();
    const before = tf.memory().numTensors;
    const p = generate(model, [req({ maxTokens: 400 })], { signal: ac.signal });
    // Abort a few event-loop turns in (the engine yields one per step; 400 tokens take 400 steps), not after a wall-clock delay.
    const abortAfter = (turns: number): void => {
      if (turns === 0) ac.abort();
      else setImmediate(() => abortAfter(turns - 1));
    };
    abortAfter(3);
    await expect(p).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });
});
