// Model parameters: typed tensors per role, deterministic init, HF tensor-name mapping with shape
// checks, and loading/saving an HF-style folder (config.json + model.safetensors + tokenizer.json).
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ModelConfig, modelConfigToJson } from './config.js';
import { releaseDerived } from './derived-resources.js';
import { writeSafetensors } from './safetensors.js';
import type { Tokenizer } from './tokenizer.js';
import type { DeviceOnlyWeights, ModelWeights } from './weight-source.js';

/**
 * One decoder layer. Projection matrices are stored [in, out] (HF's [out, in] transposed) so that
 * x[N, in] @ W is a 2-D matMul without transpose flags: the fast path on wasm.
 */
export interface LayerParams {
  inputNorm: tf.Tensor1D; // [d]
  qProj: tf.Tensor2D; // [d, H*D]
  kProj: tf.Tensor2D; // [d, K*D]
  vProj: tf.Tensor2D; // [d, K*D]
  oProj: tf.Tensor2D; // [H*D, d]
  qBias: tf.Tensor1D | null; // [H*D] (attentionBias)
  kBias: tf.Tensor1D | null; // [K*D]
  vBias: tf.Tensor1D | null; // [K*D]
  oBias: tf.Tensor1D | null; // [d] (outputBias)
  qNorm: tf.Tensor1D | null; // [D] (qkNorm, Qwen3)
  kNorm: tf.Tensor1D | null; // [D]
  postNorm: tf.Tensor1D; // [d]
  gate: tf.Tensor2D; // [d, I]
  up: tf.Tensor2D; // [d, I]
  down: tf.Tensor2D; // [I, d]
  gateBias: tf.Tensor1D | null; // [I] (mlpBias)
  upBias: tf.Tensor1D | null; // [I]
  downBias: tf.Tensor1D | null; // [d]
  dmsNorm: tf.Tensor1D | null; // [d] (dms adapter mode)
  dmsProj: tf.Tensor2D | null; // [d, K] (dms adapter mode; HF dms_proj.weight is [K, d])
  dmsBias: tf.Tensor1D | null; // [K] (NVIDIA adapter with attention_bias)
}

export interface LlamaParams {
  config: ModelConfig;
  embed: tf.Tensor2D; // [V, d]
  layers: LayerParams[];
  finalNorm: tf.Tensor1D; // [d]
  lmHead: tf.Tensor2D | null; // [d, V]; null when tied to embed
}

export type Role = keyof LayerParams;
interface RoleSpec {
  role: Role;
  /** Tensor name inside model.layers.N (the project's spelling). */
  hf: string;
  /** NVIDIA Model-Optimizer's spelling, where it differs. */
  nvidia?: string;
  shape: (c: ModelConfig) => number[];
  transposed: boolean;
  present: (c: ModelConfig) => boolean;
}

