// The evaluation harness: scoring and aggregation are exact, and a real (tiny, random) checkpoint
// runs through it with every field of the summary filled from the engine's accounting.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate, type ProblemOutcome, summarize } from '../../bench/eval-suite.js';
import { windowBoundRatio } from '../../bench/window-bound.js';
import { initBackend, loadModel } from '../../engine/index.js';
import { problemSet } from '../../tasks/index.js';
import { tinyConfig, writeRandomModel } from '../engine/helpers.js';

const outcome = (correct: boolean, tokens: number, ratio: number, retained: number): ProblemOutcome => ({
  seed: 0,
  family: 'chain',
  difficulty: 1,
  expected: '1',
  answer: correct ? '1' : '2',
  correct,
  completionTokens: tokens,
  kvTokenReads: tokens * 10,
  peakKvTokens: tokens * 2,
  achievedRatio: ratio,
  kvTokensRetained: retained,
  promptTokens: 20,
  threadTokens: [tokens],
});

describe('eval suite', () => {
  it('aggregates accuracy, token-weighted ratio and per-problem means', () => {
    const s = summarize([outcome(true, 10, 2, 90), outcome(false, 30, 4, 30)], 2);
    expect(s.accuracy).toBe(0.5);
    // dms.md section 6: tokens seen (ratio x retained: 180 + 120) over tokens retained (90 + 30), not a plain or per-token mean.
    expect(s.achieved_ratio).toBeCloseTo(300 / 120, 10);
    expect(s).toMatchObject({ method: 'none', requested_ratio: 1, window: null });
    expect(s.kv_reads_per_problem).toBe(200);
    expect(s.peak_kv_tokens_per_problem).toBe(40);
    expect(s.tokens_per_s).toBe(20);
    expect(s.window_bound_ratio).toBeUndefined();
    const dms = summarize([outcome(true, 10, 2, 90), outcome(false, 30, 4, 30)], 2, undefined, { ratio: 4, window: 16 });
    expect(dms.window_bound_ratio).toBeCloseTo(
      windowBoundRatio(
        [
          { promptTokens: 20, completionTokens: [10] },
          { promptTokens: 20, completionTokens: [30] },
        ],
        4,
        16,
      ),
      12,
    );
  });

  it('runs problems through a checkpoint with a training-free policy and majority vote', async () => {
    await initBackend();
    const dir = mkdtempSync(join(tmpdir(), 'eval-'));
    try {
      writeRandomModel(dir, tinyConfig({ max_position_embeddings: 160 }), 5);
      const model = loadModel(dir);
      const problems = problemSet(0, 4);
      let progress = 0;
      const { summary, outcomes } = await evaluate(
        model,
        problems,
        { method: 'h2o', ratio: 2, n: 3, maxTokens: 40, temperature: 0.8, seed: 1 },
        () => progress++,
      );
      model.dispose();
      expect(progress).toBe(4);
      expect(outcomes.map((o) => o.expected)).toEqual(problems.map((p) => p.answer));
      expect(summary.problems).toBe(4);
      expect(summary.completion_tokens_per_problem).toBeGreaterThan(3); // 3 threads each
      expect(summary.kv_reads_per_problem).toBeGreaterThan(0);
      expect(summary.peak_kv_tokens_per_problem).toBeGreaterThan(0);
      expect(summary).toMatchObject({ method: 'h2o', requested_ratio: 2, window: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
