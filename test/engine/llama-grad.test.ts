// The dense forward is trainable on wasm: every parameter (embedding through its custom gradient,
// the DMS adapter, q/k norms, biases) gets a gradient, the flag-free matMul gradient equals tfjs's,
// and a training step leaks no tensors.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../engine/backend.js';
import { forwardDense, mm } from '../../engine/model/llama.js';
import { disposeParams, initParams, listParams, mapParams } from '../../engine/model/weights.js';
import { tinyConfig } from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

describe('forwardDense gradients', () => {
  it('mm gradient equals matMul gradient (2-D and batched)', () => {
    tf.tidy(() => {
      for (const [sa, sb] of [
        [
          [3, 4],
          [4, 5],
        ],
        [
          [2, 3, 6, 4],
          [2, 3, 4, 5],
        ],
      ] as const) {
        const a = tf.randomNormal([...sa], 0, 1, 'float32', 1),
          b = tf.randomNormal([...sb], 0, 1, 'float32', 2);
        const w = tf.randomNormal([...sa.slice(0, -1), sb[sb.length - 1]], 0, 1, 'float32', 3);
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(mm(x, y), w)))([a, b]);
        const [ra, rb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), w)))([a, b]);
        expect(tf.max(tf.abs(tf.sub(ga, ra))).dataSync()[0]).toBeLessThan(1e-5);
        expect(tf.max(tf.abs(tf.sub(gb, rb))).dataSync()[0]).toBeLessThan(1e-5);
      }
    });
  });

  for (const extra of [
    { model_type: 'qwen3', head_dim: 8, dms: { mode: 'adapter', window: 2 } },
    { model_type: 'qwen2', tie_word_embeddings: false, dms: { mode: 'neuron', window: 2 } },
  ]) {
    it(`every parameter gets a finite, non-zero gradient (${extra.model_type}, ${extra.dms.mode})`, () => {
      const cfg = tinyConfig(extra);
      const base = initParams(cfg, 3);
      const params = mapParams(base, (t, name) => tf.variable(t, true, `${extra.model_type}/${name}`));
      disposeParams(base);
      const ids = tf.tensor2d(
        [
          [256, 5, 9, 12, 7, 3],
          [256, 1, 2, 3, 4, 5],
        ],
        [2, 6],
        'int32',
      );
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          // A soft DMS bias like training uses, so the eviction logits feed the loss.
          const { logits } = forwardDense(params, ids, {
            attnBias: (_l, lg) =>
              tf.mul(tf.reshape(tf.neg(tf.softplus(tf.transpose(lg, [0, 2, 1]))), [2, cfg.numKvHeads, 1, 6]), tf.ones([1, 1, 6, 1])) as tf.Tensor4D,
          });
          return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.reshape(ids, [-1]), cfg.vocabSize), tf.reshape(logits, [-1, cfg.vocabSize])) as tf.Scalar;
        });
        for (const p of listParams(params)) {
          const g = grads[(p as tf.Variable).name];
          expect(g, (p as tf.Variable).name).toBeDefined();
          const norm = tf.norm(g).dataSync()[0];
          expect(Number.isFinite(norm)).toBe(true);
          // dms_norm feeds the loss only through dms_proj, which starts at zero: its first gradient is exactly 0.
          if (!(p as tf.Variable).name.includes('dms_norm')) expect(norm, (p as tf.Variable).name).toBeGreaterThan(0);
        }
      });
      expect(tf.memory().numTensors).toBe(before);
      ids.dispose();
      disposeParams(params);
    });
  }
});
