// Teacher-forced evaluation of a model on suite problems: loss, accuracy per token role, and exact
// rows (every solution token is the argmax, so greedy decoding would reproduce the solution exactly).
import * as tf from '@tensorflow/tfjs';
import type { Problem } from '../../tasks/index.js';
import { forwardDense, type ForwardOptions } from '../model/llama.js';
import type { LlamaParams } from '../model/weights.js';
import { emptyStats, maskedCrossEntropy, summarize, tokenStats, type TokenStats } from './lm-loss.js';
import { bucketize, collate, PAD_ID, toExample, type Batch } from './suite-data.js';

export interface TeacherForcedResult {
  loss: number;
  numTargets: number;
  overall: Record<string, number>;
  /** Summaries keyed "chain", "vars", "d1".."d10". */
  groups: Record<string, Record<string, number>>;
}

/**
 * Runs problems through forwardDense in token-budget batches (no gradients).
 * `options` (or a function of the batch) may add an attention bias, e.g. the hard DMS mask.
 */
export function teacherForced(
  params: LlamaParams,
  problems: readonly Problem[],
  tokenBudget = 4096,
  options: ForwardOptions | ((batch: Batch) => ForwardOptions) = {},
): TeacherForcedResult {
  const all = emptyStats();
  const groups = new Map<string, TokenStats>();
  let lossSum = 0;
  let numTargets = 0;
  for (const group of bucketize(problems.map(toExample), tokenBudget)) {
    const batch = collate(group);
    const { B, T } = { B: batch.batchSize, T: batch.seqLen };
    const [loss, pred] = tf.tidy(() => {
      const ids = tf.tensor2d(batch.ids, [B, T], 'int32');
      const { logits } = forwardDense(params, ids, typeof options === 'function' ? options(batch) : options);
      const l = maskedCrossEntropy(logits, tf.tensor2d(batch.targets, [B, T], 'int32'), tf.tensor2d(batch.mask, [B, T]));
      return [l.dataSync()[0], tf.argMax(logits, -1).dataSync()] as const;
    });
    lossSum += loss * batch.numTargets;
    numTargets += batch.numTargets;
    tokenStats(pred, batch, all);
    // Per-row stats for family and difficulty groups.
    group.forEach((ex, r) => {
      const one = {
        ...batch,
        batchSize: 1,
        ids: batch.ids.subarray(r * T, (r + 1) * T),
        targets: batch.targets.subarray(r * T, (r + 1) * T),
        mask: batch.mask.subarray(r * T, (r + 1) * T),
        roles: batch.roles.subarray(r * T, (r + 1) * T),
      };
      const rowPred = pred.subarray(r * T, (r + 1) * T);
      for (const key of [ex.problem.family, `d${ex.problem.difficulty}`]) {
        if (!groups.has(key)) groups.set(key, emptyStats());
        tokenStats(rowPred, one, groups.get(key));
      }
    });
  }
  const out: Record<string, Record<string, number>> = {};
  for (const [k, s] of groups) out[k] = summarize(s);
  return { loss: numTargets ? lossSum / numTargets : NaN, numTargets, overall: summarize(all), groups: out };
}

/** Lengths of a batch's rows (index of the last non-padding input + 1). */
export function rowLengths(batch: Batch): number[] {
  const { batchSize: B, seqLen: T } = batch;
  return Array.from({ length: B }, (_, b) => {
    let n = 0;
    for (let t = 0; t < T; t++) if (batch.ids[b * T + t] !== PAD_ID) n = t + 1;
    return n;
  });
}
