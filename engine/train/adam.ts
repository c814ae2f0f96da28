// Adam(W) with global-norm gradient clipping over named tf.Variables, with explicit moment tensors
// so that optimizer state can be saved next to a checkpoint and restored for --resume.
import * as tf from '@tensorflow/tfjs';

export interface AdamConfig {
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay (applied to matrices only, not norms/biases). */
  weightDecay: number;
  /** Clip the global gradient norm to this (0 = off). */
  clipNorm: number;
}

export const DEFAULT_ADAM: AdamConfig = { beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.0, clipNorm: 1.0 };

export class Adam {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  /** Number of updates applied so far (bias correction). */
  step = 0;

  constructor(
    private readonly vars: Readonly<Record<string, tf.Variable>>,
    private readonly cfg: AdamConfig = DEFAULT_ADAM,
  ) {
    for (const [name, p] of Object.entries(vars)) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  /** Applies one update; returns the global gradient norm before clipping. Disposes nothing of grads. */
  apply(grads: Readonly<Record<string, tf.Tensor>>, lr: number): number {
    this.step += 1;
    const { beta1, beta2, eps, weightDecay, clipNorm } = this.cfg;
    const names = Object.keys(grads);
    const normT = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]))))));
    const norm = normT.dataSync()[0];
    normT.dispose();
    const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      for (const name of names) {
        const p = this.vars[name];
        const g = scale === 1 ? grads[name] : tf.mul(grads[name], scale);
        const m = this.m.get(name) as tf.Variable;
        const v = this.v.get(name) as tf.Variable;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
        let next = tf.sub(p, tf.mul(update, lr));
        if (weightDecay > 0 && p.rank >= 2) next = tf.sub(next, tf.mul(p, lr * weightDecay));
        p.assign(next);
      }
    });
    return norm;
  }

  /** Moments as named f32 arrays ("m/<name>", "v/<name>") with shapes, for a safetensors file. */
  exportState(): { tensors: Record<string, { shape: number[]; data: Float32Array }>; step: number } {
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, t] of this.m) tensors[`m/${name}`] = { shape: t.shape, data: t.dataSync() as Float32Array };
    for (const [name, t] of this.v) tensors[`v/${name}`] = { shape: t.shape, data: t.dataSync() as Float32Array };
    return { tensors, step: this.step };
  }

  /** Restores moments saved by exportState; missing names stay zero (e.g. new adapter weights). */
  importState(tensors: Readonly<Record<string, { shape: number[]; data: Float32Array }>>, step: number): void {
    this.step = step;
    for (const [kind, store] of [
      ['m', this.m],
      ['v', this.v],
    ] as const) {
      for (const [name, variable] of store) {
        const saved = tensors[`${kind}/${name}`];
        if (saved && saved.data.length === variable.size) {
          const t = tf.tensor(saved.data, variable.shape);
          variable.assign(t);
          t.dispose();
        }
      }
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}

/**
 * Linear warmup to peak, constant until decayStart, then cosine down to minRatio * peak at decayEnd
 * (constant after). decayStart defaults to the end of warmup (a plain warmup + cosine schedule).
 */
export function learningRate(step: number, peak: number, warmup: number, decayEnd: number, minRatio = 0.1, decayStart = warmup): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  if (step < decayStart || decayEnd <= decayStart) return peak;
  const progress = Math.min(1, (step - decayStart) / (decayEnd - decayStart));
  return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
