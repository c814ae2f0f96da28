// NVIDIA Model-Optimizer's DMS checkpoint format (flat dms_* config fields, dms_proj_alpha* tensors):
// the same random weights written in that format and in ours serve method dms identically.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backend.js';
import { generate } from '../../engine/index.js';
import { PagePool } from '../../engine/kv/page-pool.js';
import { PagedCache } from '../../engine/kv/paged-cache.js';
import { type ModelConfig, parseModelConfig } from '../../engine/model/config.js';
import { indexCheckpoint } from '../../engine/model/checkpoint-reader.js';
import { buildByteLevelTokenizerConfig, buildByteLevelTokenizerJson } from '../../engine/model/tokenizer.js';
import { disposeParams, type LlamaParams, type LoadedModel, loadModel, saveModel } from '../../engine/model/weights.js';
import { DmsPolicy } from '../../engine/policies/dms.js';
import { WasmExecutor } from '../../engine/executors/wasm/wasm-executor.js';
import { randomParams, tinyConfig } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nvidia-dms-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tok = { tokenizerJson: buildByteLevelTokenizerJson(), tokenizerConfig: buildByteLevelTokenizerConfig() };

function save(name: string, params: LlamaParams, config: ModelConfig): string {
  const dir = join(root, name);
  saveModel(dir, { ...params, config }, tok);
  return dir;
}

const asNvidia = (cfg: ModelConfig, extra: Partial<NonNullable<ModelConfig['dms']>> = {}): ModelConfig => ({
  ...cfg,
  dms: { ...cfg.dms!, format: 'nvidia', ...extra },
});

/** Feeds ids token by token with the DMS policy; returns every step's logits and each row's retained positions at the end. */
function runDms(model: LoadedModel, ids: number[], window: number): { logits: number[]; retained: number[][] } {
  const cfg = model.config;
  const cache = new PagedCache(new PagePool({ pageSize: 4, headDim: cfg.headDim, budgetTokens: 8192 }), {
    numLayers: cfg.numLayers,
    numKvHeads: cfg.numKvHeads,
  });
  const runner = new WasmExecutor(model.params, cache);
  const seq = runner.addSequence(new DmsPolicy(window));
  const logits: number[] = [];
  ids.forEach((token, t) => {
    logits.push(...runner.runSync([{ seq, token, position: t, wantLogits: true }]).logits);
  });
  const retained = cache.rows(seq).map((row) => Array.from(row.positions.subarray(0, row.length)).sort((a, b) => a - b));
  runner.free(seq);
  runner.dispose();
  return { logits, retained };
}

const ids = Array.from({ length: 40 }, (_, t) => (t === 0 ? 256 : (t * 29 + 3) % 256));

describe('NVIDIA DMS config fields', () => {
  it('reads the flat fields with Model-Optimizer defaults; separate_alpha picks the mode', () => {
    const base = {
      model_type: 'qwen3',
      vocab_size: 300,
      hidden_size: 64,
      intermediate_size: 128,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      num_key_value_heads: 2,
    };
    const c = parseModelConfig({ ...base, dms_cr: 8 });
    expect(c.headDim).toBe(128); // Qwen3's default, not hidden / heads
    expect(c.dms).toEqual({
      mode: 'neuron',
      window: 512,
      scale: 100,
      offset: 5,
      ratio: 8,
      format: 'nvidia',
      alphaPer: 'head',
      adapterBias: false,
      disableEviction: false,
    });
    const a = parseModelConfig({ ...base, dms_separate_alpha: true, attention_bias: true, dms_window_size: 256, dms_alpha_per: 'layer', dms_tau: 0.1 });
    expect([a.dms?.mode, a.dms?.window, a.dms?.adapterBias, a.dms?.alphaPer]).toEqual(['adapter', 256, true, 'layer']);
    expect(() => parseModelConfig({ ...base, dms_alpha_per: 'token' })).toThrow(/dms_alpha_per/);
    expect(() => parseModelConfig({ ...base, dms_new_knob: 1 })).toThrow(/dms_new_knob/);
    expect(() => parseModelConfig({ ...base, dms_cr: 8, dms: { mode: 'neuron' } })).toThrow(/both/);
  });
});

const cases = [
  {
    name: 'qwen3 neuron mode (the Qwen3-8B-DMS-8x layout)',
    extra: { model_type: 'qwen3', head_dim: 8, dms: { mode: 'neuron', window: 3, ratio: 8 } },
    seed: 11,
  },
  { name: 'llama adapter mode', extra: { dms: { mode: 'adapter', window: 2, offset: -2, ratio: 8 } }, seed: 12 },
];

