// Loads a checkpoint for the backend that will run it: tfjs params (loadModel) on wasm / tensorflow /
// cpu; on webgpu straight from the safetensors shards to device buffers, with no tfjs tensors at all.
import { initBackendInfo } from '../backend.js';
import { loadModel } from '../model/load-model.js';
import type { LoadedModel } from '../model/weights.js';
import { webgpuWeightPrecision } from './create-executor.js';
import type { BackendInfo } from './executor.js';

export interface LoadOptions {
  /** The backend to load for (default: the process's, initBackendInfo). */
  backend?: BackendInfo;
  /** webgpu: weight precision on the device (default as webgpuWeightPrecision decides). */
  weights?: 'f32' | 'f16';
}

/** A served model: the same strict checks on every backend; on webgpu its weights live on the device only. */
export async function loadModelForBackend(dir: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  const info = opts.backend ?? (await initBackendInfo());
  if (info.backend !== 'webgpu') return loadModel(dir);
  const { gpuContext } = await import('./webgpu/gpu-context.js');
  const { loadModelToDevice } = await import('./webgpu/load-to-device.js');
  const ctx = await gpuContext();
  if (!ctx) throw new Error('loadModelForBackend: webgpu backend but no WebGPU device');
  return loadModelToDevice(dir, ctx, webgpuWeightPrecision(opts.weights, ctx));
}
