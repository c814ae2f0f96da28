// Every baseline end to end through generate(): scheduler, prefill once + fork into threads, sampler and
// accounting; budgeted methods reach their ratio, Quest saves reads but not memory, no tensor leaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../../engine/backend.js';
import { generate, type GenerateResult } from '../../../engine/index.js';
import { buildByteLevelTokenizerConfig, buildByteLevelTokenizerJson } from '../../../engine/model/tokenizer.js';
import { disposeParams, loadModel, saveModel, type LoadedModel } from '../../../engine/model/weights.js';
import { randomParams, tinyConfig } from '../helpers.js';

let dir: string;
let model: LoadedModel;

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'policies-'));
  const params = randomParams(tinyConfig({ dms: { mode: 'adapter', window: 4, offset: -1 } }), 21, 0.08);
  saveModel(join(dir, 'm'), params, { tokenizerJson: buildByteLevelTokenizerJson(), tokenizerConfig: buildByteLevelTokenizerConfig() });
  disposeParams(params);
  model = loadModel(join(dir, 'm'));
});

afterAll(() => {
  model.dispose();
  rmSync(dir, { recursive: true });
});

let checkedSteps = 0;
/** One request of two threads (prefill once, fork), the page pool's invariants checked after every scheduler step. */
const run = async (method: string, ratio: number): Promise<GenerateResult> => {
  const [res] = await generate(model, [{ id: method, prompt: 'Q:3+4*2=', maxTokens: 150, n: 2, temperature: 1, seed: 7, compression: { method, ratio } }], {
    afterStep: (cache) => {
      cache.checkIntegrity();
      checkedSteps++;
    },
  });
  return res;
};

/** Per-head decode reads had every thread read its whole history (a lower estimate: c - 1 decode steps per thread). */
function fullReads(r: GenerateResult): number {
  const P = r.usage.promptTokens;
  let sum = 0;
  for (const t of r.threads) for (let j = 0; j < t.completionTokens - 1; j++) sum += P + j + 1;
  return sum;
}

describe('baselines through generate()', () => {
  it('each method runs with threads; budgeted ones hold the ratio, quest holds everything but reads less', async () => {
    const before = tf.memory().numTensors;
    const none = await run('none', 1); // temperature 1: threads diverge, and methods sample different texts
    const out: Record<string, GenerateResult> = {};
    for (const m of ['window', 'tova', 'h2o', 'quest', 'dms-w0']) out[m] = await run(m, 4);
    expect(tf.memory().numTensors).toBe(before);
    for (const [m, r] of Object.entries(out)) {
      expect(r.threads).toHaveLength(2);
      expect(r.threads.every((t) => t.completionTokens >= 1)).toBe(true);
      if (m === 'window' || m === 'tova' || m === 'h2o') {
        // About 160 tokens per thread: budget max(16, ceil(t / 4)) = 40 at the end, time-averaged ratio near 3.
        expect(r.usage.achievedRatio).toBeGreaterThan(2.5);
        expect(r.usage.peakKvTokensPerHead).toBeLessThanOrEqual(2 * 41); // two threads, budget + the newcomer
        expect(r.usage.kvTokenReadsPerHead).toBeLessThan(0.5 * fullReads(r));
      }
    }
    expect(none.usage.achievedRatio).toBeCloseTo(1, 6);
    expect(out.quest.usage.achievedRatio).toBeCloseTo(1, 6);
    const longest = Math.max(...out.quest.threads.map((t) => t.completionTokens));
    expect(out.quest.usage.peakKvTokensPerHead).toBeGreaterThanOrEqual(out.quest.usage.promptTokens + longest - 1);
    expect(out.quest.usage.kvTokenReadsPerHead).toBeLessThan(0.8 * fullReads(out.quest));
    expect(out['dms-w0'].usage.achievedRatio).toBeGreaterThan(1);
    expect(checkedSteps).toBeGreaterThanOrEqual(6 * 2); // at least prefill and one decode step per method
  });
});