describe('NVIDIA format == project format on the same weights', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const cfg = tinyConfig(c.extra);
      const params = randomParams(cfg, c.seed, 0.08);
      const ours = loadModel(save(`${c.seed}-ours`, params, cfg));
      const dirNv = save(`${c.seed}-nvidia`, params, asNvidia(cfg));
      disposeParams(params);
      const json = JSON.parse(readFileSync(join(dirNv, 'config.json'), 'utf8'));
      expect(json.dms).toBeUndefined();
      expect([json.dms_window_size, json.dms_cr, json.dms_separate_alpha, json.dms_alpha_scale, json.dms_initial_alpha_offset]).toEqual([
        cfg.dms!.window,
        8,
        cfg.dms!.mode === 'adapter',
        cfg.dms!.scale,
        cfg.dms!.offset,
      ]);
      const names = [...indexCheckpoint(dirNv).keys()];
      if (cfg.dms!.mode === 'adapter') {
        expect(names).toContain('model.layers.0.self_attn.dms_proj_alpha.weight');
        expect(names).toContain('model.layers.0.self_attn.dms_proj_alpha_norm.weight');
      }
      expect(names.some((n) => n.includes('dms_proj.') || n.includes('dms_norm'))).toBe(false);
      const nv = loadModel(dirNv);
      expect({ ...nv.config, dms: { ...nv.config.dms, format: 'project' } }).toEqual(ours.config);

      const a = runDms(ours, ids, cfg.dms!.window);
      const b = runDms(nv, ids, cfg.dms!.window);
      expect(b.logits).toEqual(a.logits);
      expect(b.retained).toEqual(a.retained);
      expect(a.retained.some((r) => r.length < ids.length)).toBe(true); // something was evicted

      const req = { id: 'r', prompt: 'Q:3a+4b*2c=', maxTokens: 24, temperature: 0, compression: { method: 'dms' as const, ratio: 8 }, ignoreEos: true };
      const [ga] = await generate(ours, [req]);
      const [gb] = await generate(nv, [req]);
      expect(gb.threads[0].text).toBe(ga.threads[0].text);
      expect(gb.usage).toEqual(ga.usage);
      ours.dispose();
      nv.dispose();
    });
  }

  it('dms_alpha_per layer: KV head 0 decides for every head of its layer', () => {
    const cfg = tinyConfig({ dms: { mode: 'adapter', window: 2, offset: -2, ratio: 8 } });
    const params = randomParams(cfg, 13, 0.08);
    const perHead = loadModel(save('13-head', params, asNvidia(cfg)));
    const perLayer = loadModel(save('13-layer', params, asNvidia(cfg, { alphaPer: 'layer' })));
    disposeParams(params);
    const h = runDms(perHead, ids, 2).retained; // rows in (layer, head) order
    const l = runDms(perLayer, ids, 2).retained;
    const K = cfg.numKvHeads;
    // Layer 0 sees the same input in both models, so its shared decision is the per-head model's head 0;
    // deeper layers' inputs differ (layer 0 evicted differently), but every head of a layer still agrees.
    for (let k = 0; k < K; k++) expect(l[k]).toEqual(h[0]);
    for (let layer = 1; layer < cfg.numLayers; layer++) for (let k = 1; k < K; k++) expect(l[layer * K + k]).toEqual(l[layer * K]);
    expect(h[0]).not.toEqual(h[1]); // per-head decisions differ, so the test can tell the modes apart
    perHead.dispose();
    perLayer.dispose();
  });

  it('dms_disable_eviction: method dms keeps every token and equals method none on the same checkpoint', async () => {
    const cfg = tinyConfig({ model_type: 'qwen3', head_dim: 8, dms: { mode: 'neuron', window: 2, ratio: 8 } });
    const params = randomParams(cfg, 14, 0.08);
    const off = loadModel(save('14-off', params, asNvidia(cfg, { disableEviction: true })));
    const on = loadModel(save('14-on', params, asNvidia(cfg)));
    disposeParams(params);
    expect(runDms(off, ids, 2).retained.every((r) => r.length === ids.length)).toBe(true);
    const req = { id: 'r', prompt: 'Q:1a+2b=', maxTokens: 16, temperature: 0, ignoreEos: true };
    const [dmsOff] = await generate(off, [{ ...req, compression: { method: 'dms', ratio: 8 } }]);
    const [noneOn] = await generate(on, [{ ...req, compression: { method: 'none', ratio: 1 } }]);
    expect(dmsOff.threads[0].text).toBe(noneOn.threads[0].text);
    expect(dmsOff.usage.kvTokenReads).toBe(noneOn.usage.kvTokenReads);
    off.dispose();
    on.dispose();
  });
});
