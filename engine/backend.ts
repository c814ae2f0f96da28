// Picks the TensorFlow.js backend once per process: tfjs-node-gpu when it loads, else wasm, else cpu.
// DMS_BACKEND (tensorflow | wasm | cpu) overrides the choice; the name is reported in every result.
import * as tf from '@tensorflow/tfjs';

import type { BackendName } from './executors/executor.js';

export type { BackendName } from './executors/executor.js';

let chosen: Promise<BackendName> | null = null;

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

async function pick(): Promise<BackendName> {
  const forced = process.env.DMS_BACKEND;
  if (forced !== undefined && forced !== '') {
    if (forced !== 'tensorflow' && forced !== 'wasm' && forced !== 'cpu') {
      throw new Error(`DMS_BACKEND must be tensorflow, wasm or cpu, got "${forced}"`);
    }
    const ok = forced === 'tensorflow' ? await tryTensorflow() : forced === 'wasm' ? await tryWasm() : await tf.setBackend('cpu');
    if (!ok) throw new Error(`DMS_BACKEND=${forced} requested but that backend could not be initialised`);
    await tf.ready();
    return forced;
  }
  if (await tryTensorflow()) return 'tensorflow';
  if (await tryWasm()) return 'wasm';
  await tf.setBackend('cpu');
  await tf.ready();
  return 'cpu';
}

/** Initialises the backend (idempotent) and returns its name. */
export function initBackend(): Promise<BackendName> {
  chosen ??= pick();
  return chosen;
}

/** The name of the active backend (after initBackend). */
export function backendName(): BackendName {
  return tf.getBackend() as BackendName;
}
