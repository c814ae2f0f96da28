import { describe, expect, it } from 'vitest';
import { PagePool } from '../../engine/kv/page-pool.js';
import { PagedCache } from '../../engine/kv/paged-cache.js';

const kv = (x: number, D = 4) => new Float32Array(D).fill(x);

describe('page pool', () => {
  it('sizes from tokens or bytes, allocates, frees, and checks itself', () => {
    const byTokens = new PagePool({ pageSize: 16, headDim: 4, budgetTokens: 100 });
    expect(byTokens.numPages).toBe(6);
    const byBytes = new PagePool({ pageSize: 16, headDim: 4, budgetBytes: 16 * 2 * 4 * 4 * 3 });
    expect(byBytes.numPages).toBe(3);
    const pages = [0, 1, 2].map(() => byBytes.allocate(7));
    expect(byBytes.canAllocate(1)).toBe(false);
    expect(() => byBytes.allocate(7)).toThrow(/exhausted/);
    byBytes.checkIntegrity();
    byBytes.free(pages[1]);
    expect(() => byBytes.free(pages[1])).toThrow(/double free/);
    expect([byBytes.numUsed, byBytes.numFree]).toEqual([2, 1]);
    byBytes.checkIntegrity();
    expect(() => new PagePool({ pageSize: 16, headDim: 4, budgetTokens: 8 })).toThrow(/at least one page/);
  });
});

describe('paged cache', () => {
  it('appends across pages, overwrites, removes with page return, forks and frees', () => {
    const pool = new PagePool({ pageSize: 2, headDim: 4, budgetTokens: 40 });
    const cache = new PagedCache(pool, { numLayers: 2, numKvHeads: 2 }, true);
    const s = cache.addSequence();
    const row = cache.row(s, 1, 0);
    for (let t = 0; t < 5; t++) row.append(kv(t), 0, kv(-t), 0, t);
    expect([row.length, row.pages.length, pool.numUsed]).toEqual([5, 3, 3]);
    expect(cache.pagesNeeded(s, 1)).toBe(3 + 0); // the other 3 rows are empty and need a page each; this one has room
    row.overwrite(1, kv(9), 0, kv(-9), 0, 9);
    expect(Array.from(row.positions.subarray(0, 5))).toEqual([0, 9, 2, 3, 4]);
    const { data, offset } = pool.keys(row.pages[0]);
    expect(data[offset + 4]).toBe(9); // slot 1's key
    expect(Array.from(row.keyBounds!.subarray(0, 8))).toEqual([0, 0, 0, 0, 9, 9, 9, 9]);
    expect(row.remove(0)).toBe(4); // slot 4 (position 4) moves into slot 0; the third page empties and returns
    expect([row.length, row.pages.length, pool.numUsed]).toEqual([4, 2, 2]);
    expect(Array.from(row.positions.subarray(0, 4))).toEqual([4, 9, 2, 3]);
    cache.checkIntegrity();
    const f = cache.fork(s, (x) => x);
    expect(cache.tokensHeld(f)).toBe(4);
    expect(pool.numUsed).toBe(4);
    cache.row(f, 1, 0).overwrite(0, kv(5), 0, kv(5), 0, 5);
    expect(cache.row(s, 1, 0).positions[0]).toBe(4); // the fork owns its own copy
    cache.checkIntegrity();
    cache.freeSequence(s);
    cache.freeSequence(f);
    expect(pool.numUsed).toBe(0);
    cache.checkIntegrity();
  });
});
