// The Llama/Qwen decoder in one file: embedding, RMSNorm, q/k/v with optional bias and q/k-norm,
// RoPE, the DMS eviction logit, grouped-query attention, gated MLP. Call inside tf.tidy (or variableGrads).
import * as tf from '@tensorflow/tfjs';
import { activate } from './activation.js';
import type { ModelConfig } from './config.js';
import { ropeTables } from './rope.js';
import type { LayerParams, LlamaParams } from './weights.js';

const NEG = -1e9; // additive mask value: exp() underflows to exactly 0

/** RMSNorm over the last axis: x * rsqrt(mean(x^2) + eps) * w. */
export function rmsNorm(x: tf.Tensor, w: tf.Tensor1D, eps: number): tf.Tensor {
  const ms = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w);
}

/** Embedding lookup with gather forward and a oneHot matMul gradient (gather has no gradient on wasm). */
export function embedTokens(embed: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const vocab = embed.shape[0];
  const f = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.gather(inputs[0] as tf.Tensor2D, ids) as tf.Tensor2D, // [N, d]
    gradFunc: (dy: tf.Tensor2D) => tf.matMul(tf.transpose(tf.oneHot(ids, vocab).toFloat()), dy), // [V, d] (explicit transpose: no flag)
  }));
  return f(embed);
}

/** Swaps the last two axes (materialised, so matMul runs without transpose flags). */
function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
  return tf.transpose(t, perm);
}

/**
 * a @ b (2-D or same-rank batched) whose gradient also avoids matMul's transpose flags: tfjs's own
 * gradient uses them, and on wasm a flagged matMul is up to 8x slower than transpose + matMul.
 */
const mmWithGrad = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const a = inputs[0] as tf.Tensor;
  const b = inputs[1] as tf.Tensor;
  const save = inputs[2] as tf.GradSaveFunc;
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, [sa, sb]: tf.Tensor[]) => [tf.matMul(dy, swapLast(sb)), tf.matMul(swapLast(sa), dy)],
  };
}) as <T extends tf.Tensor>(a: T, b: tf.Tensor) => T;

/** Matrix product: the custom-gradient version while a gradient tape records, plain matMul otherwise. */
export function mm<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  return tf.engine().isTapeOn() ? mmWithGrad(a, b) : (tf.matMul(a, b) as unknown as T);
}

