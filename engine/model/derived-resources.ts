// Backend copies derived from one model's weights (e.g. the webgpu executor's device weights), kept
// for the weights' life so that every generate() on a loaded model reuses them; freed by the model's dispose().
import type { ModelWeights } from './weight-source.js';

/** Anything a backend derives from params and must free explicitly (GPU buffers). */
export interface DerivedResource {
  dispose(): void;
}

// Keyed by the weights object itself (tfjs params, or a device-only load): a model's params are never
// mutated in place for inference, and a WeakMap lets weights that are dropped without dispose be
// collected (their device copies then leak until process exit, as any undisposed GPU buffer would).
const byParams = new WeakMap<ModelWeights, Map<string, DerivedResource>>();

/** The resource under `key` for these weights, made once by `make` and reused until releaseDerived. */
export function derivedResource<T extends DerivedResource>(params: ModelWeights, key: string, make: () => T): T {
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
export function numDerived(params: ModelWeights): number {
  return byParams.get(params)?.size ?? 0;
}

/** Frees every resource derived from these params (called by disposeParams, hence by a model's dispose()). */
export function releaseDerived(params: ModelWeights): void {
  const map = byParams.get(params);
  if (!map) return;
  byParams.delete(params);
  for (const r of map.values()) r.dispose();
}

/** Drops the resource under `key` without disposing it (a build that failed: the next call makes it again). */
export function forgetDerived(params: ModelWeights, key: string): void {
  byParams.get(params)?.delete(key);
}
