// The gated MLP's activation, act(gate) * up, in two forms that compute the same function: tfjs ops
// for the dense forward (differentiable) and a loop over float rows for the paged runtime.
import * as tf from '@tensorflow/tfjs';
import type { HiddenAct } from './config.js';

const GELU_C = Math.sqrt(2 / Math.PI); // tanh-approximated GELU, as torch's gelu(approximate='tanh')
const GELU_K = 0.044715;

/** act(gate) with tfjs ops (inside tf.tidy or a gradient tape). */
export function activate(act: HiddenAct, gate: tf.Tensor): tf.Tensor {
  if (act === 'silu') return tf.mul(gate, tf.sigmoid(gate));
  const inner = tf.mul(tf.add(gate, tf.mul(tf.pow(gate, 3), GELU_K)), GELU_C);
  return tf.mul(tf.mul(gate, 0.5), tf.add(tf.tanh(inner), 1));
}

/** out[r, j] = act(gu[r, j]) * gu[r, I + j] for rows of the fused [gate | up] product [N, 2I]; returns [N, I]. */
export function gatedRows(act: HiddenAct, gu: Float32Array, n: number, I: number): Float32Array {
  const out = new Float32Array(n * I);
  for (let r = 0; r < n; r++) {
    for (let j = 0, o = r * 2 * I; j < I; j++) {
      const g = gu[o + j];
      const a = act === 'silu' ? g / (1 + Math.exp(-g)) : 0.5 * g * (1 + Math.tanh(GELU_C * (g + GELU_K * g * g * g)));
      out[r * I + j] = a * gu[o + I + j];
    }
  }
  return out;
}
