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
  /** webgpu: weight precision (default: DMS_WEBGPU_WEIGHTS, else f16 on a GPU with shader-f16, else f32). */
  weights?: 'f32' | 'f16';
  /** webgpu: most bytes of one K or V pool buffer (default: the adapter's limits; tests force a split). */
  maxPoolBufferBytes?: number;
  /** webgpu: top candidates per top-k / top-p row (default 64; see WebgpuExecutorOptions). */
  numCandidates?: number;
}

/**
 * The webgpu weight precision: the option, else DMS_WEBGPU_WEIGHTS (f32 | f16), else f16 on a GPU that
 * offers shader-f16 (half the weight bytes each decode step reads) and f32 elsewhere. Software adapters
 * (lavapipe) default to f32: they serve tests, which compare against wasm's f32 within 1e-4.
 */
export function webgpuWeightPrecision(asked: 'f32' | 'f16' | undefined, adapter: { f16: boolean; software: boolean }): 'f32' | 'f16' {
  const env = process.env.DMS_WEBGPU_WEIGHTS;
  return asked ?? (env === 'f16' || env === 'f32' ? env : adapter.f16 && !adapter.software ? 'f16' : 'f32');
}

export async function createExecutor(info: BackendInfo, weights: ModelWeights, opts: ExecutorOptions): Promise<ModelExecutor> {
  const cfg = weights.config;
  if (info.backend === 'webgpu') {
    const { gpuContext } = await import('./webgpu/gpu-context.js');
    const { WebgpuExecutor } = await import('./webgpu/webgpu-executor.js');
    const ctx = await gpuContext();
    if (!ctx) throw new Error('webgpu executor: no WebGPU device');
    const precision = webgpuWeightPrecision(opts.weights, ctx);
    return WebgpuExecutor.create(ctx, weights, opts.pool, {
      weights: precision,
      maxPoolBufferBytes: opts.maxPoolBufferBytes,
      numCandidates: opts.numCandidates,
    });
  }
  if (isDeviceOnly(weights))
    throw new Error(
      `${info.backend} executor: this model was loaded for the webgpu backend and its weights are on the device only (no tfjs tensors); load it with loadModel(dir) to run it on ${info.backend}`,
    );
  const pool = new PagePool(opts.pool);
  const cache = new PagedCache(pool, { numLayers: cfg.numLayers, numKvHeads: cfg.numKvHeads }, opts.trackKeyBounds);
  return new WasmExecutor(weights, cache, info);
}
