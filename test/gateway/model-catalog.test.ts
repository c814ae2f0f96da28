// The catalog by content: any folder with a config.json is a model named after it; DMS checkpoints
// (either format) serve dms at their trained ratio; -base/-dms-rR and models.json group folders.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadModelCatalog } from '../../gateway/model-catalog.js';
import { buildServedModels, checkpointFor } from '../../protocol/catalog-content.js';
import { scanModelsDir } from '../../protocol/model-folders.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function checkpoint(folder: string, config: unknown) {
  mkdirSync(join(dir, folder), { recursive: true });
  writeFileSync(join(dir, folder, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
}

const TRAINING_FREE = ['none', 'window', 'tova', 'h2o', 'quest'];
/** Llama-3.2-1B's shape: 1,235,814,400 parameters (tied). */
const LLAMA_1B = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 128256,
  hidden_size: 2048,
  intermediate_size: 8192,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 64,
  max_position_embeddings: 131072,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
};

describe('scanModelsDir / loadModelCatalog', () => {
  it('groups the project convention into one model per name', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-models-'));
    checkpoint('reasoner-base', { max_position_embeddings: 1024, dms: null });
    checkpoint('reasoner-dms-r8', { max_position_embeddings: 1024, dms: { mode: 'adapter', window: 16, ratio: 8 } });
    checkpoint('reasoner-dms-r2', { max_position_embeddings: 1024, dms: { mode: 'adapter', window: 16, ratio: 2 } });
    checkpoint('reasoner-dms-r4', { max_position_embeddings: 768, dms: { mode: 'adapter', window: 16, ratio: 4 } });
    checkpoint('reasoner-dms-r4-w0', { max_position_embeddings: 768, dms: { mode: 'adapter', window: 0, ratio: 4 } });
    checkpoint('broken', '{ not json');
    checkpoint('no-context', { hidden_size: 8 });
    mkdirSync(join(dir, 'empty-folder'));
    const catalog = await loadModelCatalog(dir);
    expect(catalog).toEqual({
      defaultModel: 'reasoner',
      models: [
        {
          name: 'reasoner',
          contextLength: 768,
          methods: [...TRAINING_FREE, 'dms'],
          dmsRatios: [2, 4, 8],
          architecture: null,
          parameters: null,
          dtype: null,
          dmsWindow: 16,
        },
      ],
    });
    const skipped = scanModelsDir(dir).skipped.map((s) => s.folder);
    expect(skipped.sort()).toEqual(['broken', 'no-context', 'reasoner-dms-r4-w0']);
  });

  it('serves a plain Hugging Face folder under its own name, with its architecture, size and dtype (issue 13)', () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-models-'));
    checkpoint('Llama-3.2-1B', LLAMA_1B);
    const served = scanModelsDir(dir);
    expect(served.catalog.models).toEqual([
      {
        name: 'Llama-3.2-1B',
        contextLength: 131072,
        methods: TRAINING_FREE,
        dmsRatios: [],
        architecture: 'llama',
        parameters: 1235814400,
        dtype: 'bfloat16',
        dmsWindow: null,
      },
    ]);
    expect(checkpointFor(served, 'Llama-3.2-1B', 'none', 1)).toEqual({ folder: 'Llama-3.2-1B' });
    expect(checkpointFor(served, 'Llama-3.2-1B', 'dms', 8)).toMatchObject({ error: expect.stringContaining('Llama-3.2-1B-dms-r8') });
  });

  it('recognises DMS checkpoints by config in either format and serves them at their trained ratio', () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-models-'));
    checkpoint('Qwen3-8B-DMS-8x', { model_type: 'qwen3', max_position_embeddings: 40960, dms_cr: 8, dms_window_size: 512, torch_dtype: 'bfloat16' });
    checkpoint('Llama-DMS-defaults', { model_type: 'llama', dms_separate_alpha: true }); // Model-Optimizer defaults: ratio 8, window 512
    checkpoint('ours-standalone', { model_type: 'llama', max_position_embeddings: 512, dms: { mode: 'neuron', window: 16, ratio: 4 } });
    checkpoint('evictions-off', { model_type: 'qwen3', max_position_embeddings: 4096, dms_cr: 8, dms_disable_eviction: true });
    const m = Object.fromEntries(scanModelsDir(dir).catalog.models.map((x) => [x.name, x]));
    expect(m['Qwen3-8B-DMS-8x']).toMatchObject({
      methods: [...TRAINING_FREE, 'dms'],
      dmsRatios: [8],
      dmsWindow: 512,
      architecture: 'qwen3',
      contextLength: 40960,
    });
    expect(m['Llama-DMS-defaults']).toMatchObject({ dmsRatios: [8], dmsWindow: 512, contextLength: 2048 });
    expect(m['ours-standalone']).toMatchObject({ dmsRatios: [4], dmsWindow: 16 });
    expect(m['evictions-off']).toMatchObject({ methods: TRAINING_FREE, dmsRatios: [], dmsWindow: null });
  });

  it('models.json groups a base and its DMS retrofits under one served name', () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-models-'));
    checkpoint('Llama-3.2-1B', LLAMA_1B);
    checkpoint('Llama-3.2-1B-DMS-8x', { ...LLAMA_1B, dms_cr: 8, dms_window_size: 256 });
    writeFileSync(join(dir, 'models.json'), JSON.stringify({ 'llama-1b': { base: 'Llama-3.2-1B', dms: ['Llama-3.2-1B-DMS-8x'] } }));
    const served = scanModelsDir(dir);
    expect(served.catalog.models.map((x) => [x.name, x.methods, x.dmsRatios, x.dmsWindow])).toEqual([['llama-1b', [...TRAINING_FREE, 'dms'], [8], 256]]);
    expect(checkpointFor(served, 'llama-1b', 'dms', 8)).toEqual({ folder: 'Llama-3.2-1B-DMS-8x' });
    expect(checkpointFor(served, 'llama-1b', 'tova', 4)).toEqual({ folder: 'Llama-3.2-1B' });
    writeFileSync(join(dir, 'models.json'), JSON.stringify({ x: { base: 'nope' } }));
    expect(() => scanModelsDir(dir)).toThrow(/models\.json: model "x" names folder "nope"/);
    writeFileSync(join(dir, 'models.json'), JSON.stringify({ x: { dms: ['Llama-3.2-1B'] } }));
    expect(() => scanModelsDir(dir)).toThrow(/has no DMS predictor/);
    writeFileSync(join(dir, 'models.json'), JSON.stringify({ x: { base: 'Llama-3.2-1B', ratio: 2 } }));
    expect(() => scanModelsDir(dir)).toThrow(/"x"\.ratio is not a known field/);
  });

  it('is empty (no default) when the folder does not exist', async () => {
    dir = join(tmpdir(), `dms-missing-${Date.now()}`);
    expect(await loadModelCatalog(dir)).toEqual({ defaultModel: '', models: [] });
  });
});

describe('buildServedModels', () => {
  const f = (folder: string, dms?: unknown) => ({ folder, config: { max_position_embeddings: 100, ...(dms ? { dms } : {}) } });
  it('serves only dms for a model without a base checkpoint', () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-models-'));
    const { catalog } = buildServedModels([f('x-dms-r4', { mode: 'adapter', ratio: 4 })]);
    expect(catalog.models.map((m) => [m.name, m.methods, m.dmsRatios])).toEqual([['x', ['dms'], [4]]]);
  });
  it('does not serve retrofit variants kept for evaluation or training state', () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-models-'));
    const { catalog, skipped } = buildServedModels([f('x-base'), f('x-dms-r4', { mode: 'adapter' }), f('x-dms-r4-w0'), f('x-dms-state')]);
    expect(catalog.models.map((m) => [m.name, m.dmsRatios])).toEqual([['x', [4]]]);
    expect(skipped.map((s) => s.folder)).toEqual(['x-dms-r4-w0', 'x-dms-state']);
  });
});
