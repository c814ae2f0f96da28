// The sliding window (StreamingLLM) on a real row: exactly the sinks plus the newest budget - sinks
// tokens at every length, evicted before attention reads the row; bad options are rejected.
import { describe, expect, it } from 'vitest';
import { PagePool } from '../../../engine/kv/page-pool.js';
import { PagedCache } from '../../../engine/kv/paged-cache.js';
import { WindowPolicy } from '../../../engine/policies/window.js';
import { feedRow, heldPositions } from './harness.js';

const D = 2;
const zero = new Float32Array(D);

describe('window', () => {
  it('holds the sinks and the most recent tokens, max(floor, ceil(t / r)) in all, and reads only those', () => {
    const policy = new WindowPolicy({ ratio: 4, floor: 6, sinks: 3 });
    const cache = new PagedCache(new PagePool({ pageSize: 4, headDim: D, budgetTokens: 1024 }), { numLayers: 1, numKvHeads: 1 });
    const row = cache.row(cache.addSequence(), 0, 0);
    policy.initRow(row);
    for (let t = 0; t < 100; t++) {
      const { reads } = feedRow(policy, row, t, zero, zero, Float32Array.from([1, 0]), 1, NaN);
      const seen = t + 1;
      const b = Math.min(seen, Math.max(6, Math.ceil(seen / 4)));
      const recent = Array.from({ length: b - Math.min(3, b) }, (_, i) => t - (b - Math.min(3, b)) + 1 + i);
      const want = seen <= b ? Array.from({ length: seen }, (_, i) => i) : [0, 1, 2, ...recent];
      expect(heldPositions(row)).toEqual(want);
      expect(reads).toBe(b);
      cache.checkIntegrity();
    }
    expect(row.length).toBe(25);
    expect(row.pages.length).toBe(7); // evicted slots really returned their pages
  });

  it('rejects bad options', () => {
    expect(() => new WindowPolicy({ ratio: 4, floor: 4, sinks: 4 })).toThrow(/sinks/);
    expect(() => new WindowPolicy({ ratio: NaN })).toThrow(/ratio/);
    expect(() => new WindowPolicy({ ratio: 2, floor: 2.5 })).toThrow(/floor/);
  });
});
