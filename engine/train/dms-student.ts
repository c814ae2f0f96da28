// Builds the DMS student from a vanilla base: the config's dms block plus, in adapter mode, a
// zero-initialised predictor per layer; in neuron mode the repurposed q coordinate starts at zero.
import * as tf from '@tensorflow/tfjs';
import type { DmsConfig, ModelConfig } from '../model/config.js';
import { mapParams, type LlamaParams } from '../model/weights.js';

export interface StudentOptions {
  mode: 'adapter' | 'neuron';
  window: number;
  ratio: number;
}

export function studentConfig(base: ModelConfig, opts: StudentOptions): ModelConfig {
  const dms: DmsConfig = {
    mode: opts.mode,
    window: opts.window,
    scale: 100,
    offset: 5,
    ratio: opts.ratio,
    format: 'project',
    alphaPer: 'head',
    adapterBias: false,
    disableEviction: false,
  };
  return { ...base, dms };
}

/**
 * Fresh tensors for the student (the base's tensors are cloned, never shared with the teacher).
 * Adapter: dmsNorm = 1, dmsProj = 0, so every logit is -offset and nothing is evicted at step 0.
 * Neuron: the q_proj column (and bias) of the last dim of each group's first query head is zeroed,
 * so s = 0 and the logit is -offset at step 0 as well; that dim no longer enters attention anyway.
 */
export function makeStudent(base: LlamaParams, opts: StudentOptions): LlamaParams {
  if (base.config.dms) throw new Error('makeStudent: the base model already has a dms block');
  const cfg = studentConfig(base.config, opts);
  const { hiddenSize: d, numHeads: H, numKvHeads: K, headDim: D } = cfg;
  const student = mapParams(base, (t) => tf.clone(t));
  student.config = cfg;
  const g = H / K;
  const keep = new Float32Array(H * D).fill(1);
  for (let k = 0; k < K; k++) keep[k * g * D + D - 1] = 0;
  for (const layer of student.layers) {
    if (opts.mode === 'adapter') {
      layer.dmsNorm = tf.ones([d]);
      layer.dmsProj = tf.zeros([d, K]);
    } else {
      const old = layer.qProj;
      layer.qProj = tf.tidy(() => tf.mul(old, tf.tensor1d(keep)) as tf.Tensor2D); // [d, H*D]
      old.dispose();
      if (layer.qBias) {
        const ob = layer.qBias;
        layer.qBias = tf.tidy(() => tf.mul(ob, tf.tensor1d(keep)) as tf.Tensor1D);
        ob.dispose();
      }
    }
  }
  return student;
}
