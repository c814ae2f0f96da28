// The typed model configuration: parsed from (and written back to) an HF-style config.json.
// Covers Llama, Qwen2 (qkv bias) and Qwen3 (per-head q/k RMSNorm), plus our `dms` block.

/** Which family the checkpoint belongs to; decides bias and q/k-norm defaults. */
export type Architecture = 'llama' | 'qwen2' | 'qwen3';

/** RoPE frequency scaling, as in HF `rope_scaling`; null means plain RoPE. */
export type RopeScaling =
  | null
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

/** The DMS eviction predictor (dms.md section 2). */
export interface DmsConfig {
  /** 'adapter': new RMSNorm + linear d -> K on the residual; 'neuron': last dim of each group's first q head. */
  mode: 'adapter' | 'neuron';
  /** Sliding window w: an evicted key stays visible for w more steps (w+1 keys always visible). */
  window: number;
  /** Logit scale: logit = scale * s - offset (100 in the paper). */
  scale: number;
  /** Logit offset (5 in the paper): at s = 0 every token is kept. */
  offset: number;
  /** The compression ratio the checkpoint was trained for (informational). */
  ratio: number;
}

export interface ModelConfig {
  /** Model family (from `model_type` / `architectures`). */
  architecture: Architecture;
  /** Vocabulary size V. */
  vocabSize: number;
  /** Residual width d. */
  hiddenSize: number;
  /** SwiGLU inner width I. */
  intermediateSize: number;
  /** Number of decoder layers L. */
  numLayers: number;
  /** Number of query heads H. */
  numHeads: number;
  /** Number of KV heads K (H is a multiple of K: grouped-query attention). */
  numKvHeads: number;
  /** Per-head width D (default hidden / heads). */
  headDim: number;
  /** RMSNorm epsilon. */
  rmsNormEps: number;
  /** RoPE base theta. */
  ropeTheta: number;
  /** RoPE frequency scaling or null. */
  ropeScaling: RopeScaling;
  /** Fraction of each head's dims that are rotated (the rest pass through). */
  partialRotaryFactor: number;
  /** Longest context the model supports. */
  maxPositionEmbeddings: number;
  /** lm_head shares the embedding matrix. */
  tieWordEmbeddings: boolean;
  /** q/k/v projections have a bias (Qwen2 always; Llama/Qwen3 when attention_bias). */
  attentionBias: boolean;
  /** o_proj has a bias (Llama/Qwen3 when attention_bias; never Qwen2). */
  outputBias: boolean;
  /** Per-head RMSNorm on q and k before RoPE (Qwen3). */
  qkNorm: boolean;
  /** Beginning-of-sequence token id, or null. */
  bosTokenId: number | null;
  /** End-of-sequence token ids (HF allows one or a list). */
  eosTokenIds: number[];
  /** Padding token id, or null. */
  padTokenId: number | null;
  /** DMS predictor, or null for a vanilla model. */
  dms: DmsConfig | null;
}

type Json = Record<string, unknown>;

function fail(msg: string): never {
  throw new Error(`config.json: ${msg}`);
}

