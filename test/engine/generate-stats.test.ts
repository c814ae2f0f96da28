// generate()'s stats out-param: the largest batch decoded together is bounded by maxBatch and by the
// KV budget, and a compressing policy fits more threads into the same budget than the full cache.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, initBackend, type GenerateRequest, type GenerateStats } from '../../engine/index.js';
import { loadModel, type LoadedModel } from '../../engine/model/weights.js';
import { tinyConfig, writeRandomModel } from './helpers.js';

let dir: string;
let model: LoadedModel;

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'gen-stats-'));
  writeRandomModel(dir, tinyConfig(), 21);
  model = loadModel(dir);
});

afterAll(() => {
  model.dispose();
  rmSync(dir, { recursive: true });
});

/** count requests of 3 threads each, 64 tokens per thread (eos ignored so every run is the same length). */
const reqs = (count: number, method = 'none', ratio = 1): GenerateRequest[] =>
  Array.from({ length: count }, (_, i) => ({
    id: String(i),
    prompt: `Q:${i}+1=`,
    maxTokens: 64,
    n: 3,
    temperature: 0.8,
    seed: i,
    ignoreEos: true,
    compression: { method, ratio },
  }));

async function run(requests: GenerateRequest[], opts: { maxBatch?: number; kvBudgetTokens?: number }): Promise<GenerateStats> {
  const stats: GenerateStats = { maxBatch: -1, meanBatch: -1, numPreemptions: -1 };
  const out = await generate(model, requests, { ...opts, stats });
  expect(out.every((r) => r.threads.every((t) => t.completionTokens === 64))).toBe(true);
  return stats;
}

describe('generate stats', () => {
  it('reports the largest batch: every thread with room, the cap when maxBatch binds', async () => {
    const all = await run(reqs(4), { maxBatch: 64 });
    expect(all.maxBatch).toBe(12);
    expect(all.numPreemptions).toBe(0);
    expect(all.meanBatch).toBeGreaterThan(11); // all 12 decode together (the last step may be shorter)
    expect(all.meanBatch).toBeLessThanOrEqual(12);
    const capped = await run(reqs(4), { maxBatch: 5 });
    expect(capped.maxBatch).toBe(5);
    expect(capped.meanBatch).toBeLessThanOrEqual(5);
  });

  it('a tight KV budget bounds the batch, and window r4 fits more threads than the full cache', async () => {
    // 2 layers x 2 KV heads = 4 rows; a full 70-token thread holds 5 pages of 16 per row (20 pages),
    // window r4 keeps max(16, ceil(70 / 4)) = 18 tokens, 2 pages per row (8 pages). 2000 tokens = 125 pages.
    const budget = 2000;
    const full = await run(reqs(4), { maxBatch: 64, kvBudgetTokens: budget });
    const win = await run(reqs(4, 'window', 4), { maxBatch: 64, kvBudgetTokens: budget });
    expect(full.numPreemptions).toBeGreaterThan(0);
    expect(full.meanBatch).toBeLessThan(10);
    expect(win.numPreemptions).toBe(0);
    expect(win.maxBatch).toBe(12);
    expect(win.meanBatch).toBeGreaterThan(full.meanBatch + 2);
  });
});