const always = () => true;
export const LAYER_ROLES: RoleSpec[] = [
  { role: 'inputNorm', hf: 'input_layernorm.weight', shape: (c) => [c.hiddenSize], transposed: false, present: always },
  { role: 'qProj', hf: 'self_attn.q_proj.weight', shape: (c) => [c.hiddenSize, c.numHeads * c.headDim], transposed: true, present: always },
  { role: 'kProj', hf: 'self_attn.k_proj.weight', shape: (c) => [c.hiddenSize, c.numKvHeads * c.headDim], transposed: true, present: always },
  { role: 'vProj', hf: 'self_attn.v_proj.weight', shape: (c) => [c.hiddenSize, c.numKvHeads * c.headDim], transposed: true, present: always },
  { role: 'oProj', hf: 'self_attn.o_proj.weight', shape: (c) => [c.numHeads * c.headDim, c.hiddenSize], transposed: true, present: always },
  { role: 'qBias', hf: 'self_attn.q_proj.bias', shape: (c) => [c.numHeads * c.headDim], transposed: false, present: (c) => c.attentionBias },
  { role: 'kBias', hf: 'self_attn.k_proj.bias', shape: (c) => [c.numKvHeads * c.headDim], transposed: false, present: (c) => c.attentionBias },
  { role: 'vBias', hf: 'self_attn.v_proj.bias', shape: (c) => [c.numKvHeads * c.headDim], transposed: false, present: (c) => c.attentionBias },
  { role: 'oBias', hf: 'self_attn.o_proj.bias', shape: (c) => [c.hiddenSize], transposed: false, present: (c) => c.outputBias },
  { role: 'qNorm', hf: 'self_attn.q_norm.weight', shape: (c) => [c.headDim], transposed: false, present: (c) => c.qkNorm },
  { role: 'kNorm', hf: 'self_attn.k_norm.weight', shape: (c) => [c.headDim], transposed: false, present: (c) => c.qkNorm },
  { role: 'postNorm', hf: 'post_attention_layernorm.weight', shape: (c) => [c.hiddenSize], transposed: false, present: always },
  { role: 'gate', hf: 'mlp.gate_proj.weight', shape: (c) => [c.hiddenSize, c.intermediateSize], transposed: true, present: always },
  { role: 'up', hf: 'mlp.up_proj.weight', shape: (c) => [c.hiddenSize, c.intermediateSize], transposed: true, present: always },
  { role: 'down', hf: 'mlp.down_proj.weight', shape: (c) => [c.intermediateSize, c.hiddenSize], transposed: true, present: always },
  { role: 'gateBias', hf: 'mlp.gate_proj.bias', shape: (c) => [c.intermediateSize], transposed: false, present: (c) => c.mlpBias },
  { role: 'upBias', hf: 'mlp.up_proj.bias', shape: (c) => [c.intermediateSize], transposed: false, present: (c) => c.mlpBias },
  { role: 'downBias', hf: 'mlp.down_proj.bias', shape: (c) => [c.hiddenSize], transposed: false, present: (c) => c.mlpBias },
  {
    role: 'dmsNorm',
    hf: 'self_attn.dms_norm.weight',
    nvidia: 'self_attn.dms_proj_alpha_norm.weight',
    shape: (c) => [c.hiddenSize],
    transposed: false,
    present: (c) => c.dms?.mode === 'adapter',
  },
  {
    role: 'dmsProj',
    hf: 'self_attn.dms_proj.weight',
    nvidia: 'self_attn.dms_proj_alpha.weight',
    shape: (c) => [c.hiddenSize, c.numKvHeads],
    transposed: true,
    present: (c) => c.dms?.mode === 'adapter',
  },
  {
    role: 'dmsBias',
    hf: 'self_attn.dms_proj.bias',
    nvidia: 'self_attn.dms_proj_alpha.bias',
    shape: (c) => [c.numKvHeads],
    transposed: false,
    present: (c) => c.dms?.mode === 'adapter' && c.dms.adapterBias,
  },
];

/** A layer tensor's full name in the checkpoint, in the spelling of the config's DMS format. */
export function layerTensorName(cfg: ModelConfig, i: number, spec: RoleSpec): string {
  return `model.layers.${i}.${cfg.dms?.format === 'nvidia' && spec.nvidia ? spec.nvidia : spec.hf}`;
}

const NORM_ROLES = new Set<Role>(['inputNorm', 'postNorm', 'qNorm', 'kNorm', 'dmsNorm']);
const ZERO_ROLES = new Set<Role>(['qBias', 'kBias', 'vBias', 'oBias', 'gateBias', 'upBias', 'downBias', 'dmsProj', 'dmsBias']);

/** The std of initParams' random tensors (the embedding, the lm head, and every layer matrix but the residual outputs). */
export const INIT_STD = 0.02;

/**
 * How initParams fills a layer tensor of `role`: unit norms, zero biases and DMS projection (logit =
 * -offset at step 0), else normal(0, std) with the residual outputs (o_proj, down) scaled by 1/sqrt(2L).
 * Other random inits (the webgpu bench's large shapes) follow the same rule.
 */
export function initFill(cfg: ModelConfig, role: Role): { kind: 'one' } | { kind: 'zero' } | { kind: 'random'; std: number } {
  if (NORM_ROLES.has(role)) return { kind: 'one' };
  if (ZERO_ROLES.has(role)) return { kind: 'zero' };
  return { kind: 'random', std: role === 'oProj' || role === 'down' ? INIT_STD / Math.sqrt(2 * cfg.numLayers) : INIT_STD };
}

