// The engine executor end to end: a job submitted through the API runs on tiny random-weight
// checkpoints written in the real format, with the policy each request asks for, and its accounting.
import * as tf from '@tensorflow/tfjs';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelCatalog } from '../../gateway/model-catalog.js';
import { EngineExecutor } from '../../gpu-runner/engine-executor.js';
import { LocalStoreSource } from '../../gpu-runner/local-store-source.js';
import { ModelRegistry } from '../../gpu-runner/model-registry.js';
import { RunnerLoop } from '../../gpu-runner/runner-loop.js';
import { makeHarness } from '../gateway/harness.js';
import { writeTinyModels } from '../runner-processes/tiny-models.js';

let dir: string;
const quiet = { log: () => {}, heartbeatMs: 50, pollMinMs: 5, pollMaxMs: 20 };

beforeAll(async () => {
  dir = await writeTinyModels();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runJob(requests: unknown[]) {
  const catalog = await loadModelCatalog(dir);
  const h = await makeHarness({ catalog });
  const submitted = await h.submit({ model: 'tiny', requests });
  expect(submitted.status).toBe(201);
  const registry = new ModelRegistry(dir);
  const executor = await EngineExecutor.create(registry);
  const loop = new RunnerLoop(new LocalStoreSource(h.store), executor, { runnerId: 'engine-test', ...quiet });
  return { h, jobId: submitted.body.id as string, loop, executor };
}

describe('engine executor', () => {
  it('runs each request on the checkpoint and policy it asks for, with accounting and cost', async () => {
    const before = tf.memory().numTensors;
    const { h, jobId, loop, executor } = await runJob([
      { custom_id: 'vanilla', prompt: 'C1:a3b7=', params: { max_tokens: 10, temperature: 0.9, seed: 7, n: 3 } },
      { custom_id: 'dms', prompt: 'C1:a3b7=', params: { max_tokens: 10, temperature: 0, compression: { method: 'dms', ratio: 4 } } },
      { custom_id: 'tova', prompt: 'C1:a3b7c1d4e5f6g7h8=', params: { max_tokens: 40, temperature: 0, compression: { method: 'tova', ratio: 2 } } },
    ]);
    expect(await loop.runOnce()).toBe('completed');
    const { lines } = await h.results(jobId);
    const byId = Object.fromEntries(lines.map((l) => [l.custom_id, l]));
    for (const id of ['vanilla', 'dms', 'tova']) {
      const r = byId[id];
      expect(r.status).toBe('succeeded');
      expect(r.backend).toBe(executor.backend);
      expect(r.usage.prompt_tokens).toBeGreaterThan(5);
      expect(r.usage.kv_token_reads).toBeGreaterThan(0);
      expect(r.usage.runner_seconds).toBeGreaterThan(0);
      expect(r.usage.cost).toBeGreaterThan(0);
      expect(r.timings.total_ms).toBeGreaterThanOrEqual(r.timings.ttft_ms);
    }
    expect(byId.vanilla.threads).toHaveLength(3);
    expect(byId.vanilla.usage.achieved_ratio).toBe(1);
    // 16 + ceil(len/2) tokens per row at most: a 60-token sequence must have dropped some.
    expect(byId.tova.usage.achieved_ratio).toBeGreaterThan(1.05);
    const job = (await h.getJob(jobId)).body;
    expect(job.status).toBe('completed');
    expect(job.usage.kv_token_reads).toBeCloseTo(
      lines.reduce((s, l) => s + l.usage.kv_token_reads, 0),
      6,
    );
    executor.dispose();
    h.close();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fails only the requests whose checkpoint is gone, with the reason', async () => {
    const { h, jobId, loop, executor } = await runJob([
      { custom_id: 'ok', prompt: 'V:Zy Yx X5 ?z=', params: { max_tokens: 6, temperature: 0 } },
      { custom_id: 'gone', prompt: 'V:Zy Yx X5 ?z=', params: { max_tokens: 6, compression: { method: 'dms', ratio: 4 } } },
    ]);
    renameSync(join(dir, 'tiny-dms-r4'), join(dir, 'moved'));
    try {
      expect(await loop.runOnce()).toBe('completed');
    } finally {
      renameSync(join(dir, 'moved'), join(dir, 'tiny-dms-r4'));
    }
    const { lines } = await h.results(jobId);
    const byId = Object.fromEntries(lines.map((l) => [l.custom_id, l]));
    expect(byId.ok.status).toBe('succeeded');
    expect(byId.gone).toMatchObject({ status: 'failed', error: { code: 'model_unavailable' } });
    expect(byId.gone.error.message).toContain('tiny-dms-r4');
    executor.dispose();
    h.close();
  });
});
