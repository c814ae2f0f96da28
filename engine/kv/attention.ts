// Decode attention over one compacted cache row in plain TypedArray loops: the G query heads of a
// KV group read each slot once, so the slots visited are exactly the KV token reads we account.
import { kernelsFor } from './attention-kernels.js';
import type { CacheRow } from './paged-cache.js';

let scratch = new Float32Array(1024);

/**
 * softmax(q k^T * scale) v for the G queries (G*D floats at q[qOff..]) of one KV group over a row.
 * slots: the slot indices to read (n of them), or null to read slots 0..row.length-1.
 * Writes G*D floats to out[outOff..]; when weights is given, writes each read slot's attention weight
 * averaged over the group (weights[i] for the i-th slot read). Returns the number of slots read.
 */
export function attendRow(
  row: CacheRow,
  q: Float32Array,
  qOff: number,
  G: number,
  scale: number,
  out: Float32Array,
  outOff: number,
  slots: Int32Array | null = null,
  numSlots = -1,
  weights: Float32Array | null = null,
): number {
  const pool = row.cache.pool;
  const D = pool.headDim;
  const P = pool.pageSize;
  const n = slots ? numSlots : row.length;
  if (scratch.length < G * n) scratch = new Float32Array(Math.max(G * n, scratch.length * 2));
  const sc = scratch; // [G, n] scores, then probabilities
  const pages = row.pages;
  const { score, value, groupBlock } = kernelsFor(D, G);
  out.fill(0, outOff, outOff + G * D);
  if (slots === null) {
    for (let g0 = 0; g0 < G; g0 += groupBlock) score(q, qOff + g0 * D, pool, pages, n, sc, g0 * n, scale);
    for (let g = 0; g < G; g++) softmaxInPlace(sc, g * n, n);
    for (let g0 = 0; g0 < G; g0 += groupBlock) value(pool, pages, n, sc, g0 * n, out, outOff + g0 * D);
  } else {
    // Selected slots (Quest): plain loops, slot by slot.
    for (let i = 0; i < n; i++) {
      const s = slots[i];
      const page = pages[(s / P) | 0];
      const keys = pool.keyChunk(page);
      const ko = pool.pageOffset(page) + (s % P) * D;
      for (let g = 0; g < G; g++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[qOff + g * D + d] * keys[ko + d];
        sc[g * n + i] = dot * scale;
      }
    }
    for (let g = 0; g < G; g++) softmaxInPlace(sc, g * n, n);
    for (let i = 0; i < n; i++) {
      const s = slots[i];
      const page = pages[(s / P) | 0];
      const vals = pool.valueChunk(page);
      const vo = pool.pageOffset(page) + (s % P) * D;
      for (let g = 0; g < G; g++) {
        const p = sc[g * n + i];
        for (let d = 0; d < D; d++) out[outOff + g * D + d] += p * vals[vo + d];
      }
    }
  }
  if (weights) {
    for (let i = 0; i < n; i++) {
      let w = 0;
      for (let g = 0; g < G; g++) w += sc[g * n + i];
      weights[i] = w / G;
    }
  }
  return n;
}

function softmaxInPlace(sc: Float32Array, base: number, n: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (sc[base + i] > max) max = sc[base + i];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(sc[base + i] - max);
    sc[base + i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < n; i++) sc[base + i] *= inv;
}
