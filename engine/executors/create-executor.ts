// Builds the model executor of a backend over a fresh page pool: webgpu keeps the pages on the device
// (loaded lazily, so the wasm path never loads Dawn); every tfjs backend runs the wasm executor.
import { PagePool, type PagePoolOptions } from '../kv/page-pool.js';
import { PagedCache } from '../kv/paged-cache.js';
import { isDeviceOnly, type ModelWeights } from '../model/weight-source.js';
import type { BackendInfo, ModelExecutor } from './executor.js';
import { WasmExecutor } from './wasm/wasm-executor.js';

export interface ExecutorOptions {
  /** The page pool: page size, head dim and KV budget. */
  pool: PagePoolOptions;
  /** The cache keeps per-page key bounds (Quest; wasm only). */
  trackKeyBounds: boolean;
  /** webgpu: weight precision (default f32, or DMS_WEBGPU_WEIGHTS). */
  weights?: 'f32' | 'f16';
  /** webgpu: most bytes of one K or V pool buffer (default: the adapter's limits; tests force a split). */
  maxPoolBufferBytes?: number;
}

/** The webgpu weight precision: the option, else DMS_WEBGPU_WEIGHTS (f32 | f16), else f32. */
export function webgpuWeightPrecision(asked?: 'f32' | 'f16'): 'f32' | 'f16' {
  const env = process.env.DMS_WEBGPU_WEIGHTS;
  return asked ?? (env === 'f16' || env === 'f32' ? env : 'f32');
}

export async function createExecutor(info: BackendInfo, weights: ModelWeights, opts: ExecutorOptions): Promise<ModelExecutor> {
  const cfg = weights.config;
  if (info.backend === 'webgpu') {
    const { gpuContext } = await import('./webgpu/gpu-context.js');
    const { WebgpuExecutor } = await import('./webgpu/webgpu-executor.js');
    const ctx = await gpuContext();
    if (!ctx) throw new Error('webgpu executor: no WebGPU device');
    return WebgpuExecutor.create(ctx, weights, opts.pool, { weights: webgpuWeightPrecision(opts.weights), maxPoolBufferBytes: opts.maxPoolBufferBytes });
  }
  if (isDeviceOnly(weights))
    throw new Error(
      `${info.backend} executor: this model was loaded for the webgpu backend and its weights are on the device only (no tfjs tensors); load it with loadModel(dir) to run it on ${info.backend}`,
    );
  const pool = new PagePool(opts.pool);
  const cache = new PagedCache(pool, { numLayers: cfg.numLayers, numKvHeads: cfg.numKvHeads }, opts.trackKeyBounds);
  return new WasmExecutor(weights, cache, info);
}
