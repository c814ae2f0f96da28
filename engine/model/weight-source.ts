// Where a backend reads a model's weights from, by checkpoint (HF) name: tfjs params in memory, or the
// safetensors shards on disk one tensor (or a row range of one) at a time, so nothing holds the whole model.
import { closeSync, openSync, readSync } from 'node:fs';
import type { StoredTensor } from './checkpoint-reader.js';
import type { ModelConfig } from './config.js';
import { decodeTensor } from './safetensors.js';
import { LAYER_ROLES, type LlamaParams, layerTensorName } from './weights.js';

/**
 * A model's tensors under their checkpoint names, in the checkpoint's layout: matrices [out, in] as
 * HF stores them, so that a column block of an [in, out] device matrix is a contiguous row range here.
 */
export interface WeightSource {
  readonly config: ModelConfig;
  /** The checkpoint name of the lm head: lm_head.weight, or the embedding when tied. */
  readonly lmHeadName: string;
  /** A 1-D tensor's values as float32. */
  vector(name: string): Float32Array;
  /** Rows [row0, row0 + rows) of a 2-D tensor as float32 ([rows, in], row-major). */
  rows(name: string, row0: number, rows: number): Float32Array;
}

/** Weights held on a backend's device only (a webgpu load): no tfjs tensors; `source` re-reads the checkpoint for another precision. */
export interface DeviceOnlyWeights {
  readonly deviceOnly: true;
  readonly config: ModelConfig;
  readonly source: WeightSource;
}

/** What executors build their weights from: tfjs params, or a device-only load. */
export type ModelWeights = LlamaParams | DeviceOnlyWeights;

export function isDeviceOnly(w: ModelWeights): w is DeviceOnlyWeights {
  return (w as DeviceOnlyWeights).deviceOnly === true;
}

/** tfjs params as a source (tests and training compare the device path against them). */
export function paramsSource(params: LlamaParams): WeightSource {
  const cfg = params.config;
  const byName = new Map<string, { data: () => Float32Array; shape: number[]; transposed: boolean }>();
  const put = (name: string, t: { dataSync(): unknown; shape: number[] }, transposed: boolean) =>
    byName.set(name, { data: () => t.dataSync() as Float32Array, shape: t.shape, transposed });
  put('model.embed_tokens.weight', params.embed, false);
  params.layers.forEach((layer, i) => {
    for (const spec of LAYER_ROLES) {
      const t = layer[spec.role];
      if (t) put(layerTensorName(cfg, i, spec), t, spec.transposed);
    }
  });
  put('model.norm.weight', params.finalNorm, false);
  if (params.lmHead) put('lm_head.weight', params.lmHead, true);
  const get = (name: string) => {
    const t = byName.get(name);
    if (!t) throw new Error(`weights: no tensor "${name}"`);
    return t;
  };
  return {
    config: cfg,
    lmHeadName: params.lmHead ? 'lm_head.weight' : 'model.embed_tokens.weight',
    vector: (name) => get(name).data(),
    rows(name, row0, rows) {
      const t = get(name);
      const data = t.data();
      if (!t.transposed) return data.slice(row0 * t.shape[1], (row0 + rows) * t.shape[1]);
      // Held [in, out]: stored row j is column j.
      const [kin, out] = t.shape;
      const o = new Float32Array(rows * kin);
      for (let j = 0; j < rows; j++) for (let r = 0; r < kin; r++) o[j * kin + r] = data[r * out + row0 + j];
      return o;
    },
  };
}

/** Bytes per element of a stored dtype. */
const WIDTH = { F32: 4, F16: 2, BF16: 2 } as const;

/** Reads `length` bytes at `pos` of a file (2-byte aligned buffer, as decodeTensor's typed view wants). */
function readBytes(file: string, pos: number, length: number): Uint8Array {
  const bytes = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, bytes, done, length - done, pos + done);
      if (n === 0) throw new Error(`safetensors: ${file} ended inside a tensor`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/**
 * The checkpoint's tensors as a source, read from disk on each call (row ranges of a matrix read only
 * those bytes). `consumed` collects every name read, so the loader can check the whole set was used.
 */
export function checkpointSource(config: ModelConfig, stored: Map<string, StoredTensor>, consumed: Set<string> = new Set()): WeightSource {
  const get = (name: string) => {
    const t = stored.get(name);
    if (!t) throw new Error(`checkpoint: missing tensor "${name}"`);
    consumed.add(name);
    return t;
  };
  return {
    config,
    lmHeadName: config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight',
    vector(name) {
      const t = get(name);
      return decodeTensor(readBytes(t.file, t.base + t.start, t.end - t.start), t.dtype, t.shape);
    },
    rows(name, row0, rows) {
      const t = get(name);
      const inner = t.shape[1];
      const w = WIDTH[t.dtype];
      if (row0 < 0 || row0 + rows > t.shape[0]) throw new Error(`checkpoint: rows [${row0}, ${row0 + rows}) outside "${name}" [${t.shape}]`);
      return decodeTensor(readBytes(t.file, t.base + t.start + row0 * inner * w, rows * inner * w), t.dtype, [rows, inner]);
    },
  };
}