/** Deterministic random init: normal(0, 0.02) weights (residual outputs scaled by 1/sqrt(2L)), unit norms, zero biases and zero DMS projection (initFill). */
export function initParams(cfg: ModelConfig, seed = 0): LlamaParams {
  let n = 0;
  const normal = (shape: number[], std: number) => tf.randomNormal(shape, 0, std, 'float32', seed * 1000 + n++);
  const layers = Array.from({ length: cfg.numLayers }, () => {
    const layer = {} as Record<Role, tf.Tensor | null>;
    for (const spec of LAYER_ROLES) {
      if (!spec.present(cfg)) {
        layer[spec.role] = null;
        continue;
      }
      const shape = spec.shape(cfg);
      const fill = initFill(cfg, spec.role);
      layer[spec.role] = fill.kind === 'one' ? tf.ones(shape) : fill.kind === 'zero' ? tf.zeros(shape) : normal(shape, fill.std);
    }
    return layer as unknown as LayerParams;
  });
  return {
    config: cfg,
    embed: normal([cfg.vocabSize, cfg.hiddenSize], INIT_STD) as tf.Tensor2D,
    layers,
    finalNorm: tf.ones([cfg.hiddenSize]),
    lmHead: cfg.tieWordEmbeddings ? null : (normal([cfg.hiddenSize, cfg.vocabSize], INIT_STD) as tf.Tensor2D),
  };
}

function checkedTensor(map: Map<string, { shape: number[]; data: Float32Array }>, name: string, shape: number[], transposed: boolean): tf.Tensor {
  const t = map.get(name);
  if (!t) throw new Error(`checkpoint: missing tensor "${name}" (expected shape [${transposed ? [...shape].reverse() : shape}])`);
  const want = transposed ? [shape[1], shape[0]] : shape;
  if (t.shape.length !== want.length || t.shape.some((s, i) => s !== want[i])) {
    throw new Error(`checkpoint: tensor "${name}" has shape [${t.shape}] but the config needs [${want}]`);
  }
  const raw = tf.tensor(t.data, want, 'float32');
  if (!transposed) return raw;
  const out = tf.transpose(raw);
  raw.dispose();
  return out;
}

/** Builds params from HF-named tensors (as read by readSafetensors); errors name the tensor and both shapes. */
export function paramsFromNamed(cfg: ModelConfig, map: Map<string, { shape: number[]; data: Float32Array }>): LlamaParams {
  const made: tf.Tensor[] = [];
  try {
    const take = (name: string, shape: number[], transposed: boolean) => {
      const t = checkedTensor(map, name, shape, transposed);
      made.push(t);
      return t;
    };
    const layers = Array.from({ length: cfg.numLayers }, (_, i) => {
      const layer = {} as Record<Role, tf.Tensor | null>;
      for (const spec of LAYER_ROLES) {
        layer[spec.role] = spec.present(cfg) ? take(layerTensorName(cfg, i, spec), spec.shape(cfg), spec.transposed) : null;
      }
      return layer as unknown as LayerParams;
    });
    const tied = cfg.tieWordEmbeddings || !map.has('lm_head.weight');
    if (!cfg.tieWordEmbeddings && tied) throw new Error('checkpoint: missing tensor "lm_head.weight" and tie_word_embeddings is false');
    return {
      config: cfg,
      embed: take('model.embed_tokens.weight', [cfg.vocabSize, cfg.hiddenSize], false) as tf.Tensor2D,
      layers,
      finalNorm: take('model.norm.weight', [cfg.hiddenSize], false) as tf.Tensor1D,
      lmHead: tied ? null : (take('lm_head.weight', [cfg.hiddenSize, cfg.vocabSize], true) as tf.Tensor2D),
    };
  } catch (err) {
    for (const t of made) t.dispose();
    throw err;
  }
}

/** HF-named float32 tensors ([out, in] layout) for saving. */
export function paramsToNamed(params: LlamaParams): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const put = (name: string, t: tf.Tensor, transposed: boolean) => {
    const v = transposed ? tf.tidy(() => tf.transpose(t)) : t;
    out.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
    if (v !== t) v.dispose();
  };
  put('model.embed_tokens.weight', params.embed, false);
  params.layers.forEach((layer, i) => {
    for (const spec of LAYER_ROLES) {
      const t = layer[spec.role];
      if (t) put(layerTensorName(params.config, i, spec), t, spec.transposed);
    }
  });
  put('model.norm.weight', params.finalNorm, false);
  if (params.lmHead) put('lm_head.weight', params.lmHead, true);
  return out;
}

