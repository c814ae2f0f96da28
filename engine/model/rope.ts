// Rotary position embedding tables (HF rotate_half convention), with linear and llama3 scaling
// and partial rotation; shared by the dense forward and the paged decode so both rotate identically.
import { type ModelConfig, rotaryDims } from './config.js';

/** Inverse frequencies for the rotary half-dims, scaling applied (length rot/2). */
export function inverseFrequencies(cfg: ModelConfig): Float64Array {
  const rot = rotaryDims(cfg);
  const half = rot / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / cfg.ropeTheta ** ((2 * i) / rot);
  const rs = cfg.ropeScaling;
  if (rs?.type === 'linear') {
    for (let i = 0; i < half; i++) inv[i] /= rs.factor;
  } else if (rs?.type === 'llama3') {
    const lowWavelen = rs.originalMaxPositionEmbeddings / rs.lowFreqFactor;
    const highWavelen = rs.originalMaxPositionEmbeddings / rs.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowWavelen) inv[i] /= rs.factor;
      else if (wavelen >= highWavelen) {
        const smooth = (rs.originalMaxPositionEmbeddings / wavelen - rs.lowFreqFactor) / (rs.highFreqFactor - rs.lowFreqFactor);
        inv[i] = (1 - smooth) * (inv[i] / rs.factor) + smooth * inv[i];
      }
    }
  }
  return inv;
}

/** cos/sin tables [N, rot] for the given positions (each half-dim's angle repeated in both halves). */
export function ropeTables(cfg: ModelConfig, positions: ArrayLike<number>): { cos: Float32Array; sin: Float32Array; rot: number } {
  const rot = rotaryDims(cfg);
  const half = rot / 2;
  const inv = inverseFrequencies(cfg);
  const n = positions.length;
  const cos = new Float32Array(n * rot);
  const sin = new Float32Array(n * rot);
  for (let r = 0; r < n; r++) {
    const p = positions[r];
    for (let i = 0; i < half; i++) {
      // Angles in float32 like HF (inv_freq and positions are float32 there).
      const a = Math.fround(Math.fround(p) * Math.fround(inv[i]));
      const c = Math.cos(a);
      const s = Math.sin(a);
      cos[r * rot + i] = c;
      cos[r * rot + i + half] = c;
      sin[r * rot + i] = s;
      sin[r * rot + i + half] = s;
    }
  }
  return { cos, sin, rot };
}
