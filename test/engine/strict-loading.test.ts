// Strict loading: every config value and tensor either runs exactly (checked against an independent
// float64 reference of the HF forward, or transformers' formulas computed apart) or is refused by name.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backend.js';
import { PagePool } from '../../engine/kv/page-pool.js';
import { PagedCache } from '../../engine/kv/paged-cache.js';
import { modelConfigToJson, parseModelConfig } from '../../engine/model/config.js';
import { forwardDense } from '../../engine/model/llama.js';
import { inverseFrequencies } from '../../engine/model/rope.js';
import { readSafetensors, writeSafetensors } from '../../engine/model/safetensors.js';
import { buildByteLevelTokenizerJson } from '../../engine/model/tokenizer.js';
import { expectedTensors, loadModel, paramsToNamed } from '../../engine/model/weights.js';
import { NonePolicy } from '../../engine/policies/none.js';
import { WasmExecutor } from '../../engine/executors/wasm/wasm-executor.js';
import { tinyConfig, writeRandomModel } from './helpers.js';
import { referenceLogits } from './reference-forward.js';

const root = mkdtempSync(join(tmpdir(), 'strict-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const base = {
  model_type: 'llama',
  vocab_size: 259,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
};

describe('refused config values name the field', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['hidden_act relu', { hidden_act: 'relu' }, /hidden_act "relu" is not implemented/],
    ['rope longrope', { rope_scaling: { rope_type: 'longrope', factor: 2 } }, /rope_scaling type "longrope" is not implemented/],
    ['an unread yarn key', { rope_scaling: { rope_type: 'yarn', factor: 2, extra_knob: 1 } }, /rope_scaling\.extra_knob/],
    ['qwen2 sliding window', { model_type: 'qwen2', use_sliding_window: true, sliding_window: 64 }, /use_sliding_window/],
    ['qwen3 hybrid layers', { model_type: 'qwen3', layer_types: ['full_attention', 'sliding_attention'] }, /layer_types\[1\].*sliding_attention/],
    ['unknown model_type', { model_type: 'mistral' }, /unknown architecture/],
    ['a non-causal-LM class', { architectures: ['LlamaForSequenceClassification'] }, /LlamaForSequenceClassification/],
    ['quantized weights', { quantization_config: { quant_method: 'gptq' } }, /quantization_config/],
    ['an unknown dms block field', { dms: { mode: 'adapter', windw: 3 } }, /dms\.windw/],
  ];
  for (const [name, extra, re] of cases) it(name, () => expect(() => parseModelConfig({ ...base, ...extra })).toThrow(re));

  it('accepts what transformers ignores or computes the same way', () => {
    expect(parseModelConfig({ ...base, model_type: 'qwen2', use_sliding_window: false, sliding_window: 4096, max_window_layers: 28 }).architecture).toBe(
      'qwen2',
    );
    expect(parseModelConfig({ ...base, hidden_act: 'swish' }).hiddenAct).toBe('silu');
    expect(parseModelConfig({ ...base, model_type: 'qwen3' }).headDim).toBe(128); // Qwen3Config default
    expect(parseModelConfig({ ...base, head_dim: 16 }).headDim).toBe(16);
    expect(parseModelConfig({ ...base, architectures: ['Qwen3ForCausalLMDMS'], model_type: 'qwen3' }).architecture).toBe('qwen3');
    // transformers v5 nests rope_theta in rope_parameters
    const v5 = parseModelConfig({ ...base, rope_parameters: { rope_type: 'linear', rope_theta: 500000, factor: 2 } });
    expect([v5.ropeTheta, v5.ropeScaling]).toEqual([500000, { type: 'linear', factor: 2 }]);
  });
});

describe('refused tensors name the tensor', () => {
  it('a tensor the config does not consume (mlp biases with mlp_bias false)', () => {
    const dir = join(root, 'stray');
    writeRandomModel(dir, tinyConfig({ mlp_bias: true }), 1);
    const cfgPath = join(dir, 'config.json');
    writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), mlp_bias: false }));
    expect(() => loadModel(dir)).toThrow(/6 tensor\(s\) the model does not consume \("model\.layers\.0\.mlp\.down_proj\.bias"/);
  });
  it('a missing tensor, with its expected shape', () => {
    const dir = join(root, 'missing');
    writeRandomModel(dir, tinyConfig(), 2);
    const cfgPath = join(dir, 'config.json');
    writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), tie_word_embeddings: false }));
    expect(() => loadModel(dir)).toThrow(/missing tensor "lm_head\.weight"/);
    writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), tie_word_embeddings: true, attention_bias: true }));
    expect(() => loadModel(dir)).toThrow(/missing tensor "model\.layers\.0\.self_attn\.q_proj\.bias" \(expected shape \[32\]\)/);
  });
});

