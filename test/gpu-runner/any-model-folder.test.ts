// Regression for issue 13 through gateway + runner: a plain Hugging Face folder (`Llama-3.2-1B/`) and
// an NVIDIA-format DMS folder are accepted and then actually served; an unimplemented one fails by name.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backend.js';
import { loadModelCatalog } from '../../gateway/model-catalog.js';
import { EngineExecutor } from '../../gpu-runner/engine-executor.js';
import { LocalStoreSource } from '../../gpu-runner/local-store-source.js';
import { ModelRegistry } from '../../gpu-runner/model-registry.js';
import { RunnerLoop } from '../../gpu-runner/runner-loop.js';
import { tinyConfig, writeRandomModel } from '../engine/helpers.js';
import { makeHarness } from '../gateway/harness.js';

let dir: string;
const quiet = { log: () => {}, heartbeatMs: 50, pollMinMs: 5, pollMaxMs: 20 };

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'dms-any-'));
  writeRandomModel(join(dir, 'Llama-3.2-1B'), tinyConfig({ max_position_embeddings: 256 }), 41);
  const nvidia = tinyConfig({ model_type: 'qwen3', head_dim: 8, max_position_embeddings: 256, dms_cr: 8, dms_window_size: 2 });
  writeRandomModel(join(dir, 'Qwen3-DMS-8x'), nvidia, 42);
  writeRandomModel(join(dir, 'Relu-Model'), tinyConfig({ max_position_embeddings: 256 }), 43);
  const cfgPath = join(dir, 'Relu-Model', 'config.json');
  writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), hidden_act: 'relu' }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(model: string, requests: unknown[]) {
  const h = await makeHarness({ catalog: await loadModelCatalog(dir) });
  const submitted = await h.submit({ model, requests });
  const executor = await EngineExecutor.create(new ModelRegistry(dir));
  const loop = new RunnerLoop(new LocalStoreSource(h.store), executor, { runnerId: 'any-folder', ...quiet });
  return { h, submitted, loop, executor };
}

describe('any model folder, gateway + runner', () => {
  it('a plain HF folder Llama-3.2-1B/ is accepted (201) and served (no "-base not found")', async () => {
    const { h, submitted, loop, executor } = await run('Llama-3.2-1B', [
      { custom_id: 'a', prompt: 'Q:1a+2b=', params: { max_tokens: 8, temperature: 0 } },
      { custom_id: 'b', prompt: 'Q:1a+2b=', params: { max_tokens: 8, temperature: 0, compression: { method: 'tova', ratio: 2 } } },
    ]);
    expect(submitted.status).toBe(201);
    expect(await loop.runOnce()).toBe('completed');
    const { lines } = await h.results(submitted.body.id);
    expect(lines.map((l) => [l.custom_id, l.status, l.error])).toEqual([
      ['a', 'succeeded', null],
      ['b', 'succeeded', null],
    ]);
    const dms = await h.submit({ model: 'Llama-3.2-1B', requests: [{ custom_id: 'c', prompt: 'x', params: { compression: { method: 'dms', ratio: 8 } } }] });
    expect(dms.status).toBe(400); // refused at the door, not after 201
    executor.dispose();
    h.close();
  });

  it('an NVIDIA-format DMS folder serves method dms at its trained ratio', async () => {
    const { h, submitted, loop, executor } = await run('Qwen3-DMS-8x', [
      { custom_id: 'd', prompt: 'Q:1a+2b*3c-4d+5e=', params: { max_tokens: 24, temperature: 0, compression: { method: 'dms', ratio: 8 } } },
    ]);
    expect(submitted.status).toBe(201);
    expect(await loop.runOnce()).toBe('completed');
    const [line] = (await h.results(submitted.body.id)).lines;
    expect(line.status).toBe('succeeded');
    expect(line.usage.achieved_ratio).toBeGreaterThan(1);
    executor.dispose();
    h.close();
  });

  it('a folder the engine does not implement fails its requests naming the field', async () => {
    const { h, submitted, loop, executor } = await run('Relu-Model', [{ custom_id: 'e', prompt: 'Q:1=', params: { max_tokens: 4 } }]);
    expect(submitted.status).toBe(201); // the gateway reads JSON only; the runner's loader decides
    expect(await loop.runOnce()).toBe('completed');
    const [line] = (await h.results(submitted.body.id)).lines;
    expect(line).toMatchObject({ status: 'failed', error: { code: 'model_unavailable' } });
    expect(line.error.message).toMatch(/hidden_act "relu" is not implemented/);
    executor.dispose();
    h.close();
  });
});
