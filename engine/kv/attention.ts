// Decode attention over one compacted cache row: the G query heads of a KV group read each slot once,
// so the slots visited are exactly the KV token reads we account. WASM SIMD kernels when available,
// generated JS loops otherwise (and for Quest's selected slots).
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
  out.fill(0, outOff, outOff + G * D);
  const simd = slots === null ? pool.simd(G) : null;
  if (simd) {
    // Operands in the pool's memory: q [G*D], out [G*D], the key and value page tables, scores [G*n].
    const numPages = pages.length;
    const base = pool.scratch(2 * G * D + 2 * numPages + G * n);
    const heap = pool.heap;
    const qB = base,
      oB = base + G * D,
      kT = oB + G * D,
      vT = kT + numPages,
      sB = vT + numPages;
    heap.set(q.subarray(qOff, qOff + G * D), qB);
    pool.heapI32.set(row.keyAddrs.subarray(0, numPages), kT);
    pool.heapI32.set(row.valueAddrs.subarray(0, numPages), vT);
    simd.score(4 * qB, 4 * kT, n, P, 4 * sB, 4 * n, scale);
    for (let g = 0; g < G; g++) softmaxInPlace(heap, sB + g * n, n);
    heap.fill(0, oB, oB + G * D);
    simd.value(4 * vT, n, P, 4 * sB, 4 * n, 4 * oB);
    for (let j = 0; j < G * D; j++) out[outOff + j] = heap[oB + j];
    if (weights) groupAverage(heap, sB, G, n, weights);
    return n;
  }
  const { score, value, groupBlock } = kernelsFor(D, G);
  if (slots === null) {
    for (let g0 = 0; g0 < G; g0 += groupBlock) score(q, qOff + g0 * D, pool, pages, n, sc, g0 * n, scale);
    for (let g = 0; g < G; g++) softmaxInPlace(sc, g * n, n);
    for (let g0 = 0; g0 < G; g0 += groupBlock) value(pool, pages, n, sc, g0 * n, out, outOff + g0 * D);
  } else {
    // Selected slots (Quest): plain loops, slot by slot.
    const heap = pool.heap;
    for (let i = 0; i < n; i++) {
      const s = slots[i];
      const ko = pool.keyOffset(pages[(s / P) | 0]) + (s % P) * D;
      for (let g = 0; g < G; g++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[qOff + g * D + d] * heap[ko + d];
        sc[g * n + i] = dot * scale;
      }
    }
    for (let g = 0; g < G; g++) softmaxInPlace(sc, g * n, n);
    for (let i = 0; i < n; i++) {
      const s = slots[i];
      const vo = pool.valueOffset(pages[(s / P) | 0]) + (s % P) * D;
      for (let g = 0; g < G; g++) {
        const p = sc[g * n + i];
        for (let d = 0; d < D; d++) out[outOff + g * D + d] += p * heap[vo + d];
      }
    }
  }
  if (weights) groupAverage(sc, 0, G, n, weights);
  return n;
}

/** weights[i] = mean over the group of the attention probability of slot i. */
function groupAverage(sc: Float32Array, base: number, G: number, n: number, weights: Float32Array): void {
  for (let i = 0; i < n; i++) {
    let w = 0;
    for (let g = 0; g < G; g++) w += sc[base + g * n + i];
    weights[i] = w / G;
  }
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
