// Backend copies derived from one model's params (e.g. the webgpu executor's device weights), kept
// for the params' life so that every generate() on a loaded model reuses them; freed by disposeParams.
import type { LlamaParams } from './weights.js';

/** Anything a backend derives from params and must free explicitly (GPU buffers). */
export interface DerivedResource {
  dispose(): void;
}

// Keyed by the params object itself: a model's params are never mutated in place for inference, and
// a WeakMap lets params that are dropped without dispose be collected (their device copies then leak
// until process exit, as any undisposed GPU buffer would).
const byParams = new WeakMap<LlamaParams, Map<string, DerivedResource>>();

/** The resource under `key` for these params, made once by `make` and reused until releaseDerived. */
export function derivedResource<T extends DerivedResource>(params: LlamaParams, key: string, make: () => T): T {
  let map = byParams.get(params);
  if (!map) {
    map = new Map();
    byParams.set(params, map);
  }
  const hit = map.get(key);
  if (hit) return hit as T;
  const made = make();
  map.set(key, made);
  return made;
}

/** How many resources these params hold (tests: a second generate() adds none). */
export function numDerived(params: LlamaParams): number {
  return byParams.get(params)?.size ?? 0;
}

/** Frees every resource derived from these params (called by disposeParams, hence by a model's dispose()). */
export function releaseDerived(params: LlamaParams): void {
  const map = byParams.get(params);
  if (!map) return;
  byParams.delete(params);
  for (const r of map.values()) r.dispose();
}
