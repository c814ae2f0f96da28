// Test helpers: tiny random configs and models written in the real format.
import * as tf from '@tensorflow/tfjs';
import { parseModelConfig, type ModelConfig } from '../../engine/model/config.js';
import { BYTE_BOS_ID, BYTE_EOS_ID, BYTE_PAD_ID, buildByteLevelTokenizerConfig, buildByteLevelTokenizerJson } from '../../engine/model/tokenizer.js';
import { disposeParams, initParams, mapParams, saveModel, type LlamaParams } from '../../engine/model/weights.js';

/** config.json fields of the tiny test model (byte-level vocabulary and its special ids); `extra` overrides. */
export function tinyConfigJson(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model_type: 'llama',
    vocab_size: 259,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    max_position_embeddings: 4096,
    tie_word_embeddings: true,
    bos_token_id: BYTE_BOS_ID,
    eos_token_id: BYTE_EOS_ID,
    pad_token_id: BYTE_PAD_ID,
    ...extra,
  };
}

export function tinyConfig(extra: Record<string, unknown> = {}): ModelConfig {
  return parseModelConfig(tinyConfigJson(extra));
}

/**
 * Random params with non-trivial norms and, for adapter mode, a random DMS projection so that a
 * large share of tokens is evicted (the zero init would keep everything and test nothing).
 */
export function randomParams(cfg: ModelConfig, seed: number, dmsStd = 0.05): LlamaParams {
  let n = 0;
  const base = initParams(cfg, seed);
  const out = mapParams(base, (t, name) => {
    const r = tf.tidy(() => {
      if (name.endsWith('dms_proj.weight') || name.endsWith('dms_proj_alpha.weight')) return tf.randomNormal(t.shape, 0, dmsStd, 'float32', seed * 7919 + n++);
      if (name.includes('norm')) return tf.add(t, tf.randomUniform(t.shape, -0.3, 0.3, 'float32', seed * 7919 + n++));
      if (name.endsWith('bias')) return tf.randomNormal(t.shape, 0, 0.1, 'float32', seed * 7919 + n++);
      return tf.mul(t, 5); // larger weights: sharper attention, so a wrong cache shows in the logits
    });
    return r;
  });
  for (const t of [
    base.embed,
    base.finalNorm,
    ...(base.lmHead ? [base.lmHead] : []),
    ...base.layers.flatMap((l) => Object.values(l).filter((x): x is tf.Tensor => x instanceof tf.Tensor)),
  ])
    t.dispose();
  return out;
}

/** Writes a random-weight checkpoint in the real format (config.json, model.safetensors, byte-level tokenizer) to dir. */
export function writeRandomModel(dir: string, cfg: ModelConfig, seed: number, dmsStd = 0.05, dtype: 'F32' | 'F16' | 'BF16' = 'F32'): void {
  const params = randomParams(cfg, seed, dmsStd);
  saveModel(dir, params, { tokenizerJson: buildByteLevelTokenizerJson(), tokenizerConfig: buildByteLevelTokenizerConfig(), dtype });
  disposeParams(params);
}
