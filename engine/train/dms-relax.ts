// DMS training relaxation (dms.md section 4): logistic-noise Gumbel-sigmoid decisions with tau, the
// delayed-eviction soft attention bias, the straight-through hard decision and the compression loss.
import * as tf from '@tensorflow/tfjs';

export const DEFAULT_TAU = 0.1;

/** Logistic noise log(u) - log(1-u), u ~ U(0,1) (clipped away from 0 and 1), shape [B, T, K]. */
export function logisticNoise(shape: [number, number, number], seed?: number): tf.Tensor3D {
  return tf.tidy(() => {
    const u = tf.randomUniform(shape, 1e-6, 1 - 1e-6, 'float32', seed);
    return tf.sub(tf.log(u), tf.log(tf.sub(1, u))) as tf.Tensor3D;
  });
}

/**
 * Relaxed decision of key j, read at position j+1 (the off-by-one of section 2):
 * zNext[b, j, h] = (logit[b, j+1, h] + noise[b, j+1, h]) / tau; the last key gets -1e4 (kept).
 * dmsLogits, noise: [B, T, K] -> [B, T, K].
 */
export function nextDecisionLogits(dmsLogits: tf.Tensor3D, noise: tf.Tensor3D | null, tau: number): tf.Tensor3D {
  const [B, T, K] = dmsLogits.shape;
  const z = tf.div(noise ? tf.add(dmsLogits, noise) : dmsLogits, tau); // [B, T, K]
  return tf.concat([tf.slice(z, [0, 1, 0], [B, T - 1, K]), tf.fill([B, 1, K], -1e4)], 1) as tf.Tensor3D; // [B, T, K]
}

/** [T, T] with 1 where query i sees key j only through the eviction gate (i - j > window), else 0. */
export function farMask(seqLen: number, window: number): tf.Tensor2D {
  const m = new Float32Array(seqLen * seqLen);
  for (let i = 0; i < seqLen; i++) for (let j = 0; j <= i - window - 1; j++) m[i * seqLen + j] = 1;
  return tf.tensor2d(m, [seqLen, seqLen]);
}

/**
 * Soft delayed-eviction bias [B, K, T, T]: log(1 - alpha_soft[j]) = -softplus(zNext[j]) where
 * i - j > window, 0 inside the window (w+1 keys always visible); causal masking stays with forwardDense.
 */
export function softEvictionBias(zNext: tf.Tensor3D, far: tf.Tensor2D): tf.Tensor4D {
  const [B, T, K] = zNext.shape;
  const penalty = tf.neg(tf.softplus(zNext)); // [B, T, K]
  return tf.mul(tf.reshape(tf.transpose(penalty, [0, 2, 1]), [B, K, 1, T]), far) as tf.Tensor4D; // [B, K, T, T]
}

/** Hard decision (alpha_soft > 0.5, i.e. z > 0) with a straight-through gradient to alpha_soft. */
export function straightThrough(zNext: tf.Tensor3D): tf.Tensor3D {
  const st = tf.customGrad(((soft: tf.Tensor) => ({
    value: tf.cast(tf.greater(soft, 0.5), 'float32'),
    gradFunc: (dy: tf.Tensor) => dy,
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return st(tf.sigmoid(zNext)) as tf.Tensor3D;
}

/**
 * One-sided compression loss: mean_b max(0, target - frac_b), where frac_b is the mean of the
 * straight-through decisions over layers, KV heads and the sequence's real decision positions.
 * decisions: per layer [B, T, K]; decisionMask [B, T] = 1 for keys j whose decider j+1 is a real token.
 */
export function compressionLoss(decisions: tf.Tensor3D[], decisionMask: tf.Tensor2D, targetFraction: number): { loss: tf.Scalar; fraction: tf.Tensor1D } {
  const K = decisions[0].shape[2];
  const summed = tf.addN(decisions.map((d) => tf.sum(d, 2))); // [B, T]
  const count = tf.mul(tf.sum(decisionMask, 1), decisions.length * K); // [B]
  const fraction = tf.div(tf.sum(tf.mul(summed, decisionMask), 1), tf.maximum(count, 1)) as tf.Tensor1D; // [B]
  const loss = tf.mean(tf.relu(tf.sub(targetFraction, fraction))) as tf.Scalar;
  return { loss, fraction };
}

/** Mask [B, T] of real decision positions: key j counts when j + 1 < length of its row. */
export function decisionMaskOf(lengths: readonly number[], seqLen: number): tf.Tensor2D {
  const m = new Float32Array(lengths.length * seqLen);
  lengths.forEach((len, b) => {
    for (let j = 0; j + 1 < len; j++) m[b * seqLen + j] = 1;
  });
  return tf.tensor2d(m, [lengths.length, seqLen]);
}

/** The compression target at a ratio: fraction of decisions that must evict, 1 - 1/CR. */
export function targetFraction(ratio: number): number {
  return ratio <= 1 ? 0 : 1 - 1 / ratio;
}
