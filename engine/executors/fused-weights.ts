// Inference copies of the weights, fused for the decode path: RMSNorm weights folded into the next
// matrix, q/k/v (+ DMS adapter) in one [d, *] matrix and gate/up in one, small vectors as plain arrays.
import * as tf from '@tensorflow/tfjs';
import type { LlamaParams } from '../model/weights.js';

export interface FusedLayer {
  /** [d, (H+2K)*D (+K adapter columns)]: diag(inputNorm) @ [q|k|v], then diag(dmsNorm) @ dmsProj. */
  qkvd: tf.Tensor2D;
  /** q|k|v bias [(H+2K)*D] or null. */
  qkvBias: Float32Array | null;
  /** Per-head q/k RMSNorm weights [D] (Qwen3) or null. */
  qNorm: Float32Array | null;
  kNorm: Float32Array | null;
  /** [H*D, d] output projection and its bias [d] or null. */
  o: tf.Tensor2D;
  oBias: Float32Array | null;
  /** [d, 2I]: diag(postNorm) @ [gate|up]. */
  gateUp: tf.Tensor2D;
  /** [I, d]. */
  down: tf.Tensor2D;
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
      const qkvBias = p.qBias && p.kBias && p.vBias ? Float32Array.from([...vec(p.qBias)!, ...vec(p.kBias)!, ...vec(p.vBias)!]) : null;
      return { qkvd, qkvBias, qNorm: vec(p.qNorm), kNorm: vec(p.kNorm), o, oBias: vec(p.oBias), gateUp, down };
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
