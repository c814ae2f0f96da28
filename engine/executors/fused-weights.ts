// Inference copies of the weights, fused for the decode path: RMSNorm weights folded into the next
// matrix, q/k/v (+ DMS adapter) in one [d, *] matrix and gate/up in one, small vectors as plain arrays.
import * as tf from '@tensorflow/tfjs';
import type { LlamaParams } from '../model/weights.js';

export interface FusedLayer {
  /** [d, (H+2K)*D (+K adapter columns)]: diag(inputNorm) @ [q|k|v], then diag(dmsNorm) @ dmsProj. */
  qkvd: tf.Tensor2D;
  /** Bias of every qkvd column [(H+2K)*D (+K)] (zeros where a part has none), or null when no part has one. */
  qkvBias: Float32Array | null;
  /** Per-head q/k RMSNorm weights [D] (Qwen3) or null. */
  qNorm: Float32Array | null;
  kNorm: Float32Array | null;
  /** [H*D, d] output projection and its bias [d] or null. */
  o: tf.Tensor2D;
  oBias: Float32Array | null;
  /** [d, 2I]: diag(postNorm) @ [gate|up]. */
  gateUp: tf.Tensor2D;
  /** gate|up bias [2I] (mlpBias) or null. */
  gateUpBias: Float32Array | null;
  /** [I, d]. */
  down: tf.Tensor2D;
  /** down bias [d] (mlpBias) or null. */
  downBias: Float32Array | null;
}

/** The concatenation of bias vectors for adjacent column blocks (null parts are zeros of their width); null if all are. */
function concatBias(parts: Array<{ bias: tf.Tensor | null; width: number }>): Float32Array | null {
  if (parts.every((p) => p.bias === null)) return null;
  const out = new Float32Array(parts.reduce((a, p) => a + p.width, 0));
  let at = 0;
  for (const p of parts) {
    if (p.bias) out.set(p.bias.dataSync() as Float32Array, at);
    at += p.width;
  }
  return out;
}

export class FusedWeights {
  readonly layers: FusedLayer[];
  /** [d, V]: diag(finalNorm) @ lm head (or the tied embedding, transposed). */
  readonly lmHead: tf.Tensor2D;

  constructor(readonly params: LlamaParams) {
    const col = (w: tf.Tensor1D) => tf.reshape(w, [-1, 1]);
    this.layers = params.layers.map((p) => {
      const [qkvd, gateUp, o, down] = tf.tidy(() => {
        const parts: tf.Tensor2D[] = [tf.mul(col(p.inputNorm), tf.concat([p.qProj, p.kProj, p.vProj], 1))];
        if (p.dmsNorm && p.dmsProj) parts.push(tf.mul(col(p.dmsNorm), p.dmsProj));
        return [tf.concat(parts, 1) as tf.Tensor2D, tf.mul(col(p.postNorm), tf.concat([p.gate, p.up], 1)) as tf.Tensor2D, tf.clone(p.oProj), tf.clone(p.down)];
      });
      const vec = (t: tf.Tensor | null) => (t ? (t.dataSync() as Float32Array) : null);
      const width = (t: tf.Tensor) => t.shape[1] as number;
      const qkvBias = concatBias([
        { bias: p.qBias, width: width(p.qProj) },
        { bias: p.kBias, width: width(p.kProj) },
        { bias: p.vBias, width: width(p.vProj) },
        ...(p.dmsProj ? [{ bias: p.dmsBias, width: width(p.dmsProj) }] : []),
      ]);
      const gateUpBias = concatBias([
        { bias: p.gateBias, width: width(p.gate) },
        { bias: p.upBias, width: width(p.up) },
      ]);
      return { qkvd, qkvBias, qNorm: vec(p.qNorm), kNorm: vec(p.kNorm), o, oBias: vec(p.oBias), gateUp, gateUpBias, down, downBias: vec(p.downBias) };
    });
    this.lmHead = tf.tidy(() => tf.mul(tf.reshape(params.finalNorm, [-1, 1]), params.lmHead ?? tf.transpose(params.embed)) as tf.Tensor2D);
  }

  dispose(): void {
    for (const l of this.layers) for (const t of [l.qkvd, l.o, l.gateUp, l.down]) t.dispose();
    this.lmHead.dispose();
  }
}

/** a[N, in] @ w[in, out] on the backend (a 2-D matMul without flags: the fast path); returns [N, out]. */
export function matmulRows(a: Float32Array, n: number, w: tf.Tensor2D): Float32Array {
  // Manual dispose, not tf.tidy: tidy walks a returned TypedArray element by element.
  const x = tf.tensor2d(a, [n, w.shape[0]]);
  const y = tf.matMul(x, w);
  const out = y.dataSync() as Float32Array;
  x.dispose();
  y.dispose();
  return out;
}

/** Row-wise RMS normalisation without weight (the weight is folded into the next matrix). */
export function rmsNormRows(x: Float32Array, n: number, d: number, eps: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    for (let i = r * d; i < (r + 1) * d; i++) ss += x[i] * x[i];
    const inv = 1 / Math.sqrt(ss / d + eps);
    for (let i = r * d; i < (r + 1) * d; i++) out[i] = x[i] * inv;
  }
  return out;
}

/** x[N, width] += bias[width] on every row. */
export function addBiasRows(x: Float32Array, bias: Float32Array, n: number): void {
  const w = bias.length;
  for (let r = 0; r < n; r++) for (let j = 0; j < w; j++) x[r * w + j] += bias[j];
}
