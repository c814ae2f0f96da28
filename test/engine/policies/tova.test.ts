// TOVA on hand-made attention: the victim is the argmin of the group-averaged weight of the current
// query (not any single head's argmin), the current token is never the victim, ties go to the older token.
import { describe, expect, it } from 'vitest';
import { PagePool } from '../../../engine/kv/page-pool.js';
import { PagedCache, type CacheRow } from '../../../engine/kv/paged-cache.js';
import { TovaPolicy } from '../../../engine/policies/tova.js';
import { feedRow, heldPositions } from './harness.js';

const D = 2;

function freshRow(policy: TovaPolicy): { row: CacheRow; cache: PagedCache } {
  const cache = new PagedCache(new PagePool({ pageSize: 4, headDim: D, budgetTokens: 256 }), { numLayers: 1, numKvHeads: 1 });
  const row = cache.row(cache.addSequence(), 0, 0);
  policy.initRow(row);
  return { row, cache };
}

const zero = new Float32Array(D);
const vec = (...x: number[]) => Float32Array.from(x);

describe('tova', () => {
  it('evicts the argmin of the group-averaged weight, computed by the attention step itself', () => {
    // Budget 4 at every length (huge ratio, floor 4). Query head 0 looks along x, head 1 along y:
    // head 0 alone would drop position 1, head 1 alone position 2; their mean drops position 3.
    const policy = new TovaPolicy({ ratio: 1e9, floor: 4 });
    const { row, cache } = freshRow(policy);
    const keys = [vec(0, 0), vec(-1, 2), vec(2, -1), vec(-0.5, -0.5), vec(1, 1)];
    const q = vec(4, 0, 0, 4); // [G=2, D]
    for (const [t, k] of keys.entries()) feedRow(policy, row, t, k, zero, q, 2, NaN);
    expect(heldPositions(row)).toEqual([0, 1, 2, 4]);
    cache.checkIntegrity();
  });

  it('never evicts the current token even when its weight is lowest; ties go to the older position', () => {
    const policy = new TovaPolicy({ ratio: 1e9, floor: 3 });
    const { row } = freshRow(policy);
    const tok = (t: number) => ({ position: t, k: zero, kOff: 0, v: zero, vOff: 0, dmsLogit: NaN });
    for (let t = 0; t < 3; t++) {
      policy.insert(row, tok(t));
      policy.observe(row, new Float32Array(t + 1).fill(1 / (t + 1)), null, t + 1, t);
    }
    expect(row.length).toBe(3);
    policy.insert(row, tok(3));
    // Slots hold positions 0..3; the current token (slot 3) has the lowest weight; 0 and 2 tie.
    policy.observe(row, vec(0.3, 0.4, 0.3, 0.0), null, 4, 3);
    expect(heldPositions(row)).toEqual([1, 2, 3]);
    expect(Array.from(row.positions.subarray(0, 3))).toEqual([3, 1, 2]); // the last slot moved into slot 0
    policy.insert(row, tok(4));
    policy.observe(row, vec(0.1, 0.5, 0.2, 0.2), null, 4, 4); // slot 0 = position 3 is now the lowest
    expect(heldPositions(row)).toEqual([1, 2, 4]);
  });

  it('keeps a window of recent tokens when asked, and honours the budget growth ceil(t / r)', () => {
    const policy = new TovaPolicy({ ratio: 2, floor: 2, recent: 2 });
    const { row } = freshRow(policy);
    const tok = (t: number) => ({ position: t, k: zero, kOff: 0, v: zero, vOff: 0, dmsLogit: NaN });
    for (let t = 0; t < 12; t++) {
      policy.insert(row, tok(t));
      // The newest two tokens get the lowest weights, so only the recent-window rule saves them.
      const w = Float32Array.from(row.positions.subarray(0, row.length), (p) => (p >= t - 1 ? 0 : 1 + p));
      policy.observe(row, w, null, row.length, t);
      expect(row.length).toBe(Math.min(t + 1, Math.max(2, Math.ceil((t + 1) / 2))));
      expect(heldPositions(row)).toContain(t);
      if (t >= 1) expect(heldPositions(row)).toContain(t - 1);
    }
  });

  it('rejects bad options and out-of-order tokens', () => {
    expect(() => new TovaPolicy({ ratio: 0.5 })).toThrow(/ratio/);
    expect(() => new TovaPolicy({ ratio: 4, floor: 4, recent: 5 })).toThrow(/recent/);
    const policy = new TovaPolicy({ ratio: 4 });
    const { row } = freshRow(policy);
    expect(() => policy.insert(row, { position: 1, k: zero, kOff: 0, v: zero, vOff: 0, dmsLogit: NaN })).toThrow(/expected position 0/);
  });
});
