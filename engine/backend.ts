// Picks the engine backend once per process: a real (non-software) GPU adapter through WebGPU, then
// tfjs-node-gpu, then wasm, then cpu. DMS_BACKEND (webgpu | tensorflow | wasm | cpu) overrides the choice;
// the backend and adapter are reported in every result. tfjs is initialised on every backend (it loads weights).
import * as tf from '@tensorflow/tfjs';
import type { AdapterInfo, BackendInfo, BackendName } from './executors/executor.js';

export type { BackendName, BackendInfo, AdapterInfo } from './executors/executor.js';

const NAMES: BackendName[] = ['webgpu', 'tensorflow', 'wasm', 'cpu'];

let chosen: Promise<BackendInfo> | null = null;
let chosenInfo: BackendInfo | null = null;

async function tryTensorflow(): Promise<boolean> {
  try {
    // A variable specifier keeps bundlers and tsc from requiring the optional package.
    const name = '@tensorflow/tfjs-node-gpu';
    await import(/* @vite-ignore */ name);
    return await tf.setBackend('tensorflow');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') {
      console.warn(`engine: @tensorflow/tfjs-node-gpu failed to load (${(err as Error).message}); falling back`);
    }
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    return await tf.setBackend('wasm');
  } catch (err) {
    console.warn(`engine: wasm backend failed (${(err as Error).message}); falling back to cpu`);
    return false;
  }
}

/** The WebGPU adapter when one is there (forced: any adapter; automatic: only a real GPU). */
async function tryWebgpu(forced: boolean): Promise<AdapterInfo | null> {
  const { probeAdapter, gpuContext } = await import('./executors/webgpu/gpu-context.js');
  const probe = await probeAdapter();
  if (!probe || (!forced && probe.software)) return null;
  const ctx = await gpuContext();
  return ctx ? ctx.adapter : null;
}

/** tfjs for the host-side work (loading, fusing weights): the fastest tfjs backend that loads. */
async function initTfjs(): Promise<BackendName> {
  if (await tryTensorflow()) return 'tensorflow';
  if (await tryWasm()) return 'wasm';
  await tf.setBackend('cpu');
  await tf.ready();
  return 'cpu';
}

async function pick(): Promise<BackendInfo> {
  const forced = process.env.DMS_BACKEND;
  if (forced !== undefined && forced !== '') {
    if (!NAMES.includes(forced as BackendName)) throw new Error(`DMS_BACKEND must be one of ${NAMES.join(', ')}, got "${forced}"`);
    if (forced === 'webgpu') {
      const adapter = await tryWebgpu(true);
      if (!adapter)
        throw new Error('DMS_BACKEND=webgpu requested but no WebGPU adapter could be opened (on a machine without a GPU install Mesa lavapipe, see README)');
      await initTfjs();
      return { backend: 'webgpu', adapter };
    }
    const ok = forced === 'tensorflow' ? await tryTensorflow() : forced === 'wasm' ? await tryWasm() : await tf.setBackend('cpu');
    if (!ok) throw new Error(`DMS_BACKEND=${forced} requested but that backend could not be initialised`);
    await tf.ready();
    return { backend: forced as BackendName };
  }
  const adapter = await tryWebgpu(false);
  const tfjs = await initTfjs();
  return adapter ? { backend: 'webgpu', adapter } : { backend: tfjs };
}

/** Initialises the backend (idempotent) and returns its name. */
export async function initBackend(): Promise<BackendName> {
  return (await initBackendInfo()).backend;
}

/** Initialises the backend (idempotent) and returns its name and adapter. */
export function initBackendInfo(): Promise<BackendInfo> {
  chosen ??= pick().then((info) => {
    chosenInfo = info;
    return info;
  });
  return chosen;
}

/** The name of the active backend (after initBackend). */
export function backendName(): BackendName {
  return chosenInfo?.backend ?? (tf.getBackend() as BackendName);
}

/** The active backend and adapter (after initBackend). */
export function backendInfo(): BackendInfo {
  return chosenInfo ?? { backend: tf.getBackend() as BackendName };
}
