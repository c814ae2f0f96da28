// Tests of the DMS retrofit: the soft bias never evicts inside the window, the compression loss is
// one-sided, the schedule checkpoints at integer ratios, a step leaks no tensors, students start as the base.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateProblem } from '../../tasks/index.js';
import { initBackend } from '../../engine/backend.js';
import { forwardDense, hardDmsBias } from '../../engine/model/llama.js';
import { initParams } from '../../engine/model/weights.js';
import { Adam } from '../../engine/train/adam.js';
import { toVariables } from '../../engine/train/checkpoint.js';
import {
  compressionLoss,
  decisionMaskOf,
  farMask,
  logisticNoise,
  nextDecisionLogits,
  softEvictionBias,
  straightThrough,
  targetFraction,
} from '../../engine/train/dms-relax.js';
import { makeStudent } from '../../engine/train/dms-student.js';
import { kdLoss, retrofitStep } from '../../engine/train/retrofit.js';
import { checkpointDue, ratioAt, scheduleSteps } from '../../engine/train/retrofit-schedule.js';
import { reasonerConfig } from '../../engine/train/reasoner-config.js';
import { collate, toExample } from '../../engine/train/suite-data.js';

const tiny = () => reasonerConfig({ hidden: 64, layers: 2, intermediate: 128, maxPositions: 256 });

beforeAll(async () => {
  await initBackend();
});

describe('soft eviction bias', () => {
  it('never evicts inside the window, whatever the logits', () => {
    const [B, T, K, w] = [2, 24, 2, 5];
    const logits = tf.fill([B, T, K], 50) as tf.Tensor3D; // every token strongly evicted
    const z = nextDecisionLogits(logits, logisticNoise([B, T, K], 1), 0.1);
    const bias = softEvictionBias(z, farMask(T, w)).arraySync() as number[][][][];
    for (let b = 0; b < B; b++)
      for (let k = 0; k < K; k++)
        for (let i = 0; i < T; i++)
          for (let j = 0; j < T; j++) {
            const v = bias[b][k][i][j];
            if (i - j <= w)
              expect(Math.abs(v)).toBe(0); // -0 from -softplus * 0 is still no bias
            else if (j < T - 1) expect(v).toBeLessThan(-100); // far, evicted keys are masked
          }
    tf.dispose([logits, z]);
  });

  it('reads the decision of key j at position j+1 and keeps the last key', () => {
    const lg = tf.tensor3d([[[-5], [5], [-5], [-5]]]); // logit at position 1 evicts key 0
    const z = nextDecisionLogits(lg, null, 0.1).arraySync() as number[][][];
    expect(z[0][0][0]).toBeCloseTo(50);
    expect(z[0][1][0]).toBeCloseTo(-50);
    expect(z[0][3][0]).toBeLessThan(-1000);
    tf.dispose(lg);
  });
});

describe('compression loss', () => {
  it('is zero when the fraction meets the target and positive below it, with a gradient', () => {
    const mask = decisionMaskOf([4, 4], 4);
    const half = tf.tensor3d([
      [[1], [1], [0], [0]],
      [[1], [0], [1], [0]],
    ]); // 2 of 3 real decisions evict
    expect(compressionLoss([half], mask, targetFraction(2)).loss.dataSync()[0]).toBe(0);
    expect(compressionLoss([half], mask, targetFraction(4)).loss.dataSync()[0]).toBeCloseTo(0.75 - 2 / 3, 5);
    const z = tf.variable(tf.tensor3d([[[-1], [-1], [-1], [-1]]]));
    const g = tf.variableGrads(() => compressionLoss([straightThrough(z as unknown as tf.Tensor3D)], decisionMaskOf([4], 4), 0.5).loss, [z]);
    expect(g.value.dataSync()[0]).toBeCloseTo(0.5);
    expect(
      Array.from(Object.values(g.grads)[0].dataSync())
        .slice(0, 3)
        .every((v) => v < 0),
    ).toBe(true); // pushes z up
    tf.dispose([mask, half, z, g.value, ...Object.values(g.grads)]);
  });
});

describe('ratio schedule', () => {
  it('rises by one per stepsPerRatio with holds and checkpoints at integers', () => {
    const s = { finalRatio: 4, stepsPerRatio: 10, holdSteps: 5 };
    expect(scheduleSteps(s)).toBe(45);
    expect(ratioAt(0, s)).toBe(1);
    expect(ratioAt(5, s)).toBe(1.5);
    expect(ratioAt(12, s)).toBe(2);
    expect(ratioAt(45, s)).toBe(4);
    expect([15, 30, 45].map((t) => checkpointDue(t, s))).toEqual([2, 3, 4]);
    expect(checkpointDue(14, s)).toBeNull();
  });
});

