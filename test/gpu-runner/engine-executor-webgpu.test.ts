// A runner on the webgpu backend (DMS_BACKEND=webgpu, lavapipe in CI): results and the claim name the
// backend with its adapter, its claim passes over jobs with policies the backend does not serve (run
// anyway, such a request fails alone with the reason), and as a gateway's only runner it makes the gateway refuse them.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuContext } from '../../engine/executors/webgpu/gpu-context.js';
import { loadModelCatalog } from '../../gateway/model-catalog.js';
import { EngineExecutor } from '../../gpu-runner/engine-executor.js';
import { LocalStoreSource } from '../../gpu-runner/local-store-source.js';
import { ModelRegistry } from '../../gpu-runner/model-registry.js';
import { type RequestResultWrite, SYSTEM_DEFAULTS } from '../../protocol/index.js';
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
  it('claims and runs none and dms on the device, passes over a tova job; backend names the adapter', async () => {
    const catalog = await loadModelCatalog(dir);
    const h = await makeHarness({ catalog });
    const tovaJob = await h.submit({
      model: 'tiny',
      requests: [{ custom_id: 'tova', prompt: 'C1:a3b7=', params: { max_tokens: 8, temperature: 0, compression: { method: 'tova', ratio: 2 } } }],
    });
    const submitted = await h.submit({
      model: 'tiny',
      requests: [
        { custom_id: 'vanilla', prompt: 'C1:a3b7=', params: { max_tokens: 8, temperature: 0.9, seed: 7, n: 2 } },
        { custom_id: 'dms', prompt: 'C1:a3b7=', params: { max_tokens: 8, temperature: 0, compression: { method: 'dms', ratio: 4 } } },
      ],
    });
    expect([tovaJob.status, submitted.status]).toEqual([201, 201]);
    const executor = await EngineExecutor.create(new ModelRegistry(dir));
    expect(executor.backend).toMatch(/^webgpu \(.+\)$/);
    expect(executor.capability).toEqual({ backend: 'webgpu', methods: ['none', 'window', 'dms'] });
    const loop = new RunnerLoop(new LocalStoreSource(h.store), executor, {
      runnerId: 'webgpu-test',
      log: () => {},
      heartbeatMs: 50,
      pollMinMs: 5,
      pollMaxMs: 20,
    });
    // The older tova job is passed over: the claim sends the backend's methods.
    expect(await loop.runOnce()).toBe('completed');
    expect(await loop.runOnce()).toBe('idle');
    expect((await h.getJob(tovaJob.body.id as string)).body.status).toBe('queued');
    const { lines } = await h.results(submitted.body.id as string);
    const byId = Object.fromEntries(lines.map((l) => [l.custom_id, l]));
    for (const id of ['vanilla', 'dms']) {
      expect(byId[id].status).toBe('succeeded');
      expect(byId[id].backend).toMatch(/^webgpu \(.+\)$/);
      expect(byId[id].usage.kv_token_reads).toBeGreaterThan(0);
    }
    h.close();

    // Handed a tova request anyway (a runner claiming without methods), the executor fails it alone, with the reason.
    const written: RequestResultWrite[] = [];
    const job = { id: 'j', model: 'tiny', num_requests: 1, defaults: null, metadata: null };
    const tova = { custom_id: 'tova', prompt: 'C1:a3b7=', params: { ...SYSTEM_DEFAULTS, max_tokens: 8, compression: { method: 'tova' as const, ratio: 2 } } };
    await executor.execute(job, [tova], { signal: new AbortController().signal, onResult: async (r) => void written.push(r) });
    expect(written).toEqual([expect.objectContaining({ status: 'failed', error: expect.objectContaining({ code: 'unsupported_on_backend' }) })]);
    expect(written[0].error?.message).toMatch(/"tova" is not served by the webgpu backend.*wasm/);

    // As the only runner of a gateway (runner API off) it makes the gateway refuse tova at submission.
    const fleetOnly = await makeHarness({ catalog, fleet: executor.capability });
    const refused = await fleetOnly.submit({
      model: 'tiny',
      requests: [
        { custom_id: 'a', prompt: 'C1:a3b7=', params: { max_tokens: 8 } },
        { custom_id: 'b', prompt: 'C1:a3b7=', params: { max_tokens: 8, compression: { method: 'tova', ratio: 2 } } },
      ],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.issues).toEqual([
      {
        field: 'requests[1].params.compression.method',
        reason: "method 'tova' is not served by this gateway's runner (backend webgpu); backends that serve it: wasm, tensorflow, cpu",
      },
    ]);
    fleetOnly.close();
    executor.dispose();
  }, 300_000);
});
