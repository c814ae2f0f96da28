// Strict loading, config side: the config.json values that would change what the model computes
// and that the engine does not implement are refused by name, never silently run as something else.

type Json = Record<string, unknown>;

function fail(msg: string): never {
  throw new Error(`config.json: ${msg}`);
}

/** Layer types transformers' Qwen2/Qwen3 list per layer; only full attention is implemented. */
function checkLayerTypes(v: unknown): void {
  if (v === undefined || v === null) return;
  if (!Array.isArray(v)) fail('layer_types must be a list');
  v.forEach((t, i) => {
    if (t !== 'full_attention')
      fail(`layer_types[${i}] is ${JSON.stringify(t)}: only full_attention layers are implemented (no sliding-window or hybrid layers)`);
  });
}

/**
 * Throws naming the first field whose value the engine does not implement. Fields that do not change
 * the forward pass (dtype, use_cache, initializer_range, dropout at inference, ...) are left alone.
 */
export function checkImplemented(j: Json, architecture: 'llama' | 'qwen2' | 'qwen3'): void {
  if (j.quantization_config !== undefined && j.quantization_config !== null)
    fail('quantization_config is present: quantized checkpoints are not implemented (f32, f16 and bf16 weights are)');
  if (architecture !== 'llama' && j.use_sliding_window === true)
    fail(`use_sliding_window is true: sliding-window attention layers are not implemented (sliding_window ${JSON.stringify(j.sliding_window)})`);
  checkLayerTypes(j.layer_types);
  if (j.attn_logit_softcapping != null || j.final_logit_softcapping != null) fail('logit soft-capping is not implemented');
  if (j.use_qk_norm === true && architecture !== 'qwen3') fail('use_qk_norm is true: q/k norm outside Qwen3 is not implemented');
  if (j.rope_scaling != null && j.rope_parameters != null) fail('both rope_scaling and rope_parameters are present; keep one');
}
