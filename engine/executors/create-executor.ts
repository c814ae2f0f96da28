// Builds the model executor of a backend over a fresh page pool: webgpu keeps the pages on the device
// (loaded lazily, so the wasm path never loads Dawn); every tfjs backend runs the wasm executor.
import { PagePool, type PagePoolOptions } from '../kv/page-pool.js';
import { PagedCache } from '../kv/paged-cache.js';
import type { LlamaParams } from '../model/weights.js';
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

export async function createExecutor(info: BackendInfo, params: LlamaParams, opts: ExecutorOptions): Promise<ModelExecutor> {
  const cfg = params.config;
  if (info.backend === 'webgpu') {
    const { gpuContext } = await import('./webgpu/gpu-context.js');
    const { WebgpuExecutor } = await import('./webgpu/webgpu-executor.js');
    const ctx = await gpuContext();
    if (!ctx) throw new Error('webgpu executor: no WebGPU device');
    const env = process.env.DMS_WEBGPU_WEIGHTS;
    const weights = opts.weights ?? (env === 'f16' || env === 'f32' ? env : 'f32');
    return new WebgpuExecutor(ctx, params, opts.pool, { weights, maxPoolBufferBytes: opts.maxPoolBufferBytes });
  }
  const pool = new PagePool(opts.pool);
  const cache = new PagedCache(pool, { numLayers: cfg.numLayers, numKvHeads: cfg.numKvHeads }, opts.trackKeyBounds);
  return new WasmExecutor(params, cache, info);
}