/** x[N, in] @ W[in, out] (+ b): the 2-D fast path. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null = null): tf.Tensor2D {
  const y = mm(x, w); // [N, out]
  return b ? (tf.add(y, b) as tf.Tensor2D) : y;
}

/** Applies RoPE to x[N, nH, D] with per-row cos/sin [N, rot] (rot <= D; trailing dims pass through). */
export function applyRope(x: tf.Tensor3D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor3D {
  const [n, nh, d] = x.shape;
  const rot = cos.shape[1];
  const half = rot / 2;
  const c = tf.reshape(cos, [n, 1, rot]);
  const s = tf.reshape(sin, [n, 1, rot]);
  const x1 = tf.slice(x, [0, 0, 0], [n, nh, half]);
  const x2 = tf.slice(x, [0, 0, half], [n, nh, half]);
  const rotated = tf.concat([tf.neg(x2), x1], 2); // [N, nH, rot]
  const xr = rot === d ? x : tf.slice(x, [0, 0, 0], [n, nh, rot]);
  const out = tf.add(tf.mul(xr, c), tf.mul(rotated, s)) as tf.Tensor3D;
  return rot === d ? out : tf.concat([out, tf.slice(x, [0, 0, rot], [n, nh, d - rot])], 2);
}

/** Multiplier [H, D] that zeroes the last dim of each group's first query head (DMS neuron mode). */
function neuronMask(cfg: ModelConfig): tf.Tensor2D {
  const g = cfg.numHeads / cfg.numKvHeads;
  const m = new Float32Array(cfg.numHeads * cfg.headDim).fill(1);
  for (let k = 0; k < cfg.numKvHeads; k++) m[k * g * cfg.headDim + cfg.headDim - 1] = 0;
  return tf.tensor2d(m, [cfg.numHeads, cfg.headDim]);
}

export interface QkvOut {
  q: tf.Tensor3D; // [N, H, D] after norm, DMS zeroing and RoPE
  k: tf.Tensor3D; // [N, K, D] after norm and RoPE
  v: tf.Tensor3D; // [N, K, D]
  dmsLogit: tf.Tensor2D | null; // [N, K] raw scale*s - offset, null without DMS
}

/**
 * The attention input half of a layer for N tokens (flattened batch): x[N, d] is the residual.
 * cos/sin [N, rot] give each token's position; shared by the dense forward and the paged decode.
 */
export function projectQkv(cfg: ModelConfig, p: LayerParams, x: tf.Tensor2D, cos: tf.Tensor2D, sin: tf.Tensor2D): QkvOut {
  const n = x.shape[0];
  const { numHeads: H, numKvHeads: K, headDim: D } = cfg;
  const h = rmsNorm(x, p.inputNorm, cfg.rmsNormEps) as tf.Tensor2D; // [N, d]
  let q = tf.reshape(linear(h, p.qProj, p.qBias), [n, H, D]) as tf.Tensor3D;
  let k = tf.reshape(linear(h, p.kProj, p.kBias), [n, K, D]) as tf.Tensor3D;
  const v = tf.reshape(linear(h, p.vProj, p.vBias), [n, K, D]) as tf.Tensor3D;
  if (p.qNorm && p.kNorm) {
    q = rmsNorm(q, p.qNorm, cfg.rmsNormEps) as tf.Tensor3D;
    k = rmsNorm(k, p.kNorm, cfg.rmsNormEps) as tf.Tensor3D;
  }
  let dmsLogit: tf.Tensor2D | null = null;
  const dms = cfg.dms;
  if (dms?.mode === 'adapter') {
    const s = linear(rmsNorm(x, p.dmsNorm!, cfg.rmsNormEps) as tf.Tensor2D, p.dmsProj!, p.dmsBias); // [N, K]
    dmsLogit = tf.sub(tf.mul(s, dms.scale), dms.offset);
  } else if (dms?.mode === 'neuron') {
    const g = H / K;
    const s = tf.reshape(tf.slice(tf.reshape(q, [n, K, g, D]), [0, 0, 0, D - 1], [n, K, 1, 1]), [n, K]); // [N, K]
    dmsLogit = tf.sub(tf.mul(s, dms.scale), dms.offset);
    const mask = neuronMask(cfg); // [H, D]
    q = applyRope(tf.mul(q, mask), cos, sin);
    q = tf.mul(q, mask);
  }
  if (dms?.mode !== 'neuron') q = applyRope(q, cos, sin);
  k = applyRope(k, cos, sin);
  if (dmsLogit && dms?.alphaPer === 'layer') dmsLogit = tf.tile(tf.slice(dmsLogit, [0, 0], [n, 1]), [1, K]) as tf.Tensor2D; // KV head 0 decides for all
  if (dmsLogit && dms?.disableEviction) dmsLogit = tf.fill([n, K], -1000) as tf.Tensor2D;
  return { q, k, v, dmsLogit };
}

/** The rest of a layer: o_proj of the attention output [N, H*D], residual, gated MLP act(gate) * up, residual. */
export function finishLayer(cfg: ModelConfig, p: LayerParams, x: tf.Tensor2D, attn: tf.Tensor2D): tf.Tensor2D {
  const h = tf.add(x, linear(attn, p.oProj, p.oBias)) as tf.Tensor2D; // [N, d]
  const m = rmsNorm(h, p.postNorm, cfg.rmsNormEps) as tf.Tensor2D;
  const gate = linear(m, p.gate, p.gateBias); // [N, I]
  const act = tf.mul(activate(cfg.hiddenAct, gate), linear(m, p.up, p.upBias)) as tf.Tensor2D; // [N, I]
  return tf.add(h, linear(act, p.down, p.downBias)) as tf.Tensor2D;
}

/** Final norm and lm head: x[N, d] -> logits [N, V]. */
export function lmLogits(params: LlamaParams, x: tf.Tensor2D): tf.Tensor2D {
  const h = rmsNorm(x, params.finalNorm, params.config.rmsNormEps) as tf.Tensor2D;
  return mm(h, params.lmHead ?? tf.transpose(params.embed));
}

/** Causal mask [T, T]: 0 where key j <= query i, NEG above the diagonal. */
function causalMask(t: number): tf.Tensor2D {
  const m = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) m[i * t + j] = NEG;
  return tf.tensor2d(m, [t, t]);
}

