import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../engine/backend.js';
import { parseModelConfig, modelConfigToJson } from '../../engine/model/config.js';
import { readSafetensors, writeSafetensors } from '../../engine/model/safetensors.js';
import { Tokenizer, buildByteLevelTokenizerJson, buildByteLevelTokenizerConfig } from '../../engine/model/tokenizer.js';
import { initParams, loadModel, saveModel, paramsToNamed, paramsFromNamed, disposeParams } from '../../engine/model/weights.js';
import { forwardDense } from '../../engine/model/llama.js';
import { tinyConfigJson as baseConfigJson } from './helpers.js';

/** The helpers' tiny config with a 512-token context. */
const tinyConfigJson = (extra: Record<string, unknown> = {}) => baseConfigJson({ max_position_embeddings: 512, ...extra });

beforeAll(async () => {
  await initBackend();
});

describe('config', () => {
  it('parses llama, qwen2 and qwen3 fields and round-trips', () => {
    const c = parseModelConfig(tinyConfigJson({ partial_rotary_factor: 0.5, dms: { mode: 'adapter', window: 3, ratio: 8 } }));
    expect(c.headDim).toBe(8);
    expect(c.dms).toEqual({
      mode: 'adapter',
      window: 3,
      scale: 100,
      offset: 5,
      ratio: 8,
      format: 'project',
      alphaPer: 'head',
      adapterBias: false,
      disableEviction: false,
    });
    expect(parseModelConfig(modelConfigToJson(c))).toEqual(c);
    const q2 = parseModelConfig(tinyConfigJson({ model_type: 'qwen2' }));
    expect([q2.attentionBias, q2.outputBias, q2.qkNorm]).toEqual([true, false, false]);
    const q3 = parseModelConfig(
      tinyConfigJson({
        model_type: 'qwen3',
        head_dim: 16,
        rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 },
      }),
    );
    expect([q3.qkNorm, q3.headDim, q3.ropeScaling?.type]).toEqual([true, 16, 'llama3']);
    expect(parseModelConfig(modelConfigToJson(q3))).toEqual(q3);
  });
  it('rejects unknown architectures and inconsistent fields', () => {
    expect(() => parseModelConfig(tinyConfigJson({ model_type: 'gpt2' }))).toThrow(/unknown architecture/);
    expect(() => parseModelConfig(tinyConfigJson({ num_key_value_heads: 3 }))).toThrow(/multiple/);
    expect(() => parseModelConfig(tinyConfigJson({ vocab_size: undefined }))).toThrow(/vocab_size/);
    expect(() => parseModelConfig(tinyConfigJson({ eos_token_id: 999 }))).toThrow(/outside the vocabulary/);
  });
});

describe('safetensors', () => {
  it('round-trips F32 exactly and F16 approximately, and reads BF16', () => {
    const m = new Map([
      ['a', { shape: [2, 3], data: new Float32Array([1, -2.5, 3.25, 1e-3, 65504, -0]) }],
      ['b', { shape: [1], data: new Float32Array([0.1]) }],
    ]);
    const f32 = readSafetensors(writeSafetensors(m, 'F32'));
    expect([...f32.get('a')!.data]).toEqual([...m.get('a')!.data]);
    expect(f32.get('a')!.shape).toEqual([2, 3]);
    const f16 = readSafetensors(writeSafetensors(m, 'F16'));
    for (const [i, v] of f16.get('a')!.data.entries()) expect(v).toBeCloseTo(m.get('a')!.data[i], 3);
    expect(f16.get('b')!.dtype).toBe('F16');
    // Hand-built BF16 file: 1.0 = 0x3f80, -2.0 = 0xc000.
    const header = new TextEncoder().encode(JSON.stringify({ x: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }));
    const buf = new Uint8Array(8 + header.length + 4);
    new DataView(buf.buffer).setBigUint64(0, BigInt(header.length), true);
    buf.set(header, 8);
    new DataView(buf.buffer).setUint16(8 + header.length, 0x3f80, true);
    new DataView(buf.buffer).setUint16(8 + header.length + 2, 0xc000, true);
    expect([...readSafetensors(buf).get('x')!.data]).toEqual([1, -2]);
  });
});

describe('tokenizer', () => {
  it('byte-level: any UTF-8 round-trips, ASCII is one token per char, specials at 256..258', () => {
    const t = Tokenizer.byteLevel();
    for (const s of ['Q:7+5*3=é 你好', 'a\n\tb  c', '🙂', 'A:12;']) expect(t.decode(t.encode(s))).toBe(s);
    expect(t.encode('Az09:;')).toEqual([...'Az09:;'].map((c) => c.charCodeAt(0)));
    expect([t.bosId, t.eosId, t.padId, t.vocabSize]).toEqual([256, 257, 258, 259]);
    expect(t.encodePrompt('hi')).toEqual([256, 104, 105]);
  });

  it('encodes the text of a special token in a prompt as ordinary characters, never as the control token', () => {
    const t = Tokenizer.byteLevel();
    const text = 'a<|eos|>b<|bos|><|pad|>';
    const ids = t.encode(text);
    expect(ids).toEqual([...text].map((c) => c.charCodeAt(0)));
    expect(ids.some((id) => t.specialIds.has(id))).toBe(false);
    expect(t.decode(ids)).toBe(text);
    expect(t.encodePrompt('<|eos|>')).toEqual([256, ...[...'<|eos|>'].map((c) => c.charCodeAt(0))]);
  });
  it('loads from a folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tok-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(buildByteLevelTokenizerJson()));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(buildByteLevelTokenizerConfig()));
    const t = Tokenizer.fromDir(dir);
    expect(t.decode(t.encode('x=1'))).toBe('x=1');
    rmSync(dir, { recursive: true });
  });
});

describe('weights', () => {
  it('saves and loads an HF folder; same logits; shape errors name the tensor', () => {
    const cfg = parseModelConfig(tinyConfigJson({ model_type: 'qwen3', head_dim: 8, tie_word_embeddings: false, dms: { mode: 'adapter', window: 2 } }));
    const params = initParams(cfg, 7);
    const dir = mkdtempSync(join(tmpdir(), 'model-'));
    saveModel(dir, params, { tokenizerJson: buildByteLevelTokenizerJson(), tokenizerConfig: buildByteLevelTokenizerConfig() });
    const loaded = loadModel(dir);
    expect(loaded.config).toEqual(cfg);
    const ids = tf.tensor2d([[256, 1, 2, 3, 4]], [1, 5], 'int32');
    const a = tf.tidy(() => forwardDense(params, ids).logits.arraySync());
    const b = tf.tidy(() => forwardDense(loaded.params, ids).logits.arraySync());
    expect(b).toEqual(a);
    const named = paramsToNamed(params);
    named.set('model.layers.1.self_attn.k_proj.weight', { shape: [3, 32], data: new Float32Array(96) });
    expect(() => paramsFromNamed(cfg, named)).toThrow(/model\.layers\.1\.self_attn\.k_proj\.weight.*\[3,32\].*\[16,32\]/);
    named.delete('model.norm.weight');
    expect(() => paramsFromNamed(cfg, named)).toThrow();
    ids.dispose();
    loaded.dispose();
    disposeParams(params);
    rmSync(dir, { recursive: true });
  });
});
