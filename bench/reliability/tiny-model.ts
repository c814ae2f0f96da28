// A tiny random-weight checkpoint in the real format (config.json, model.safetensors, byte-level
// tokenizer.json) so that fault runs execute jobs on the real engine without a trained model.
import { join } from 'node:path';
import { initBackend } from '../../engine/backend.js';
import { parseModelConfig } from '../../engine/model/config.js';
import { BYTE_BOS_ID, BYTE_EOS_ID, BYTE_PAD_ID, buildByteLevelTokenizerConfig, buildByteLevelTokenizerJson } from '../../engine/model/tokenizer.js';
import { disposeParams, initParams, saveModel } from '../../engine/model/weights.js';

/** Model name the checkpoint serves (folder `<name>-base`: method none and the training-free baselines). */
export const TINY_MODEL = 'tiny';

/** Writes `<modelsDir>/tiny-base`: 2 layers, width 32, 4 query / 2 KV heads, context 512, random weights. */
export async function writeTinyModel(modelsDir: string, seed = 7): Promise<string> {
  await initBackend();
  const config = parseModelConfig({
    model_type: 'llama',
    vocab_size: 259,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    max_position_embeddings: 512,
    tie_word_embeddings: true,
    bos_token_id: BYTE_BOS_ID,
    eos_token_id: BYTE_EOS_ID,
    pad_token_id: BYTE_PAD_ID,
  });
  const params = initParams(config, seed);
  const dir = join(modelsDir, `${TINY_MODEL}-base`);
  saveModel(dir, params, { tokenizerJson: buildByteLevelTokenizerJson(), tokenizerConfig: buildByteLevelTokenizerConfig() });
  disposeParams(params);
  return dir;
}

// `tsx bench/reliability/tiny-model.ts DIR` writes it from the command line.
if (import.meta.url === `file://${process.argv[1]}`) {
  writeTinyModel(process.argv[2] ?? 'tmp/tiny-models').then((dir) => console.log(dir));
}
