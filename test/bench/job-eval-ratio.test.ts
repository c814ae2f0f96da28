// One achieved_ratio everywhere (dms.md section 6, token-weighted): the same engine outputs scored by
// the eval and written back as a job's results give the job usage the eval's ratio and accuracy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EvalConfig, outcome, summarize, toRequests } from '../../bench/eval-suite.js';
import { generate, initBackend, type LoadedModel, loadModel } from '../../engine/index.js';
import { toResultWrite } from '../../gpu-runner/engine-executor.js';
import { problemSet } from '../../tasks/index.js';
import { tinyConfig, writeRandomModel } from '../engine/helpers.js';
import { type Harness, makeHarness } from '../gateway/harness.js';

let dir: string;
let model: LoadedModel;
let h: Harness;

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'job-eval-'));
  writeRandomModel(dir, tinyConfig({ max_position_embeddings: 256, dms: { mode: 'adapter', window: 2, offset: -2, ratio: 4 } }), 4, 0.08);
  model = loadModel(dir);
  h = await makeHarness();
});

afterAll(() => {
  model.dispose();
  h.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('achieved_ratio: job usage = eval', () => {
  it('gives a job the eval figure (ratio, accuracy, method, ratio asked, window) for identical outputs', async () => {
    const problems = problemSet(0, 8);
    const cfg: EvalConfig = { method: 'dms', ratio: 4, n: 2, maxTokens: 48, temperature: 0.8, seed: 3 };
    const requests = toRequests(model, problems, cfg);
    const outputs = await generate(model, requests);
    const first = outputs[0].compression;
    const summary = summarize(
      outputs.map((r, i) => outcome(problems[i], r)),
      1,
      undefined,
      null,
      { method: first.method, requested_ratio: cfg.ratio, window: first.window },
    );
    // Uneven lengths make the token-weighted ratio differ from a plain mean over requests (what the job used to say).
    const plain = outputs.reduce((s, r) => s + r.usage.achievedRatio, 0) / outputs.length;
    expect(summary.achieved_ratio).toBeGreaterThan(1);
    expect(Math.abs(summary.achieved_ratio - plain)).toBeGreaterThan(1e-3);

    const sub = await h.submit({
      requests: problems.map((p, i) => ({
        custom_id: requests[i].id,
        prompt: p.prompt,
        expected_answer: p.answer,
        params: { max_tokens: requests[i].maxTokens, n: 2, compression: { method: 'dms', ratio: 4 } },
      })),
    });
    expect(sub.status).toBe(201);
    const claim = await h.runner('/claim', { runner_id: 'eval' });
    const lease = claim.body.lease.lease_token;
    const results = outputs.map((r, i) => toResultWrite(requests[i].id, r));
    expect((await h.runner(`/jobs/${sub.body.id}/results`, { lease_token: lease, results })).status).toBe(200);
    expect((await h.runner(`/jobs/${sub.body.id}/complete`, { lease_token: lease })).status).toBe(200);
    const usage = (await h.getJob(sub.body.id)).body.usage;
    expect(usage.achieved_ratio).toBeCloseTo(summary.achieved_ratio, 9);
    expect(usage.accuracy).toBe(summary.accuracy);
    expect(usage.num_correct).toBe(summary.correct);
    expect(usage).toMatchObject({ method: summary.method, requested_ratio: summary.requested_ratio, window: summary.window, by_compression: null });
    expect(summary).toMatchObject({ method: 'dms', requested_ratio: 4, window: 2 });
  });
});
