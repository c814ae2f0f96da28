// The shipped reasoner's model shape as a typed config (HF config.json fields via parseModelConfig).
// Llama-style: GQA, RMSNorm, half-rotary RoPE, SwiGLU, byte-level vocabulary of 259 ids.
import { parseModelConfig, type ModelConfig } from '../model/config.js';
import { BYTE_BOS_ID, BYTE_EOS_ID, BYTE_PAD_ID } from '../model/tokenizer.js';

/** The shipped reasoner's shape: Llama-style, GQA 4/2, head dim 32, half-rotary RoPE, byte vocabulary. */
export function reasonerConfig(overrides: { hidden?: number; layers?: number; intermediate?: number; maxPositions?: number } = {}): ModelConfig {
  const hidden = overrides.hidden ?? 128;
  return parseModelConfig({
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: 259,
    hidden_size: hidden,
    intermediate_size: overrides.intermediate ?? 4 * hidden,
    num_hidden_layers: overrides.layers ?? 4,
    num_attention_heads: hidden / 32,
    num_key_value_heads: hidden / 64,
    head_dim: 32,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    partial_rotary_factor: 0.5,
    max_position_embeddings: overrides.maxPositions ?? 1024,
    tie_word_embeddings: false,
    bos_token_id: BYTE_BOS_ID,
    eos_token_id: BYTE_EOS_ID,
    pad_token_id: BYTE_PAD_ID,
  });
}