/** Every tensor of the params (for variables, optimizers and disposal). */
export function listParams(params: LlamaParams): tf.Tensor[] {
  const out: tf.Tensor[] = [params.embed, params.finalNorm];
  if (params.lmHead) out.push(params.lmHead);
  for (const layer of params.layers) for (const spec of LAYER_ROLES) if (layer[spec.role]) out.push(layer[spec.role]!);
  return out;
}

/** A copy of params with every tensor mapped (e.g. to tf.variable for training). */
export function mapParams(params: LlamaParams, fn: (t: tf.Tensor, name: string) => tf.Tensor): LlamaParams {
  const layers = params.layers.map((layer, i) => {
    const next = {} as Record<Role, tf.Tensor | null>;
    for (const spec of LAYER_ROLES) next[spec.role] = layer[spec.role] ? fn(layer[spec.role]!, layerTensorName(params.config, i, spec)) : null;
    return next as unknown as LayerParams;
  });
  return {
    config: params.config,
    embed: fn(params.embed, 'model.embed_tokens.weight') as tf.Tensor2D,
    layers,
    finalNorm: fn(params.finalNorm, 'model.norm.weight') as tf.Tensor1D,
    lmHead: params.lmHead ? (fn(params.lmHead, 'lm_head.weight') as tf.Tensor2D) : null,
  };
}

/** Frees the tensors and every backend copy derived from them (resident device weights). */
export function disposeParams(params: LlamaParams): void {
  releaseDerived(params);
  for (const t of listParams(params)) t.dispose();
}

/** A model ready for inference: config, weights and tokenizer; dispose() frees the tensors and device copies. */
export interface LoadedModel {
  dir: string | null;
  config: ModelConfig;
  /** The tfjs params (forwardDense, training, the wasm executor); throws on a device-only (webgpu) load. */
  params: LlamaParams;
  /** What executors build from: the params, or the device-only weights of a webgpu load. */
  weights: ModelWeights;
  tokenizer: Tokenizer;
  dispose(): void;
}

/** A model whose weights are on the webgpu device only: `params` throws naming what to do instead. */
export function deviceOnlyModel(dir: string, weights: DeviceOnlyWeights, tokenizer: Tokenizer): LoadedModel {
  return {
    dir,
    config: weights.config,
    get params(): LlamaParams {
      throw new Error(
        `model ${dir} was loaded for the webgpu backend: its weights are on the device only (no tfjs tensors), so forwardDense, training and the wasm executor cannot use it; load it with loadModel(dir) for those`,
      );
    },
    weights,
    tokenizer,
    dispose: () => releaseDerived(weights),
  };
}

export { expectedTensors, loadModel, openCheckpoint } from './load-model.js';

/** Wraps in-memory params and a tokenizer as a LoadedModel (tests, training). */
export function modelFromParams(params: LlamaParams, tokenizer: Tokenizer): LoadedModel {
  return { dir: null, config: params.config, params, weights: params, tokenizer, dispose: () => disposeParams(params) };
}

/** Writes config.json, model.safetensors (F32, F16 or BF16) and tokenizer.json (+ tokenizer_config.json). */
export function saveModel(
  dir: string,
  params: LlamaParams,
  opts: { tokenizerJson: Record<string, unknown>; tokenizerConfig?: Record<string, unknown>; dtype?: 'F32' | 'F16' | 'BF16' },
): void {
  mkdirSync(dir, { recursive: true });
  const config = { ...modelConfigToJson(params.config), torch_dtype: opts.dtype === 'F16' ? 'float16' : opts.dtype === 'BF16' ? 'bfloat16' : 'float32' }; // the stored dtype, as HF writes it
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(paramsToNamed(params), opts.dtype ?? 'F32'));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(opts.tokenizerJson));
  if (opts.tokenizerConfig) writeFileSync(join(dir, 'tokenizer_config.json'), `${JSON.stringify(opts.tokenizerConfig, null, 2)}\n`);
}
