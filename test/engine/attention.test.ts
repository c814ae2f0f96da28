// Decode attention kernels: WASM SIMD and generated JS loops agree with a plain reference, for the
// whole row and for selected slots (Quest), across head dims and group sizes.
import { describe, expect, it } from 'vitest';
import { attendRow } from '../../engine/kv/attention.js';
import { PagePool } from '../../engine/kv/page-pool.js';
import { PagedCache } from '../../engine/kv/paged-cache.js';
import { Rng } from '../../engine/runtime/sampler.js';

function reference(keys: Float32Array[], vals: Float32Array[], q: Float32Array, G: number, D: number, scale: number, slots: number[]) {
  const out = new Float32Array(G * D);
  const weights = new Float32Array(slots.length);
  for (let g = 0; g < G; g++) {
    const s = slots.map((j) => keys[j].reduce((a, k, d) => a + k * q[g * D + d], 0) * scale);
    const m = Math.max(...s);
    const e = s.map((x) => Math.exp(x - m));
    const z = e.reduce((a, b) => a + b, 0);
    slots.forEach((j, i) => {
      weights[i] += e[i] / z / G;
      for (let d = 0; d < D; d++) out[g * D + d] += (e[i] / z) * vals[j][d];
    });
  }
  return { out, weights };
}

describe('attendRow', () => {
  for (const [D, G, n] of [
    [32, 2, 45],
    [8, 2, 17],
    [16, 4, 3],
    [6, 1, 20],
  ] as const) {
    for (const simd of [true, false]) {
      it(`D=${D} G=${G} n=${n} ${simd ? 'simd' : 'js'}`, () => {
        const rng = new Rng(D * 100 + G);
        const rand = (len: number) => Float32Array.from({ length: len }, () => rng.next() * 2 - 1);
        const pool = new PagePool({ pageSize: 4, headDim: D, budgetTokens: 256, simd });
        const cache = new PagedCache(pool, { numLayers: 1, numKvHeads: 1 });
        const row = cache.row(cache.addSequence(), 0, 0);
        const keys = Array.from({ length: n }, () => rand(D));
        const vals = Array.from({ length: n }, () => rand(D));
        for (const [i, k] of keys.entries()) row.append(k, 0, vals[i], 0, i);
        const q = rand(G * D + 3);
        const scale = 1 / Math.sqrt(D);
        const out = new Float32Array(G * D + 5).fill(9);
        const w = new Float32Array(n);
        expect(attendRow(row, q, 3, G, scale, out, 5, null, -1, w)).toBe(n);
        const ref = reference(
          keys,
          vals,
          q.subarray(3),
          G,
          D,
          scale,
          keys.map((_, i) => i),
        );
        for (const [i, x] of ref.out.entries()) expect(out[5 + i]).toBeCloseTo(x, 5);
        for (const [i, x] of ref.weights.entries()) expect(w[i]).toBeCloseTo(x, 5);
        const pick = Int32Array.from([n - 1, 0, Math.floor(n / 2)]);
        const out2 = new Float32Array(G * D);
        expect(attendRow(row, q, 3, G, scale, out2, 0, pick, 3, null)).toBe(3);
        for (const [i, x] of reference(keys, vals, q.subarray(3), G, D, scale, [...pick]).out.entries()) expect(out2[i]).toBeCloseTo(x, 5);
      });
    }
  }
});