export interface ForwardOptions {
  /** Extra additive attention bias per layer [B, K, T, T] (broadcast over each KV head's query group), or null. */
  attnBias?: (layer: number, dmsLogits: tf.Tensor3D) => tf.Tensor4D | null;
}

export interface ForwardOut {
  logits: tf.Tensor3D; // [B, T, V]
  dmsLogits: tf.Tensor3D[]; // per layer [B, T, K] (scale*s - offset); empty when the model has no DMS
}

/** Full-sequence forward pass (training, teacher forcing, the decisive test); differentiable on wasm. */
export function forwardDense(params: LlamaParams, ids: tf.Tensor2D, opts: ForwardOptions = {}): ForwardOut {
  const cfg = params.config;
  const [B, T] = ids.shape;
  const { numHeads: H, numKvHeads: K, headDim: D } = cfg;
  const G = H / K;
  const positions = Array.from({ length: B * T }, (_, i) => i % T);
  const rope = ropeTables(cfg, positions);
  const cos = tf.tensor2d(rope.cos, [B * T, rope.rot]);
  const sin = tf.tensor2d(rope.sin, [B * T, rope.rot]);
  const causal = causalMask(T);
  const scale = 1 / Math.sqrt(D);
  let x = embedTokens(params.embed, tf.reshape(ids, [B * T]) as tf.Tensor1D); // [B*T, d]
  const dmsLogits: tf.Tensor3D[] = [];
  params.layers.forEach((p, l) => {
    const { q, k, v, dmsLogit } = projectQkv(cfg, p, x, cos, sin);
    const lg = dmsLogit ? (tf.reshape(dmsLogit, [B, T, K]) as tf.Tensor3D) : null;
    if (lg) dmsLogits.push(lg);
    // Group queries per KV head: [B, K, G*T, D] against keys [B, K, D, T] (explicit transpose: faster than the flag).
    const qg = tf.reshape(tf.transpose(tf.reshape(q, [B, T, K, G, D]), [0, 2, 3, 1, 4]), [B, K, G * T, D]);
    const kt = tf.transpose(tf.reshape(k, [B, T, K, D]), [0, 2, 3, 1]); // [B, K, D, T]
    const vg = tf.transpose(tf.reshape(v, [B, T, K, D]), [0, 2, 1, 3]); // [B, K, T, D]
    let scores = tf.reshape(tf.mul(mm(qg, kt), scale), [B, K, G, T, T]); // [B, K, G, T, T]
    scores = tf.add(scores, causal);
    const bias = opts.attnBias ? opts.attnBias(l, lg ?? tf.zeros([B, T, K])) : null;
    if (bias) scores = tf.add(scores, tf.reshape(bias, [B, K, 1, T, T]));
    const probs = tf.reshape(tf.softmax(scores), [B, K, G * T, T]);
    const out = tf.reshape(mm(probs, vg), [B, K, G, T, D]); // [B, K, G, T, D]
    const attn = tf.reshape(tf.transpose(out, [0, 3, 1, 2, 4]), [B * T, H * D]) as tf.Tensor2D; // [B*T, H*D]
    x = finishLayer(cfg, p, x, attn);
  });
  const logits = tf.reshape(lmLogits(params, x), [B, T, cfg.vocabSize]) as tf.Tensor3D;
  return { logits, dmsLogits };
}

/**
 * The hard DMS attention bias (dms.md section 3) [B, K, T, T]: NEG where key j is evicted
 * (logit at j+1 > 0) and i - j > window; 0 elsewhere (causal masking is done by forwardDense).
 */
export function hardDmsBias(dmsLogits: tf.Tensor3D, window: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, T, K] = dmsLogits.shape;
    const next = tf.concat([tf.slice(dmsLogits, [0, 1, 0], [B, T - 1, K]), tf.fill([B, 1, K], -1)], 1); // [B, T, K]: logit of j+1
    const evict = tf.transpose(tf.cast(tf.greater(next, 0), 'float32'), [0, 2, 1]); // [B, K, T]
    const far = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = 0; j <= i - window - 1; j++) far[i * T + j] = NEG;
    return tf.mul(tf.reshape(evict, [B, K, 1, T]), tf.tensor2d(far, [T, T])) as tf.Tensor4D;
  });
}
