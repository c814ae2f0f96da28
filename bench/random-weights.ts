// Random weights for the webgpu benchmark's large shapes, as a WeightSource the device loader reads
// tensor by tensor: no tfjs tensors, no full copy of the model in JS (a 1B model's tfjs init took a
// minute here and 5 GB). Values come from a counter hash, so a tensor's rows are the same however read.
import type { ModelConfig } from '../engine/model/config.js';
import type { DeviceOnlyWeights, WeightSource } from '../engine/model/weight-source.js';
import { INIT_STD, initFill, LAYER_ROLES, layerTensorName } from '../engine/model/weights.js';

/** What the source knows of one tensor: its row length in the checkpoint's [out, in] layout, and how it is filled. */
interface TensorSpec {
  rowLength: number;
  numRows: number;
  fill: ReturnType<typeof initFill>;
  seed: number;
}

/** A uniform value in [-1, 1) for (seed, index): a few integer multiplies, the same on every call. */
function hashUniform(seed: number, index: number): number {
  let h = Math.imul(index ^ seed, 0x9e3779b1) ^ Math.imul(seed + (index >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) / 2147483648 - 1;
}

function tensorSpecs(cfg: ModelConfig): Map<string, TensorSpec> {
  const specs = new Map<string, TensorSpec>();
  let seed = 1;
  const add = (name: string, shape: number[], transposed: boolean, fill: TensorSpec['fill']) => {
    // tfjs-layout [in, out] for transposed roles: the checkpoint stores [out, in].
    const [numRows, rowLength] = shape.length === 1 ? [1, shape[0]] : transposed ? [shape[1], shape[0]] : [shape[0], shape[1]];
    specs.set(name, { rowLength, numRows, fill, seed: seed++ * 0x632be5ab });
  };
  // The same fill per tensor as initParams (initFill), only uniform rather than normal.
  const random = { kind: 'random', std: INIT_STD } as const;
  add('model.embed_tokens.weight', [cfg.vocabSize, cfg.hiddenSize], false, random);
  for (let i = 0; i < cfg.numLayers; i++)
    for (const spec of LAYER_ROLES) if (spec.present(cfg)) add(layerTensorName(cfg, i, spec), spec.shape(cfg), spec.transposed, initFill(cfg, spec.role));
  add('model.norm.weight', [cfg.hiddenSize], false, { kind: 'one' });
  if (!cfg.tieWordEmbeddings) add('lm_head.weight', [cfg.hiddenSize, cfg.vocabSize], true, random);
  return specs;
}

/** Device-only random weights for `cfg`: normal-like (uniform, std 0.02) matrices, unit norms, zero biases. */
export function randomDeviceWeights(cfg: ModelConfig): DeviceOnlyWeights {
  const specs = tensorSpecs(cfg);
  const get = (name: string) => {
    const s = specs.get(name);
    if (!s) throw new Error(`random weights: no tensor "${name}"`);
    return s;
  };
  const values = (s: TensorSpec, from: number, count: number): Float32Array => {
    const out = new Float32Array(count);
    if (s.fill.kind === 'one') out.fill(1);
    else if (s.fill.kind === 'random') {
      const scale = s.fill.std * Math.sqrt(3); // uniform on [-a, a] has std a / sqrt(3)
      for (let i = 0; i < count; i++) out[i] = scale * hashUniform(s.seed, from + i);
    }
    return out;
  };
  const source: WeightSource = {
    config: cfg,
    lmHeadName: cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight',
    vector: (name) => {
      const s = get(name);
      return values(s, 0, s.rowLength * s.numRows);
    },
    rows: (name, row0, rows) => {
      const s = get(name);
      if (row0 < 0 || row0 + rows > s.numRows) throw new Error(`random weights: rows ${row0}..${row0 + rows} of "${name}" (${s.numRows} rows)`);
      return values(s, row0 * s.rowLength, rows * s.rowLength);
    },
  };
  return { deviceOnly: true, config: cfg, source };
}
