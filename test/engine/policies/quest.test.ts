// Quest on hand-made keys: the page bound sum_i max(q_i*min_i, q_i*max_i) bounds every key's score,
// the top ceil(budget / P) pages plus the current one are read, memory keeps every token.
import { describe, expect, it } from 'vitest';
import { PagePool } from '../../../engine/kv/page-pool.js';
import { PagedCache, type CacheRow } from '../../../engine/kv/paged-cache.js';
import { QuestPolicy } from '../../../engine/policies/quest.js';
import { feedRow, gaussian, prng } from './harness.js';

const D = 3;
const zero = new Float32Array(D);

function freshRow(policy: QuestPolicy, pageSize: number, bounds = true): CacheRow {
  const cache = new PagedCache(new PagePool({ pageSize, headDim: D, budgetTokens: 4096 }), { numLayers: 1, numKvHeads: 1 }, bounds);
  const row = cache.row(cache.addSequence(), 0, 0);
  policy.initRow(row);
  return row;
}

const put = (policy: QuestPolicy, row: CacheRow, t: number, k: Float32Array) =>
  policy.insert(row, { position: t, k, kOff: 0, v: zero, vOff: 0, dmsLogit: NaN });

describe('quest', () => {
  it('page bound: exact on a hand-made page, and an upper bound of every key score in it (group summed)', () => {
    const policy = new QuestPolicy({ ratio: 1, pageSize: 2 });
    const row = freshRow(policy, 2);
    put(policy, row, 0, Float32Array.from([1, -2, 0.5]));
    put(policy, row, 1, Float32Array.from([-1, 3, 0.5]));
    // min = (-1, -2, 0.5), max = (1, 3, 0.5); q = (2, -1, 4): max(-2, 2) + max(2, -3) + max(2, 2) = 6.
    expect(policy.pageBound(row, 0, Float32Array.from([2, -1, 4]), 0, 1)).toBeCloseTo(6, 6);
    // Two queries in the group: the bounds add up (q2 = (-1, 1, 0): 1 + 3 + 0 = 4).
    expect(policy.pageBound(row, 0, Float32Array.from([2, -1, 4, -1, 1, 0]), 0, 2)).toBeCloseTo(10, 6);
    const randn = gaussian(prng(7));
    const big = new QuestPolicy({ ratio: 1, pageSize: 4 });
    const r2 = freshRow(big, 4);
    const keys = Array.from({ length: 32 }, () => Float32Array.from({ length: D }, randn));
    for (const [t, k] of keys.entries()) put(big, r2, t, k);
    for (let trial = 0; trial < 20; trial++) {
      const q = Float32Array.from({ length: 2 * D }, randn);
      for (let page = 0; page < 8; page++) {
        let best = -Infinity;
        for (let t = page * 4; t < page * 4 + 4; t++) {
          let s = 0;
          for (let g = 0; g < 2; g++) for (let d = 0; d < D; d++) s += q[g * D + d] * keys[t][d];
          best = Math.max(best, s);
        }
        expect(big.pageBound(r2, page, q, 0, 2)).toBeGreaterThanOrEqual(best - 1e-5);
      }
    }
  });

  it('reads the top ceil(budget / P) pages by bound, in page order, plus the current page; keeps every token', () => {
    // P = 4, floor 8, ratio 4: at 27 tokens the budget is max(8, 7) = 8 -> 2 top pages + the current (7th) page.
    const policy = new QuestPolicy({ ratio: 4, floor: 8, pageSize: 4 });
    const row = freshRow(policy, 4);
    const hot = new Set([1, 4]); // pages whose keys align with the query
    for (let t = 0; t < 27; t++) {
      const page = (t / 4) | 0;
      put(policy, row, t, Float32Array.from(hot.has(page) ? [2, 0, 0] : [0.1 * (page + 1), 0, 0]));
    }
    const out = new Int32Array(64);
    const n = policy.selectSlots(row, Float32Array.from([1, 0, 0]), 0, 1, out);
    expect(Array.from(out.subarray(0, n))).toEqual([4, 5, 6, 7, 16, 17, 18, 19, 24, 25, 26]);
    expect(row.length).toBe(27); // memory keeps every token
    // A negative query flips the order: bounds -0.1, -2, -0.3, -0.4, -2, -0.6 pick pages 0 and 2.
    const m = policy.selectSlots(row, Float32Array.from([-1, 0, 0]), 0, 1, out);
    expect(Array.from(out.subarray(0, m))).toEqual([0, 1, 2, 3, 8, 9, 10, 11, 24, 25, 26]);
  });

  it('reads everything while the candidate pages fit the budget, and accounts reads through the attention step', () => {
    const policy = new QuestPolicy({ ratio: 4, floor: 8, pageSize: 4 });
    const row = freshRow(policy, 4);
    const randn = gaussian(prng(2));
    const q = Float32Array.from({ length: 2 * D }, randn);
    for (let t = 0; t < 60; t++) {
      const { reads, chosen } = feedRow(policy, row, t, Float32Array.from({ length: D }, randn), zero, q, 2, NaN);
      const numPages = Math.ceil((t + 1) / 4);
      const top = policy.topPages(t + 1);
      if (numPages - 1 <= top) {
        expect(chosen).toBeNull();
        expect(reads).toBe(t + 1);
      } else {
        expect(reads).toBe(top * 4 + (t + 1 - (numPages - 1) * 4));
        expect(chosen!.slice(-((t % 4) + 1))).toEqual(Array.from({ length: (t % 4) + 1 }, (_, i) => t - (t % 4) + i)); // the current page
      }
      expect(row.length).toBe(t + 1);
    }
  });

  it('needs key bounds and the cache page size', () => {
    expect(() => freshRow(new QuestPolicy({ ratio: 4 }), 16, false)).toThrow(/key bounds/);
    expect(() => freshRow(new QuestPolicy({ ratio: 4 }), 8)).toThrow(/page size 16 must equal the cache page size 8/);
    expect(() => new QuestPolicy({ ratio: 4, pageSize: 0 })).toThrow(/pageSize/);
  });
});
