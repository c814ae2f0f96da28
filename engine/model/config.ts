// The typed model configuration: parsed from (and written back to) an HF-style config.json.
// Covers Llama, Qwen2 (qkv bias) and Qwen3 (per-head q/k RMSNorm), plus DMS in either format.
import { type DmsConfig, dmsToJson, parseDms } from './dms-config.js';
import { parseRopeScaling, type RopeScaling, ropeScalingToJson } from './rope-scaling.js';
import { checkImplemented } from './config-checks.js';

export type { DmsConfig } from './dms-config.js';
export type { RopeScaling } from './rope-scaling.js';

/** Which family the checkpoint belongs to; decides bias and q/k-norm defaults. */
export type Architecture = 'llama' | 'qwen2' | 'qwen3';

/** The MLP's activation of the gate (HF `hidden_act`; swish and gelu_new are the same functions). */
export type HiddenAct = 'silu' | 'gelu_pytorch_tanh';

export interface ModelConfig {
  /** Model family (from `model_type` / `architectures`). */
  architecture: Architecture;
  /** Vocabulary size V. */
  vocabSize: number;
  /** Residual width d. */
  hiddenSize: number;
  /** Gated-MLP inner width I. */
  intermediateSize: number;
  /** Activation of the gate: act(gate) * up (SiLU for Llama/Qwen; tanh-approximated GELU e.g. for Gemma-style retrofits). */
  hiddenAct: HiddenAct;
  /** gate/up/down projections have biases (Llama `mlp_bias`; never Qwen2/Qwen3, whose MLP has none). */
  mlpBias: boolean;
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
  /** RoPE frequency scaling (linear, llama3, yarn, dynamic) or null. */
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

const MODEL_TYPES: Record<string, Architecture> = { llama: 'llama', qwen2: 'qwen2', qwen3: 'qwen3' };
const CAUSAL_LM: Record<string, Architecture> = { LlamaForCausalLM: 'llama', Qwen2ForCausalLM: 'qwen2', Qwen3ForCausalLM: 'qwen3' };

/** model_type decides; every listed architecture must be that family's causal LM (NVIDIA's `...DMS` classes included). */
function detectArchitecture(json: Json): Architecture {
  const archs = Array.isArray(json.architectures) ? (json.architectures as unknown[]).map(String) : [];
  const ofArch = (a: string) => CAUSAL_LM[a.replace(/DMS$/, '')];
  const type = json.model_type;
  const hit = type === undefined || type === null ? archs.map(ofArch).find((a) => a !== undefined) : MODEL_TYPES[String(type)];
  if (!hit)
    fail(
      `unknown architecture (model_type ${JSON.stringify(json.model_type)}, architectures ${JSON.stringify(json.architectures)}); implemented: llama, qwen2, qwen3 causal LMs`,
    );
  for (const a of archs) {
    if (ofArch(a) !== hit) fail(`architectures lists "${a}", which is not the ${hit} causal LM (not implemented)`);
  }
  return hit;
}

function parseHiddenAct(v: unknown): HiddenAct {
  if (v === undefined || v === null || v === 'silu' || v === 'swish') return 'silu';
  if (v === 'gelu_pytorch_tanh' || v === 'gelu_new') return 'gelu_pytorch_tanh';
  fail(`hidden_act ${JSON.stringify(v)} is not implemented (implemented: silu, swish, gelu_pytorch_tanh, gelu_new)`);
}

/** RoPE base and scaling: transformers v5 nests both in `rope_parameters`, older configs use rope_theta + rope_scaling. */
function parseRope(j: Json, maxPositions: number): { theta: number; scaling: RopeScaling } {
  const rp = j.rope_parameters;
  if (rp !== undefined && rp !== null) {
    if (typeof rp !== 'object') fail('rope_parameters must be an object');
    const { rope_theta, ...rest } = rp as Json;
    return { theta: num({ rope_theta }, 'rope_theta', 10000), scaling: parseRopeScaling(rest, maxPositions) };
  }
  return { theta: num(j, 'rope_theta', 10000), scaling: parseRopeScaling(j.rope_scaling, maxPositions) };
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
  if (j.head_dim == null && architecture !== 'qwen3' && hiddenSize % numHeads !== 0)
    fail(`hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads}) and head_dim is not given`);
  // transformers' Qwen3Config defaults head_dim to 128, whatever hidden_size / heads is; Llama/Qwen2 derive it.
  const headDim = posInt(j, 'head_dim', architecture === 'qwen3' ? 128 : Math.floor(hiddenSize / numHeads));
  const partialRotaryFactor = num(j, 'partial_rotary_factor', 1);
  if (!(partialRotaryFactor > 0 && partialRotaryFactor <= 1)) fail(`partial_rotary_factor must be in (0, 1], got ${partialRotaryFactor}`);
  const rotary = Math.floor(headDim * partialRotaryFactor);
  if (rotary % 2 !== 0) fail(`rotary dims (head_dim * partial_rotary_factor = ${rotary}) must be even`);
  checkImplemented(j, architecture);
  const bias = j.attention_bias === true;
  const maxPositionEmbeddings = posInt(j, 'max_position_embeddings', architecture === 'llama' ? 2048 : 32768);
  const rope = parseRope(j, maxPositionEmbeddings);
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
    hiddenAct: parseHiddenAct(j.hidden_act),
    // Only Llama's MLP reads mlp_bias; Qwen2/Qwen3 build theirs without biases whatever the config says.
    mlpBias: architecture === 'llama' && j.mlp_bias === true,
    numLayers: posInt(j, 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: num(j, 'rms_norm_eps', 1e-6),
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    partialRotaryFactor,
    maxPositionEmbeddings,
    tieWordEmbeddings: j.tie_word_embeddings === true,
    attentionBias: architecture === 'qwen2' ? true : bias,
    outputBias: architecture === 'qwen2' ? false : bias,
    qkNorm: architecture === 'qwen3',
    bosTokenId: optId(j.bos_token_id, 'bos_token_id'),
    eosTokenIds,
    padTokenId: optId(j.pad_token_id, 'pad_token_id'),
    dms: parseDms(j, bias),
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
    hidden_act: cfg.hiddenAct,
    rms_norm_eps: cfg.rmsNormEps,
    rope_theta: cfg.ropeTheta,
    rope_scaling: ropeScalingToJson(cfg.ropeScaling),
    partial_rotary_factor: cfg.partialRotaryFactor,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    bos_token_id: cfg.bosTokenId,
    eos_token_id: cfg.eosTokenIds.length === 1 ? cfg.eosTokenIds[0] : cfg.eosTokenIds,
    pad_token_id: cfg.padTokenId,
    torch_dtype: 'float32',
  };
  if (cfg.architecture !== 'qwen2') out.attention_bias = cfg.attentionBias;
  if (cfg.architecture === 'llama') out.mlp_bias = cfg.mlpBias;
  else if (cfg.mlpBias) fail(`mlp biases are only expressible for llama (${cfg.architecture} has none)`);
  if (cfg.architecture !== 'qwen2' && cfg.attentionBias !== cfg.outputBias) fail('attention_bias on q/k/v without o_proj bias is only expressible for qwen2');
  if (cfg.dms) Object.assign(out, dmsToJson(cfg.dms));
  return out;
}

/** Number of rotated dims per head (even). */
export function rotaryDims(cfg: ModelConfig): number {
  return Math.floor(cfg.headDim * cfg.partialRotaryFactor);
}
