// Tests of the pretraining pieces: data encoding, bucketing, schedules, a real training step on a
// tiny random model (loss falls, no tensor leak) and checkpoint save/resume round-trips.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateProblem } from '../../tasks/index.js';
import { initBackend } from '../../engine/backend.js';
import { forwardDense } from '../../engine/model/llama.js';
import { initParams } from '../../engine/model/weights.js';
import { Adam, learningRate } from '../../engine/train/adam.js';
import { loadCheckpoint, saveCheckpoint, toVariables } from '../../engine/train/checkpoint.js';
import { mixAt } from '../../engine/train/curriculum.js';
import { trainStep } from '../../engine/train/pretrain.js';
import { reasonerConfig } from '../../engine/train/reasoner-config.js';
import { BOS_ID, bucketize, collate, EOS_ID, ROLE_INDEX, SuiteBatcher, toExample } from '../../engine/train/suite-data.js';

const tiny = () => reasonerConfig({ hidden: 64, layers: 1, intermediate: 128, maxPositions: 256 });

beforeAll(async () => {
  await initBackend();
});

describe('suite data', () => {
  it('encodes bos + prompt + solution + eos with loss only on the solution and eos', () => {
    const p = generateProblem('chain', 10_000_001, 2);
    const e = toExample(p);
    expect(e.ids[0]).toBe(BOS_ID);
    expect(e.targets[e.targets.length - 1]).toBe(EOS_ID);
    expect(e.mask.reduce((a, b) => a + b, 0)).toBe(p.solution.length + 1);
    const first = e.mask.indexOf(1);
    expect(String.fromCharCode(e.targets[first])).toBe(p.solution[0]);
    expect(e.ids[first]).toBe(p.prompt.charCodeAt(p.prompt.length - 1));
    expect(e.roles[first]).toBe(ROLE_INDEX[p.roles[0]]);
    expect(e.roles[0]).toBe(-1);
  });

  it('buckets within the token budget and pads with a zero mask', () => {
    const ex = Array.from({ length: 40 }, (_, i) => toExample(generateProblem(i % 2 ? 'chain' : 'vars', 10_000_000 + i, 1 + (i % 6))));
    const groups = bucketize(ex, 1024);
    expect(groups.flat().length).toBe(40);
    for (const g of groups) {
      const b = collate(g);
      expect(b.batchSize * b.seqLen <= 1024 || g.length === 1).toBe(true);
      expect(b.numTargets).toBe(Array.from(b.mask).reduce((a, c) => a + c, 0));
    }
  });

  it('refuses evaluation and validation seeds', () => {
    expect(() => new SuiteBatcher(999_999, 1024)).toThrow();
    expect(() => new SuiteBatcher(5_000_000, 1024)).toThrow();
    const b = new SuiteBatcher(10_000_000, 1024, 16);
    b.next(mixAt(0));
    expect(b.nextSeed).toBe(10_000_016);
  });
});

describe('schedules', () => {
  it('warms up, holds, then decays with cosine', () => {
    expect(learningRate(0, 1, 10, 100)).toBeCloseTo(0.1);
    expect(learningRate(9, 1, 10, 100)).toBeCloseTo(1);
    expect(learningRate(100, 1, 10, 100, 0.1)).toBeCloseTo(0.1);
    expect(learningRate(50, 1, 10, 100, 0.1, 60)).toBe(1);
    expect(learningRate(80, 1, 10, 100, 0.1, 60)).toBeCloseTo(0.55);
  });

  it('raises the curriculum ceiling from easy to the full mix', () => {
    expect(mixAt(0, { warmSteps: 10, fullSteps: 20, startMax: 3, familyWeights: { chain: 1, vars: 3 } }).maxDifficulty).toBe(3);
    expect(mixAt(15, { warmSteps: 10, fullSteps: 20, startMax: 3, familyWeights: { chain: 1, vars: 3 } }).maxDifficulty).toBeGreaterThan(3);
    expect(mixAt(20, { warmSteps: 10, fullSteps: 20, startMax: 3, familyWeights: { chain: 1, vars: 3 } }).maxDifficulty).toBe(10);
  });
});

describe('training step', () => {
  it('lowers the loss on a fixed batch and leaks no tensors', () => {
    const { params, vars } = toVariables(initParams(tiny(), 3));
    const adam = new Adam(vars);
    const batch = collate([0, 1, 2, 3].map((i) => toExample(generateProblem('vars', 10_000_100 + i, 2))));
    trainStep(params, vars, adam, batch, 3e-3); // first step allocates nothing persistent beyond Adam
    const before = tf.memory().numTensors;
    const first = trainStep(params, vars, adam, batch, 3e-3).loss;
    expect(tf.memory().numTensors).toBe(before);
    let last = first;
    for (let i = 0; i < 8; i++) last = trainStep(params, vars, adam, batch, 3e-3).loss;
    expect(last).toBeLessThan(first * 0.8);
    expect(tf.memory().numTensors).toBe(before);
    adam.dispose();
    tf.dispose(Object.values(vars));
  });

  it('saves and restores model, optimizer moments and state', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const { params, vars } = toVariables(initParams(tiny(), 4));
    const adam = new Adam(vars);
    const batch = collate([toExample(generateProblem('chain', 10_000_200, 1))]);
    trainStep(params, vars, adam, batch, 1e-3);
    saveCheckpoint(dir, params, adam, { step: 1, nextSeed: 10_000_500, tokensSeen: 10, targetsSeen: 5, elapsedSec: 1, settings: {} });
    const ck = loadCheckpoint(dir);
    expect(ck.state?.step).toBe(1);
    expect(ck.state?.nextSeed).toBe(10_000_500);
    expect(ck.optimizer?.step).toBe(1);
    const ids = tf.tensor2d(batch.ids, [1, batch.seqLen], 'int32');
    const a = tf.tidy(() => forwardDense(params, ids).logits.dataSync());
    const b = tf.tidy(() => forwardDense(ck.model.params, ids).logits.dataSync());
    for (let i = 0; i < a.length; i += 97) expect(b[i]).toBeCloseTo(a[i], 5);
    const restored = toVariables(ck.model.params);
    const adam2 = new Adam(restored.vars);
    adam2.importState(ck.optimizer!.tensors, ck.optimizer!.step);
    const m1 = adam.exportState().tensors;
    const m2 = adam2.exportState().tensors;
    const key = Object.keys(m1).find((k) => k.startsWith('v/') && k.includes('q_proj'))!;
    expect(Array.from(m2[key].data.slice(0, 20))).toEqual(Array.from(m1[key].data.slice(0, 20)));
    expect(m1[key].data.some((x) => x !== 0)).toBe(true);
    tf.dispose([ids]);
    ck.model.dispose();
    adam.dispose();
    adam2.dispose();
  });
});
