// H2O on hand-made attention: scores accumulate over every query (and follow slot moves), the victim
// is the lowest accumulated score outside the recent half, and heavyFraction 0 degrades to a window.
import { describe, expect, it } from 'vitest';
import { PagePool } from '../../../engine/kv/page-pool.js';
import { PagedCache, type CacheRow } from '../../../engine/kv/paged-cache.js';
import { H2oPolicy } from '../../../engine/policies/h2o.js';
import { feedRow, heldPositions, prng } from './harness.js';

const D = 2;
const zero = new Float32Array(D);
const tok = (t: number) => ({ position: t, k: zero, kOff: 0, v: zero, vOff: 0, dmsLogit: NaN });

function freshRow(policy: H2oPolicy): { row: CacheRow; cache: PagedCache } {
  const cache = new PagedCache(new PagePool({ pageSize: 2, headDim: D, budgetTokens: 256 }), { numLayers: 1, numKvHeads: 1 });
  const row = cache.row(cache.addSequence(), 0, 0);
  policy.initRow(row);
  return { row, cache };
}

/** Weights by position for the row's current slot order. */
function bySlot(row: CacheRow, w: Record<number, number>): Float32Array {
  return Float32Array.from(row.positions.subarray(0, row.length), (p) => w[p] ?? 0);
}

describe('h2o', () => {
  it('evicts the lowest accumulated score, not the lowest current weight, outside the recent half', () => {
    // Budget 4 = 2 heavy + 2 recent.
    const policy = new H2oPolicy({ ratio: 1e9, floor: 4 });
    const { row, cache } = freshRow(policy);
    const steps: Array<Record<number, number>> = [
      { 0: 1 },
      { 0: 0.5, 1: 0.5 },
      { 0: 0.4, 1: 0.05, 2: 0.55 },
      { 0: 0.2, 1: 0.05, 2: 0.15, 3: 0.6 }, // accumulated: 0 -> 2.1, 1 -> 0.6, 2 -> 0.7
    ];
    steps.forEach((w, t) => {
      policy.insert(row, tok(t));
      policy.observe(row, bySlot(row, w), null, row.length, t);
    });
    expect(row.length).toBe(4);
    // Position 0 has the lowest weight now (TOVA would drop it) but the highest sum; 1 has the lowest sum.
    policy.insert(row, tok(4));
    policy.observe(row, bySlot(row, { 0: 0.01, 1: 0.3, 2: 0.25, 3: 0.04, 4: 0.4 }), null, 5, 4); // sums 0: 2.11, 1: 0.9, 2: 0.95
    expect(heldPositions(row)).toEqual([0, 2, 3, 4]);
    expect(Array.from(row.positions.subarray(0, 4))).toEqual([0, 4, 2, 3]); // position 4 moved into slot 1
    // Position 3 (0.64) trailed 2 (0.95); at t=5 it leaves the recent half, and its new weight lifts it past 2.
    policy.insert(row, tok(5));
    policy.observe(row, bySlot(row, { 0: 0.1, 2: 0.1, 3: 0.6, 4: 0.1, 5: 0.1 }), null, 5, 5); // 0: 2.21, 2: 1.05, 3: 1.24
    expect(heldPositions(row)).toEqual([0, 3, 4, 5]);
    expect(Array.from(row.positions.subarray(0, 4))).toEqual([0, 4, 5, 3]);
    // Slot 1 carries position 4's own score (0.5), not the evicted position 1's (0.9): 0.5 + 0.6 stays below 3's 1.24.
    policy.insert(row, tok(6));
    policy.observe(row, bySlot(row, { 4: 0.6, 6: 0.4 }), null, 5, 6);
    expect(heldPositions(row)).toEqual([0, 3, 5, 6]);
    cache.checkIntegrity();
  });

  it('forked rows keep their own scores', () => {
    const policy = new H2oPolicy({ ratio: 1e9, floor: 2 });
    const { row, cache } = freshRow(policy);
    policy.insert(row, tok(0));
    policy.observe(row, bySlot(row, { 0: 1 }), null, 1, 0);
    policy.insert(row, tok(1));
    policy.observe(row, bySlot(row, { 0: 0.9, 1: 0.1 }), null, 2, 1);
    const forkRow = cache.row(
      cache.fork(0, (s) => policy.cloneState(s)),
      0,
      0,
    );
    // Parent: position 1 climbs above 0; fork: it does not. At t=2 (budget 2 = 1 heavy + 1 recent) they differ.
    policy.insert(row, tok(2));
    policy.observe(row, bySlot(row, { 1: 2.5, 2: 0 }), null, 3, 2);
    policy.insert(forkRow, tok(2));
    policy.observe(forkRow, bySlot(forkRow, { 0: 0.5, 1: 0.5 }), null, 3, 2);
    expect(heldPositions(row)).toEqual([1, 2]);
    expect(heldPositions(forkRow)).toEqual([0, 2]);
    cache.checkIntegrity();
  });

  it('accumulates the weights the attention step produces (through the real kernel)', () => {
    // A key aligned with every query collects most of the attention; it survives as a heavy hitter long after it leaves the recent half.
    const policy = new H2oPolicy({ ratio: 1e9, floor: 6 });
    const { row } = freshRow(policy);
    const rand = prng(3);
    const q = Float32Array.from([3, 0, 3, 0]); // G = 2, both heads look along x
    for (let t = 0; t < 40; t++) {
      const k = t === 5 ? Float32Array.from([3, 0]) : Float32Array.from([rand() - 0.5, rand() - 0.5]);
      feedRow(policy, row, t, k, zero, q, 2, NaN);
      expect(row.length).toBe(Math.min(t + 1, 6));
    }
    expect(heldPositions(row)).toContain(5);
    expect(heldPositions(row).slice(-3)).toEqual([37, 38, 39]); // recent half
  });

  it('heavyFraction 0 keeps only the most recent tokens (a window without sinks)', () => {
    const policy = new H2oPolicy({ ratio: 3, floor: 4, heavyFraction: 0 });
    const { row } = freshRow(policy);
    const rand = prng(1);
    for (let t = 0; t < 30; t++) {
      policy.insert(row, tok(t));
      policy.observe(
        row,
        Float32Array.from({ length: row.length }, () => rand()),
        null,
        row.length,
        t,
      );
      const b = Math.min(t + 1, Math.max(4, Math.ceil((t + 1) / 3)));
      expect(heldPositions(row)).toEqual(Array.from({ length: b }, (_, i) => t - b + 1 + i));
    }
  });

  it('rejects bad options', () => {
    expect(() => new H2oPolicy({ ratio: 4, heavyFraction: 1 })).toThrow(/heavyFraction/);
    expect(() => new H2oPolicy({ ratio: 4, floor: 0 })).toThrow(/floor/);
    expect(() => new H2oPolicy({ ratio: 4, recent: 0 })).toThrow(/recent/);
  });
});