/** forwardDense and the paged runtime, both against the float64 reference, on a written checkpoint. */
function checkAgainstReference(extra: Record<string, unknown>, seed: number, invFreq?: number[], mscale = 1): number {
  const dir = join(root, `ref-${seed}`);
  writeRandomModel(dir, tinyConfig(extra), seed);
  const model = loadModel(dir);
  const ids = Array.from({ length: 10 }, (_, t) => (t === 0 ? 256 : (t * 41 + seed) % 256));
  const ref = referenceLogits(model.config, paramsToNamed(model.params), ids, invFreq ?? Array.from(inverseFrequencies(model.config)), mscale);
  const dense = tf.tidy(() => forwardDense(model.params, tf.tensor2d([ids], [1, ids.length], 'int32')).logits.arraySync() as number[][][])[0];
  const cache = new PagedCache(new PagePool({ pageSize: 4, headDim: model.config.headDim, budgetTokens: 4096 }), {
    numLayers: model.config.numLayers,
    numKvHeads: model.config.numKvHeads,
  });
  const runner = new WasmExecutor(model.params, cache);
  const seq = runner.addSequence(new NonePolicy());
  const paged = runner.runSync(ids.map((token, position) => ({ seq, token, position, wantLogits: true }))).logits;
  runner.dispose();
  let maxDiff = 0;
  let scale = 0;
  const V = model.config.vocabSize;
  for (let t = 0; t < ids.length; t++)
    for (let v = 0; v < V; v++) {
      maxDiff = Math.max(maxDiff, Math.abs(dense[t][v] - ref[t][v]), Math.abs(paged[t * V + v] - ref[t][v]));
      scale = Math.max(scale, Math.abs(ref[t][v]));
    }
  model.dispose();
  expect(scale).toBeGreaterThan(0.5); // logits large enough that a wrong MLP shows
  return maxDiff;
}

describe('newly implemented features equal an independent float64 reference', () => {
  it('mlp_bias + hidden_act gelu_pytorch_tanh (llama)', () => {
    expect(checkAgainstReference({ mlp_bias: true, hidden_act: 'gelu_pytorch_tanh' }, 21)).toBeLessThan(2e-4);
  });
  it('the reference tells silu from gelu (the check can fail)', () => {
    const dir = join(root, 'act');
    writeRandomModel(dir, tinyConfig({ hidden_act: 'gelu_pytorch_tanh' }), 22);
    const m = loadModel(dir);
    const ids = [256, 5, 9, 13];
    const named = paramsToNamed(m.params);
    const inv = Array.from(inverseFrequencies(m.config));
    const a = referenceLogits(m.config, named, ids, inv);
    const b = referenceLogits({ ...m.config, hiddenAct: 'silu' }, named, ids, inv);
    expect(Math.max(...a.flat().map((v, i) => Math.abs(v - b.flat()[i])))).toBeGreaterThan(1e-2);
    m.dispose();
  });
  it('qwen3 with q/k norm and attention_bias', () => {
    expect(checkAgainstReference({ model_type: 'qwen3', head_dim: 8, attention_bias: true }, 23)).toBeLessThan(2e-4);
  });

  // Expected inverse frequencies and attention factors computed apart from the engine, by transcribing
  // transformers' _compute_yarn_parameters (main, 2026) into plain Python floats.
  const yarnCases = [
    { rot: 8, theta: 10000, factor: 4, orig: 16, want: [1.0, 0.025, 0.0025, 0.00025], mscale: 1.138629436111989 },
    {
      rot: 16,
      theta: 10000,
      factor: 4,
      orig: 4096,
      want: [1.0, 0.31622776601683794, 0.1, 0.02569350598886808, 0.00625, 0.0013834964763236657, 0.00025, 7.905694150420948e-5],
      mscale: 1.138629436111989,
    },
  ];
  for (const c of yarnCases) {
    it(`yarn inverse frequencies (rot ${c.rot}, factor ${c.factor}, original context ${c.orig})`, () => {
      const cfg = tinyConfig({
        hidden_size: 4 * c.rot,
        head_dim: c.rot,
        rope_theta: c.theta,
        rope_scaling: { rope_type: 'yarn', factor: c.factor, original_max_position_embeddings: c.orig },
      });
      const inv = inverseFrequencies(cfg);
      for (const [i, w] of c.want.entries()) expect(Math.abs(inv[i] - w) / w).toBeLessThan(1e-6);
      expect(cfg.ropeScaling?.type === 'yarn' && cfg.ropeScaling.attentionFactor).toBeCloseTo(c.mscale, 12);
    });
  }
  it('yarn forward (cos and sin scaled by the attention factor) equals the reference', () => {
    const y = yarnCases[0];
    const extra = { rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 16 } };
    expect(checkAgainstReference(extra, 24, y.want, y.mscale)).toBeLessThan(2e-4);
  });
  it('dynamic NTK is plain RoPE inside max_position_embeddings (the served context)', () => {
    const plain = inverseFrequencies(tinyConfig());
    const dyn = inverseFrequencies(tinyConfig({ rope_scaling: { rope_type: 'dynamic', factor: 4 } }));
    expect(Array.from(dyn)).toEqual(Array.from(plain));
  });
});