describe('retrofit step', () => {
  it('starts as the base model (adapter and neuron), trains without leaking tensors', () => {
    const base = initParams(tiny(), 5);
    const batch = collate([0, 1].map((i) => toExample(generateProblem('chain', 10_000_300 + i, 3))));
    const ids = tf.tensor2d(batch.ids, [batch.batchSize, batch.seqLen], 'int32');
    const ref = tf.tidy(() => forwardDense(base, ids).logits.dataSync());
    for (const mode of ['adapter', 'neuron'] as const) {
      const student = makeStudent(base, { mode, window: 4, ratio: 1 });
      const out = tf.tidy(() => {
        const r = forwardDense(student, ids, { attnBias: (_l, lg) => hardDmsBias(lg, 4) });
        return { logits: r.logits.dataSync(), dms: r.dmsLogits.map((d) => d.dataSync()) };
      });
      for (const d of out.dms) expect(Math.max(...Array.from(d))).toBeCloseTo(-5, 5);
      if (mode === 'adapter') for (let i = 0; i < ref.length; i += 53) expect(out.logits[i]).toBeCloseTo(ref[i], 4);
      if (mode === 'neuron') {
        const { params, vars } = toVariables(student);
        const adam = new Adam(vars);
        retrofitStep(params, vars, adam, base, batch, 2, 1e-3, 0.1);
        const before = tf.memory().numTensors;
        const r = retrofitStep(params, vars, adam, base, batch, 4, 1e-3, 0.1);
        expect(tf.memory().numTensors).toBe(before);
        expect(r.cr).toBeGreaterThan(0); // nothing evicted yet, target 0.75
        expect(r.layerFractions.length).toBe(2);
        adam.dispose();
        tf.dispose(Object.values(vars));
      }
    }
    ids.dispose();
  });

  it('raises the eviction fraction towards the target on a tiny model within a few steps', () => {
    const base = initParams(tiny(), 6);
    const { params, vars } = toVariables(makeStudent(base, { mode: 'adapter', window: 2, ratio: 1 }));
    const adam = new Adam(vars);
    const batch = collate([0, 1, 2].map((i) => toExample(generateProblem('vars', 10_000_400 + i, 4))));
    // Seeded noise: the outcome of these 13 steps is fixed, not a draw.
    let last = retrofitStep(params, vars, adam, base, batch, 4, 1e-2, 0.1, { noiseSeed: 1 });
    const first = last.noisyFraction;
    for (let i = 0; i < 12; i++) last = retrofitStep(params, vars, adam, base, batch, 4, 1e-2, 0.1, { noiseSeed: 2 + i });
    expect(last.noisyFraction).toBeGreaterThan(first + 0.2);
    expect(last.layerFractions.every((f) => f > 0)).toBe(true);
    adam.dispose();
    tf.dispose(Object.values(vars));
  });

  it('averages the KD loss per token (dms.md), per sequence, or the mean of both (--kd-weighting)', () => {
    // Row 0: three real positions with KL 1 (and a pad); row 1: one real position with KL 4.
    const kl = tf.tensor2d([
      [1, 1, 1, 9],
      [4, 9, 9, 9],
    ]);
    const real = tf.tensor2d([
      [1, 1, 1, 0],
      [1, 0, 0, 0],
    ]);
    const token = kdLoss(kl, real, 'token');
    const sequence = kdLoss(kl, real, 'sequence');
    const mixed = kdLoss(kl, real, 'mixed');
    expect(token.dataSync()[0]).toBeCloseTo((1 + 1 + 1 + 4) / 4, 6);
    expect(sequence.dataSync()[0]).toBeCloseTo((1 + 4) / 2, 6);
    expect(mixed.dataSync()[0]).toBeCloseTo(((1 + 1 + 1 + 4) / 4 + (1 + 4) / 2) / 2, 6);
    tf.dispose([kl, real, token, sequence, mixed]);
  });

  it('trains through the sequence-weighted KD loss without leaking tensors', () => {
    const base = initParams(tiny(), 7);
    const { params, vars } = toVariables(makeStudent(base, { mode: 'adapter', window: 2, ratio: 1 }));
    const adam = new Adam(vars);
    const batch = collate([toExample(generateProblem('vars', 10_000_500, 2)), toExample(generateProblem('chain', 10_000_501, 6))]);
    retrofitStep(params, vars, adam, base, batch, 2, 1e-2, 0.1, { noiseSeed: 1, kdWeighting: 'sequence' });
    const before = tf.memory().numTensors;
    const r = retrofitStep(params, vars, adam, base, batch, 2, 1e-2, 0.1, { noiseSeed: 2, kdWeighting: 'sequence' });
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(r.kd) && r.kd > 0).toBe(true); // the student moved away from its teacher
    adam.dispose();
    tf.dispose(Object.values(vars));
  });
});
