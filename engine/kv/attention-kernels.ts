// Decode-attention inner loops generated per (head dim D, query group size G): fully unrolled, with
// the queries and the value accumulators held in locals. V8 runs these 2.5-4x faster than generic loops.

import type { PagePool } from './page-pool.js';

/** Scores of G queries against slots 0..n-1 of a row (pages in slot order): sc[s0 + g*n + i] = scale * q_g . k_i. */
export type ScoreKernel = (q: Float32Array, qOff: number, pool: PagePool, pages: number[], n: number, sc: Float32Array, s0: number, scale: number) => void;
/** Weighted value sum over slots 0..n-1: out[outOff + g*D + d] += sum_i sc[s0 + g*n + i] * v_i[d]. */
export type ValueKernel = (pool: PagePool, pages: number[], n: number, sc: Float32Array, s0: number, out: Float32Array, outOff: number) => void;

// Both kernels walk the row page by page: P consecutive slots share one chunk array and base offset.
const PAGE_LOOP_OPEN = (arr: string, off: string, D: number) =>
  `const P=pool.pageSize;const ${arr}=pool.heap;for(let pi=0,i=0;i<n;pi++){let ${off}=pool.${arr}Offset(pages[pi]);const end=Math.min(n,i+P);for(;i<end;i++,${off}+=${D}){`;

export interface Kernels {
  score: ScoreKernel;
  value: ValueKernel;
  /** Queries per kernel call (G, or 1 when G*D is too large to keep in locals). */
  groupBlock: number;
}

const cache = new Map<string, Kernels>();
const MAX_LOCALS = 128;
const MAX_UNROLL = 256;

function genericScore(D: number, G: number): ScoreKernel {
  return (q, qOff, pool, pages, n, sc, s0, scale) => {
    const P = pool.pageSize;
    const keys = pool.heap;
    for (let pi = 0, i = 0; i < n; pi++) {
      let ko = pool.keyOffset(pages[pi]);
      for (const end = Math.min(n, i + P); i < end; i++, ko += D) {
        for (let g = 0, qo = qOff; g < G; g++, qo += D) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qo + d] * keys[ko + d];
          sc[s0 + g * n + i] = dot * scale;
        }
      }
    }
  };
}

function genericValue(D: number, G: number): ValueKernel {
  return (pool, pages, n, sc, s0, out, outOff) => {
    const P = pool.pageSize;
    const vals = pool.heap;
    for (let pi = 0, i = 0; i < n; pi++) {
      let vo = pool.valueOffset(pages[pi]);
      for (const end = Math.min(n, i + P); i < end; i++, vo += D) {
        for (let g = 0, oo = outOff; g < G; g++, oo += D) {
          const p = sc[s0 + g * n + i];
          for (let d = 0; d < D; d++) out[oo + d] += p * vals[vo + d];
        }
      }
    }
  };
}

function unrolledScore(D: number, G: number): ScoreKernel {
  let src = '';
  for (let g = 0; g < G; g++) for (let d = 0; d < D; d++) src += `const q${g}_${d}=q[qOff+${g * D + d}];`;
  src += PAGE_LOOP_OPEN('key', 'ko', D);
  for (let d = 0; d < D; d++) src += `const k${d}=key[ko+${d}];`;
  for (let g = 0; g < G; g++) src += `sc[s0+${g}*n+i]=(${Array.from({ length: D }, (_, d) => `q${g}_${d}*k${d}`).join('+')})*scale;`;
  src += '}}';
  return new Function('q', 'qOff', 'pool', 'pages', 'n', 'sc', 's0', 'scale', src) as ScoreKernel;
}

function unrolledValue(D: number, G: number): ValueKernel {
  let src = '';
  for (let g = 0; g < G; g++) for (let d = 0; d < D; d++) src += `let a${g}_${d}=0;`;
  src += PAGE_LOOP_OPEN('value', 'vo', D);
  for (let g = 0; g < G; g++) src += `const p${g}=sc[s0+${g}*n+i];`;
  for (let d = 0; d < D; d++) {
    src += `const v${d}=value[vo+${d}];`;
    for (let g = 0; g < G; g++) src += `a${g}_${d}+=p${g}*v${d};`;
  }
  src += '}}';
  for (let g = 0; g < G; g++) for (let d = 0; d < D; d++) src += `out[outOff+${g * D + d}]+=a${g}_${d};`;
  return new Function('pool', 'pages', 'n', 'sc', 's0', 'out', 'outOff', src) as ValueKernel;
}

/** The kernels for a head dim and group size (built once, cached). */
export function kernelsFor(D: number, G: number): Kernels {
  const key = `${D}x${G}`;
  let k = cache.get(key);
  if (!k) {
    const block = G * D <= MAX_LOCALS ? G : 1;
    k =
      D * block <= MAX_UNROLL
        ? { score: unrolledScore(D, block), value: unrolledValue(D, block), groupBlock: block }
        : { score: genericScore(D, block), value: genericValue(D, block), groupBlock: block };
    cache.set(key, k);
  }
  return k;
}
