// Deterministic pseudo-random numbers for the task generators (seed -> identical problem everywhere).
// A splitmix32-style hash mixes seed and salt; mulberry32 then produces the stream.

/** A small deterministic random source; plain functions over one 32-bit state. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy of an array (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[];
}

function hash32(x: number): number {
  let h = x | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32: uniform floats in [0, 1) from a 32-bit state, the raw stream (tests and benches use it directly). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Creates the generator for (seed, salt); the salt separates families that share a seed. */
export function makeRng(seed: number, salt = 0): Rng {
  // Seeds may exceed 2^32: fold the high part in so that seed s and s + 2^32 differ.
  const hi = Math.floor(seed / 4294967296);
  const next = mulberry32(hash32(hash32(seed >>> 0) ^ hash32(hi + 0x9e3779b9) ^ hash32(salt + 0x7f4a7c15)));
  const int = (lo: number, hi2: number): number => lo + Math.floor(next() * (hi2 - lo + 1));
  return {
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)],
    shuffle: (items) => {
      const out = items.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
  };
}
