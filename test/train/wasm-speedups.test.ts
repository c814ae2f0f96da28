// The wasm training speedups must not change results: batched matMul and matMul gradients are
// compared against the stock kernels on the same inputs.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backend.js';
import { installWasmTrainingSpeedups } from '../../engine/train/wasm-speedups.js';

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

beforeAll(async () => {
  await initBackend();
});

describe('wasm training speedups', () => {
  it('give the same matMuls and gradients as the stock kernels', () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[3, 2, 7, 5], [3, 2, 5, 6], false, false],
      [[4, 7, 5], [4, 5, 6], false, false],
      [[4, 7, 5], [4, 6, 5], false, true],
      [[4, 5, 7], [4, 5, 6], true, false],
      [[9, 5], [5, 6], false, false],
    ];
    const run = () =>
      cases.map(([sa, sb, ta, tb], i) => {
        const ra = tf.randomNormal(sa, 0, 1, 'float32', 10 + i);
        const rb = tf.randomNormal(sb, 0, 1, 'float32', 20 + i);
        const a = tf.variable(ra);
        const b = tf.variable(rb);
        tf.dispose([ra, rb]);
        const y = tf.tidy(() => tf.matMul(a, b, ta, tb).dataSync());
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.matMul(a, b, ta, tb))) as tf.Scalar, [a, b]);
        const out = { y, ga: grads[a.name].dataSync(), gb: grads[b.name].dataSync() };
        tf.dispose([a, b, value, ...Object.values(grads)]);
        return out;
      });
    const stock = run();
    const before = tf.memory().numTensors;
    expect(installWasmTrainingSpeedups()).toBe(tf.getBackend() === 'wasm');
    const fast = run();
    expect(tf.memory().numTensors).toBe(before);
    stock.forEach((s, i) => {
      expect(maxDiff(s.y, fast[i].y)).toBeLessThan(1e-4);
      expect(maxDiff(s.ga, fast[i].ga)).toBeLessThan(1e-3);
      expect(maxDiff(s.gb, fast[i].gb)).toBeLessThan(1e-3);
    });
  });
});
