// Rotary position embedding tables (HF rotate_half convention), with frequency scaling (rope-scaling.ts)
// and partial rotation; shared by the dense forward and the paged decode so both rotate identically.
import { type ModelConfig, rotaryDims } from './config.js';
import { ropeAttentionScaling, scaleInverseFrequencies } from './rope-scaling.js';

/** Inverse frequencies for the rotary half-dims, scaling applied (length rot/2). */
export function inverseFrequencies(cfg: ModelConfig): Float64Array {
  const rot = rotaryDims(cfg);
  const half = rot / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / cfg.ropeTheta ** ((2 * i) / rot);
  scaleInverseFrequencies(cfg.ropeScaling, inv, rot, cfg.ropeTheta);
  return inv;
}

/** cos/sin tables [N, rot] for the given positions (each half-dim's angle repeated in both halves). */
export function ropeTables(cfg: ModelConfig, positions: ArrayLike<number>): { cos: Float32Array; sin: Float32Array; rot: number } {
  const rot = rotaryDims(cfg);
  const half = rot / 2;
  const inv = inverseFrequencies(cfg);
  const mscale = ropeAttentionScaling(cfg.ropeScaling); // YaRN scales cos and sin, as transformers does
  const n = positions.length;
  const cos = new Float32Array(n * rot);
  const sin = new Float32Array(n * rot);
  for (let r = 0; r < n; r++) {
    const p = positions[r];
    for (let i = 0; i < half; i++) {
      // Angles in float32 like HF (inv_freq and positions are float32 there).
      const a = Math.fround(Math.fround(p) * Math.fround(inv[i]));
      const c = Math.cos(a) * mscale;
      const s = Math.sin(a) * mscale;
      cos[r * rot + i] = c;
      cos[r * rot + i + half] = c;
      sin[r * rot + i] = s;
      sin[r * rot + i + half] = s;
    }
  }
  return { cos, sin, rot };
}