describe('sharded checkpoints and tied heads', () => {
  it('reads an index of shards like one file; an index that lies is refused', () => {
    const dir = join(root, 'sharded');
    writeRandomModel(dir, tinyConfig(), 31);
    const single = loadModel(dir);
    const named = readSafetensors(readFileSync(join(dir, 'model.safetensors')));
    rmSync(join(dir, 'model.safetensors'));
    const names = [...named.keys()].sort();
    const half = Math.floor(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    shards.forEach((part, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeFileSync(join(dir, file), writeSafetensors(new Map(part.map((n) => [n, named.get(n)!])), 'F16'));
      for (const n of part) weightMap[n] = file;
    });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const sharded = loadModel(dir);
    const ids = tf.tensor2d([[256, 3, 5, 7]], [1, 4], 'int32');
    const a = tf.tidy(() => forwardDense(single.params, ids).logits.arraySync() as number[][][]);
    const b = tf.tidy(() => forwardDense(sharded.params, ids).logits.arraySync() as number[][][]);
    expect(Math.max(...a.flat(2).map((v, i) => Math.abs(v - b.flat(2)[i])))).toBeLessThan(0.05); // f16 shards vs f32 file
    ids.dispose();
    single.dispose();
    sharded.dispose();
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ...weightMap, [names[0]]: 'model-00002-of-00002.safetensors' } }));
    expect(() => loadModel(dir)).toThrow(/index maps it to model-00002/);
  });

  it('a tied checkpoint may store lm_head.weight only as a copy of the embedding', () => {
    const dir = join(root, 'tied');
    writeRandomModel(dir, tinyConfig(), 32);
    const named = readSafetensors(readFileSync(join(dir, 'model.safetensors')));
    const embed = named.get('model.embed_tokens.weight')!;
    named.set('lm_head.weight', { ...embed });
    writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(named));
    loadModel(dir).dispose();
    named.set('lm_head.weight', { ...embed, data: embed.data.map((v) => v + 1) });
    writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(named));
    expect(() => loadModel(dir)).toThrow(/lm_head\.weight differs from model\.embed_tokens\.weight/);
  });
});

describe('the wasm backend', () => {
  it('refuses up front a model whose f32 weights (twice, while serving) exceed its 4 GiB memory', () => {
    if (tf.getBackend() !== 'wasm') return;
    // The Llama-3.2-1B shape as a sparse file: the header is real, the data bytes are never written.
    const cfg = tinyConfig({
      hidden_size: 2048,
      num_hidden_layers: 16,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      intermediate_size: 8192,
      vocab_size: 128256,
    });
    const dir = join(root, 'big');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(modelConfigToJson(cfg)));
    const header: Record<string, unknown> = {};
    let offset = 0;
    for (const [name, t] of expectedTensors(cfg, false)) {
      const bytes = 2 * t.shape.reduce((a, b) => a * b, 1);
      header[name] = { dtype: 'F16', shape: t.shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    const file = join(dir, 'model.safetensors');
    writeFileSync(file, Buffer.concat([len, json]));
    truncateSync(file, 8 + json.length + offset);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(buildByteLevelTokenizerJson()));
    expect(() => loadModel(dir)).toThrow(/4\.60 GiB of f32 weights .* do not fit the wasm backend's 4 GiB memory; use DMS_BACKEND=cpu/);
  });
});
