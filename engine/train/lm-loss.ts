// Masked next-token cross-entropy and teacher-forced accuracy statistics per token role.
// Shared by pretraining, the DMS retrofit and the teacher-forced evaluation helper.
import * as tf from '@tensorflow/tfjs';
import { ROLES } from '../../tasks/index.js';
import type { Batch } from './suite-data.js';

/** Mean cross-entropy over positions with mask 1: logits [B, T, V], targets [B, T] int32, mask [B, T]. */
export function maskedCrossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  const vocab = logits.shape[2];
  const logp = tf.logSoftmax(logits); // [B, T, V]
  const picked = tf.sum(tf.mul(logp, tf.oneHot(targets, vocab)), -1); // [B, T]
  return tf.div(tf.neg(tf.sum(tf.mul(picked, mask))), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/** Counts of a batch's teacher-forced predictions, additive across batches. */
export interface TokenStats {
  /** Correct and total scored targets per role (ROLES order). */
  correct: number[];
  total: number[];
  /** Rows whose every scored target was predicted (= greedy decoding reproduces the solution). */
  rowsExact: number;
  rows: number;
}

export function emptyStats(): TokenStats {
  return { correct: ROLES.map(() => 0), total: ROLES.map(() => 0), rowsExact: 0, rows: 0 };
}

/** Compares argmax predictions [B*T] with a batch's targets, per role and per row. */
export function tokenStats(pred: ArrayLike<number>, batch: Batch, into: TokenStats = emptyStats()): TokenStats {
  const { batchSize: B, seqLen: T } = batch;
  for (let r = 0; r < B; r++) {
    let allRight = true;
    for (let t = 0; t < T; t++) {
      const i = r * T + t;
      const role = batch.roles[i];
      if (role < 0) continue;
      const ok = pred[i] === batch.targets[i];
      into.total[role] += 1;
      if (ok) into.correct[role] += 1;
      else allRight = false;
    }
    into.rows += 1;
    if (allRight) into.rowsExact += 1;
  }
  return into;
}

/** Accuracy per role name (NaN where a role had no targets), plus all tokens and exact rows. */
export function summarize(s: TokenStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [i, r] of ROLES.entries()) out[`acc_${r}`] = s.total[i] ? s.correct[i] / s.total[i] : NaN;
  const c = s.correct.reduce((a, b) => a + b, 0);
  const t = s.total.reduce((a, b) => a + b, 0);
  out.acc_all = t ? c / t : NaN;
  out.exact = s.rows ? s.rowsExact / s.rows : NaN;
  return out;
}