function num(json: Json, key: string, fallback?: number): number {
  const v = json[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    fail(`missing required field "${key}"`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`field "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function posInt(json: Json, key: string, fallback?: number): number {
  const v = num(json, key, fallback);
  if (!Number.isInteger(v) || v <= 0) fail(`field "${key}" must be a positive integer, got ${v}`);
  return v;
}

function optId(v: unknown, key: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`field "${key}" must be a token id`);
  return v;
}

function detectArchitecture(json: Json): Architecture {
  const type = typeof json.model_type === 'string' ? json.model_type : '';
  const archs = Array.isArray(json.architectures) ? (json.architectures as unknown[]).map(String) : [];
  const known: Record<string, Architecture> = {
    llama: 'llama',
    LlamaForCausalLM: 'llama',
    qwen2: 'qwen2',
    Qwen2ForCausalLM: 'qwen2',
    qwen3: 'qwen3',
    Qwen3ForCausalLM: 'qwen3',
  };
  const hit = known[type] ?? archs.map((a) => known[a]).find((a) => a !== undefined);
  if (!hit)
    fail(
      `unknown architecture (model_type ${JSON.stringify(json.model_type)}, architectures ${JSON.stringify(json.architectures)}); supported: llama, qwen2, qwen3`,
    );
  return hit;
}

function parseRopeScaling(v: unknown): RopeScaling {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object') fail('rope_scaling must be an object or null');
  const rs = v as Json;
  const type = String(rs.rope_type ?? rs.type ?? 'default');
  if (type === 'default') return null;
  if (type === 'linear') return { type: 'linear', factor: num(rs, 'factor') };
  if (type === 'llama3') {
    return {
      type: 'llama3',
      factor: num(rs, 'factor'),
      lowFreqFactor: num(rs, 'low_freq_factor'),
      highFreqFactor: num(rs, 'high_freq_factor'),
      originalMaxPositionEmbeddings: posInt(rs, 'original_max_position_embeddings'),
    };
  }
  fail(`unsupported rope_scaling type "${type}" (supported: linear, llama3)`);
}

function parseDms(v: unknown): DmsConfig | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object') fail('dms must be an object or null');
  const d = v as Json;
  if (d.mode !== 'adapter' && d.mode !== 'neuron') fail(`dms.mode must be "adapter" or "neuron", got ${JSON.stringify(d.mode)}`);
  const window = num(d, 'window', 16);
  if (!Number.isInteger(window) || window < 0) fail(`dms.window must be an integer >= 0, got ${window}`);
  return { mode: d.mode, window, scale: num(d, 'scale', 100), offset: num(d, 'offset', 5), ratio: num(d, 'ratio', 1) };
}

/** Parses an HF config.json object; throws a clear Error on unknown or inconsistent fields. */
export function parseModelConfig(json: unknown): ModelConfig {
  if (typeof json !== 'object' || json === null) fail('not a JSON object');
  const j = json as Json;
  const architecture = detectArchitecture(j);
  const hiddenSize = posInt(j, 'hidden_size');
  const numHeads = posInt(j, 'num_attention_heads');
  const numKvHeads = posInt(j, 'num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) fail(`num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  if (j.head_dim === undefined && hiddenSize % numHeads !== 0)
    fail(`hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads}) and head_dim is not given`);
  const headDim = posInt(j, 'head_dim', Math.floor(hiddenSize / numHeads));
  const partialRotaryFactor = num(j, 'partial_rotary_factor', 1);
  if (!(partialRotaryFactor > 0 && partialRotaryFactor <= 1)) fail(`partial_rotary_factor must be in (0, 1], got ${partialRotaryFactor}`);
  const rotary = Math.floor(headDim * partialRotaryFactor);
  if (rotary % 2 !== 0) fail(`rotary dims (head_dim * partial_rotary_factor = ${rotary}) must be even`);
  if (j.use_sliding_window === true) fail('use_sliding_window=true is not supported');
  const bias = j.attention_bias === true;
  const eos = j.eos_token_id;
  const eosTokenIds = Array.isArray(eos)
    ? eos.map((e, i) => optId(e, `eos_token_id[${i}]`) as number)
    : eos == null
      ? []
      : [optId(eos, 'eos_token_id') as number];
  const cfg: ModelConfig = {
    architecture,
    vocabSize: posInt(j, 'vocab_size'),
    hiddenSize,
    intermediateSize: posInt(j, 'intermediate_size'),
    numLayers: posInt(j, 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: num(j, 'rms_norm_eps', 1e-6),
    ropeTheta: num(j, 'rope_theta', 10000),
    ropeScaling: parseRopeScaling(j.rope_scaling),
    partialRotaryFactor,
    maxPositionEmbeddings: posInt(j, 'max_position_embeddings', 2048),
    tieWordEmbeddings: j.tie_word_embeddings === true,
    attentionBias: architecture === 'qwen2' ? true : bias,
    outputBias: architecture === 'qwen2' ? false : bias,
    qkNorm: architecture === 'qwen3',
    bosTokenId: optId(j.bos_token_id, 'bos_token_id'),
    eosTokenIds,
    padTokenId: optId(j.pad_token_id, 'pad_token_id'),
    dms: parseDms(j.dms),
  };
  for (const [k, id] of [['bos_token_id', cfg.bosTokenId], ['pad_token_id', cfg.padTokenId], ...cfg.eosTokenIds.map((e) => ['eos_token_id', e])] as [
    string,
    number | null,
  ][]) {
    if (id !== null && id >= cfg.vocabSize) fail(`${k} ${id} is outside the vocabulary (vocab_size ${cfg.vocabSize})`);
  }
  if (cfg.dms?.mode === 'neuron' && rotary === headDim && headDim < 2) fail('dms neuron mode needs head_dim >= 2');
  return cfg;
}

/** Serialises a config back to HF config.json fields (round-trips through parseModelConfig). */
export function modelConfigToJson(cfg: ModelConfig): Record<string, unknown> {
  const names = { llama: ['llama', 'LlamaForCausalLM'], qwen2: ['qwen2', 'Qwen2ForCausalLM'], qwen3: ['qwen3', 'Qwen3ForCausalLM'] }[cfg.architecture];
  const rs = cfg.ropeScaling;
  const out: Record<string, unknown> = {
    architectures: [names[1]],
    model_type: names[0],
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    num_key_value_heads: cfg.numKvHeads,
    head_dim: cfg.headDim,
    hidden_act: 'silu',
    rms_norm_eps: cfg.rmsNormEps,
    rope_theta: cfg.ropeTheta,
    rope_scaling:
      rs === null
        ? null
        : rs.type === 'linear'
          ? { rope_type: 'linear', factor: rs.factor }
          : {
              rope_type: 'llama3',
              factor: rs.factor,
              low_freq_factor: rs.lowFreqFactor,
              high_freq_factor: rs.highFreqFactor,
              original_max_position_embeddings: rs.originalMaxPositionEmbeddings,
            },
    partial_rotary_factor: cfg.partialRotaryFactor,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    bos_token_id: cfg.bosTokenId,
    eos_token_id: cfg.eosTokenIds.length === 1 ? cfg.eosTokenIds[0] : cfg.eosTokenIds,
    pad_token_id: cfg.padTokenId,
    torch_dtype: 'float32',
  };
  if (cfg.architecture !== 'qwen2') out.attention_bias = cfg.attentionBias;
  if (cfg.architecture !== 'qwen2' && cfg.attentionBias !== cfg.outputBias) fail('attention_bias on q/k/v without o_proj bias is only expressible for qwen2');
  if (cfg.dms) out.dms = { ...cfg.dms };
  return out;
}

/** Number of rotated dims per head (even). */
export function rotaryDims(cfg: ModelConfig): number {
  return Math.floor(cfg.headDim * cfg.partialRotaryFactor);
}
