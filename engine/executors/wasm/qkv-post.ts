// Post-processing of the fused q|k|v(|dms) projection rows in JS for the paged runner: bias,
// Qwen3 q/k-norm, the DMS logit (adapter column or neuron coordinate), neuron zeroing and RoPE.
import type { ModelConfig } from '../../model/config.js';
import type { FusedLayer } from '../fused-weights.js';

/** RMS-normalises D floats at a[off..] in place with weight w. */
function headNorm(a: Float32Array, off: number, D: number, w: Float32Array, eps: number): void {
  let ss = 0;
  for (let j = 0; j < D; j++) ss += a[off + j] * a[off + j];
  const inv = 1 / Math.sqrt(ss / D + eps);
  for (let j = 0; j < D; j++) a[off + j] = a[off + j] * inv * w[j];
}

/** HF rotate_half RoPE on the first rot dims of D floats at a[off..], with cos/sin rows at c[cOff..]. */
function rotate(a: Float32Array, off: number, rot: number, cos: Float32Array, sin: Float32Array, cOff: number): void {
  const half = rot / 2;
  for (let j = 0; j < half; j++) {
    const x1 = a[off + j];
    const x2 = a[off + j + half];
    a[off + j] = x1 * cos[cOff + j] - x2 * sin[cOff + j];
    a[off + j + half] = x2 * cos[cOff + j + half] + x1 * sin[cOff + j + half];
  }
}

/**
 * Splits y[N, (H+2K)*D (+K)] into q[N,H,D], k[N,K,D], v[N,K,D] (post-norm, post-RoPE) and the DMS
 * logits [N,K]; the same math as projectQkv in llama.ts (the decisive test holds them equal).
 */
export function splitQkv(
  cfg: ModelConfig,
  f: FusedLayer,
  y: Float32Array,
  n: number,
  cos: Float32Array,
  sin: Float32Array,
  rot: number,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  logits: Float32Array,
): void {
  const { numHeads: H, numKvHeads: K, headDim: D, rmsNormEps: eps, dms } = cfg;
  const G = H / K;
  const qkv = (H + 2 * K) * D;
  const width = qkv + (dms?.mode === 'adapter' ? K : 0);
  for (let i = 0; i < n; i++) {
    const yo = i * width;
    if (f.qkvBias) for (let j = 0; j < width; j++) y[yo + j] += f.qkvBias[j];
    q.set(y.subarray(yo, yo + H * D), i * H * D);
    k.set(y.subarray(yo + H * D, yo + (H + K) * D), i * K * D);
    v.set(y.subarray(yo + (H + K) * D, yo + qkv), i * K * D);
    if (f.qNorm && f.kNorm) {
      for (let h = 0; h < H; h++) headNorm(q, (i * H + h) * D, D, f.qNorm, eps);
      for (let h = 0; h < K; h++) headNorm(k, (i * K + h) * D, D, f.kNorm, eps);
    }
    if (dms?.mode === 'adapter') {
      for (let h = 0; h < K; h++) logits[i * K + h] = y[yo + qkv + h] * dms.scale - dms.offset;
    } else if (dms?.mode === 'neuron') {
      for (let h = 0; h < K; h++) {
        const at = (i * H + h * G) * D + D - 1; // last dim of the group's first query head
        logits[i * K + h] = q[at] * dms.scale - dms.offset;
        q[at] = 0;
      }
    }
    for (let h = 0; h < H; h++) rotate(q, (i * H + h) * D, rot, cos, sin, i * rot);
    for (let h = 0; h < K; h++) rotate(k, (i * K + h) * D, rot, cos, sin, i * rot);
    if (dms?.mode === 'neuron') for (let h = 0; h < K; h++) q[(i * H + h * G) * D + D - 1] = 0;
    if (dms?.alphaPer === 'layer') for (let h = 1; h < K; h++) logits[i * K + h] = logits[i * K]; // KV head 0 decides for all
    if (dms?.disableEviction) logits.fill(-1000, i * K, (i + 1) * K);
  }
}
