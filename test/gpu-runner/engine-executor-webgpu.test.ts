// A runner on the webgpu backend (DMS_BACKEND=webgpu, lavapipe in CI): results and the claim name the
// backend with its adapter, and a policy the backend does not serve fails that request alone, with the reason.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuContext } from '../../engine/executors/webgpu/gpu-context.js';
import { loadModelCatalog } from '../../gateway/model-catalog.js';
import { EngineExecutor } from '../../gpu-runner/engine-executor.js';
import { LocalStoreSource } from '../../gpu-runner/local-store-source.js';
import { ModelRegistry } from '../../gpu-runner/model-registry.js';
import { RunnerLoop } from '../../gpu-runner/runner-loop.js';
import { makeHarness } from '../gateway/harness.js';
import { writeTinyModels } from '../runner-processes/tiny-models.js';

// This file runs in its own fork: the backend choice is per process.
process.env.DMS_BACKEND = 'webgpu';
const ctx = await gpuContext();
if (!ctx && !process.env.CI) console.warn('\n*** SKIPPING the webgpu runner test: no WebGPU adapter ***\n');

let dir: string;
beforeAll(async () => {
  dir = await writeTinyModels();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!ctx && !process.env.CI)('engine executor on webgpu', () => {
  it('runs none and dms on the device; tova fails alone with unsupported_on_backend; backend names the adapter', async () => {
    const catalog = await loadModelCatalog(dir);
    const h = await makeHarness({ catalog });
    const submitted = await h.submit({
      model: 'tiny',
      requests: [
        { custom_id: 'vanilla', prompt: 'C1:a3b7=', params: { max_tokens: 8, temperature: 0.9, seed: 7, n: 2 } },
        { custom_id: 'dms', prompt: 'C1:a3b7=', params: { max_tokens: 8, temperature: 0, compression: { method: 'dms', ratio: 4 } } },
        { custom_id: 'tova', prompt: 'C1:a3b7=', params: { max_tokens: 8, temperature: 0, compression: { method: 'tova', ratio: 2 } } },
      ],
    });
    expect(submitted.status).toBe(201);
    const executor = await EngineExecutor.create(new ModelRegistry(dir));
    expect(executor.backend).toMatch(/^webgpu \(.+\)$/);
    const loop = new RunnerLoop(new LocalStoreSource(h.store), executor, {
      runnerId: 'webgpu-test',
      log: () => {},
      heartbeatMs: 50,
      pollMinMs: 5,
      pollMaxMs: 20,
    });
    expect(await loop.runOnce()).toBe('completed');
    const { lines } = await h.results(submitted.body.id as string);
    const byId = Object.fromEntries(lines.map((l) => [l.custom_id, l]));
    for (const id of ['vanilla', 'dms']) {
      expect(byId[id].status).toBe('succeeded');
      expect(byId[id].backend).toMatch(/^webgpu \(.+\)$/);
      expect(byId[id].usage.kv_token_reads).toBeGreaterThan(0);
    }
    expect(byId.tova).toMatchObject({ status: 'failed', error: { code: 'unsupported_on_backend' } });
    expect(byId.tova.error.message).toMatch(/"tova" is not served by the webgpu backend.*wasm/);
    executor.dispose();
    h.close();
  }, 300_000);
});
