// RoPE frequency scaling as transformers' modeling_rope_utils computes it: linear, llama3, yarn and
// dynamic NTK; parsed from `rope_scaling`, written back, and applied to the inverse frequencies.

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
    }
  | {
      type: 'yarn';
      /** Context extension factor s. */
      factor: number;
      /** The pretraining context the correction range is computed for. */
      originalMaxPositionEmbeddings: number;
      /** Multiplier of cos and sin (so of q.k on the rotated dims, squared); derived from factor when absent. */
      attentionFactor: number;
      /** Rotations bounding the ramp between extrapolated and interpolated frequencies (32 and 1 by default). */
      betaFast: number;
      betaSlow: number;
      /** Round the correction range outward to whole dims (transformers' default true). */
      truncate: boolean;
    }
  | {
      /**
       * Dynamic NTK: the base grows only once a sequence passes max_position_embeddings. The engine never
       * runs past that length (it is the served context), so inside it this is plain RoPE, exactly.
       */
      type: 'dynamic';
      factor: number;
    };

type Json = Record<string, unknown>;

function fail(msg: string): never {
  throw new Error(`config.json: ${msg}`);
}

function field(rs: Json, key: string, fallback?: number): number {
  const v = rs[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    fail(`rope_scaling.${key} is required`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`rope_scaling.${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/** Keys each type reads; anything else in rope_scaling would change the math and is refused. */
const KEYS: Record<string, string[]> = {
  linear: ['factor'],
  llama3: ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'],
  yarn: ['factor', 'original_max_position_embeddings', 'attention_factor', 'beta_fast', 'beta_slow', 'mscale', 'mscale_all_dim', 'truncate'],
  dynamic: ['factor'],
};

function yarnMscale(scale: number, mscale = 1): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

/** Parses `rope_scaling` (`rope_type` or the older `type`); maxPositions is config.max_position_embeddings. */
export function parseRopeScaling(v: unknown, maxPositions: number): RopeScaling {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object') fail('rope_scaling must be an object or null');
  const rs = v as Json;
  const type = String(rs.rope_type ?? rs.type ?? 'default');
  if (type === 'default') return null;
  const keys = KEYS[type];
  if (!keys) fail(`rope_scaling type "${type}" is not implemented (implemented: linear, llama3, yarn, dynamic)`);
  for (const key of Object.keys(rs)) {
    if (key !== 'rope_type' && key !== 'type' && !keys.includes(key)) fail(`rope_scaling.${key} is not implemented for type "${type}"`);
  }
  if (type === 'linear' || type === 'dynamic') return { type, factor: field(rs, 'factor') };
  if (type === 'llama3') {
    return {
      type,
      factor: field(rs, 'factor'),
      lowFreqFactor: field(rs, 'low_freq_factor'),
      highFreqFactor: field(rs, 'high_freq_factor'),
      originalMaxPositionEmbeddings: field(rs, 'original_max_position_embeddings'),
    };
  }
  const original = field(rs, 'original_max_position_embeddings', maxPositions);
  const factor = field(rs, 'factor', maxPositions / original);
  const mscale = rs.mscale == null ? 0 : field(rs, 'mscale');
  const mscaleAll = rs.mscale_all_dim == null ? 0 : field(rs, 'mscale_all_dim');
  const derived = mscale && mscaleAll ? yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAll) : yarnMscale(factor);
  if (rs.truncate !== undefined && typeof rs.truncate !== 'boolean') fail('rope_scaling.truncate must be true or false');
  return {
    type: 'yarn',
    factor,
    originalMaxPositionEmbeddings: original,
    attentionFactor: rs.attention_factor == null ? derived : field(rs, 'attention_factor'),
    betaFast: rs.beta_fast ? field(rs, 'beta_fast') : 32,
    betaSlow: rs.beta_slow ? field(rs, 'beta_slow') : 1,
    truncate: rs.truncate !== false,
  };
}

/** The `rope_scaling` object of a parsed scaling (round-trips through parseRopeScaling). */
export function ropeScalingToJson(rs: RopeScaling): Record<string, unknown> | null {
  if (rs === null) return null;
  switch (rs.type) {
    case 'linear':
    case 'dynamic':
      return { rope_type: rs.type, factor: rs.factor };
    case 'llama3':
      return {
        rope_type: 'llama3',
        factor: rs.factor,
        low_freq_factor: rs.lowFreqFactor,
        high_freq_factor: rs.highFreqFactor,
        original_max_position_embeddings: rs.originalMaxPositionEmbeddings,
      };
    case 'yarn':
      return {
        rope_type: 'yarn',
        factor: rs.factor,
        original_max_position_embeddings: rs.originalMaxPositionEmbeddings,
        attention_factor: rs.attentionFactor,
        beta_fast: rs.betaFast,
        beta_slow: rs.betaSlow,
        truncate: rs.truncate,
      };
  }
}

/**
 * Applies the scaling to inv[i] = theta^(-2i/rot) in place (rot = rotated dims); theta is the base.
 * Frequencies are rounded to float32 where transformers computes them in float32.
 */
export function scaleInverseFrequencies(rs: RopeScaling, inv: Float64Array, rot: number, theta: number): void {
  const half = rot / 2;
  if (rs === null || rs.type === 'dynamic') return;
  if (rs.type === 'linear') {
    for (let i = 0; i < half; i++) inv[i] /= rs.factor;
  } else if (rs.type === 'llama3') {
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
  } else {
    // YaRN: dims rotating fewer than beta_slow times over the original context are interpolated
    // (divided by factor), more than beta_fast times extrapolated (kept), a linear ramp between.
    const correctionDim = (rotations: number) => (rot * Math.log(rs.originalMaxPositionEmbeddings / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
    let low = correctionDim(rs.betaFast);
    let high = correctionDim(rs.betaSlow);
    if (rs.truncate) [low, high] = [Math.floor(low), Math.ceil(high)];
    low = Math.max(low, 0);
    high = Math.min(high, rot - 1);
    if (low === high) high += 0.001;
    for (let i = 0; i < half; i++) {
      const ramp = Math.min(Math.max(Math.fround((i - low) / (high - low)), 0), 1);
      const extrapolation = 1 - ramp;
      const posFreq = Math.fround(theta ** Math.fround((2 * i) / rot));
      inv[i] = Math.fround(1 / Math.fround(rs.factor * posFreq)) * (1 - extrapolation) + Math.fround(1 / posFreq) * extrapolation;
    }
  }
}

/** The factor cos and sin are multiplied by (YaRN's attention factor; 1 otherwise). */
export function ropeAttentionScaling(rs: RopeScaling): number {
  return rs?.type === 'yarn' ? rs.attentionFactor : 1;
}
