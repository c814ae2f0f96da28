// The K/V pool split (no device needed): how many buffers a budget takes under given limits, whole
// pages per buffer, the 2^31-slot bound, and accessors that stay a plain index with one buffer.
import { describe, expect, it } from 'vitest';
import { poolLayout, poolWgsl } from '../../../engine/executors/webgpu/wgsl-pool.js';

describe('poolLayout', () => {
  it('the 1B shape at 32K under a budget of 16 vanilla sequences: 17.2 GB per pool, 5 buffers under a 4 GiB binding limit', () => {
    const rows = 16 * 8; // layers x KV heads
    const P = 16;
    const D = 64;
    const tokens = 16 * rows * (32768 + 16 + P); // as bench/engine-webgpu-bench.ts sizes it
    const numPages = Math.ceil(tokens / P);
    const bytes = numPages * P * D * 4;
    expect(bytes).toBeGreaterThan(17e9);
    const layout = poolLayout(numPages, P, D, 2 ** 32 - 1);
    expect(layout.numBuffers).toBe(Math.ceil(bytes / (2 ** 32 - 1)));
    expect(layout.numBuffers).toBe(5);
    expect(layout.slotsPerBuffer % P).toBe(0);
    expect(layout.pagesPerBuffer * P * D * 4).toBeLessThanOrEqual(2 ** 32 - 1);
    expect(layout.pagesPerBuffer * layout.numBuffers).toBeGreaterThanOrEqual(numPages);
  });

  it('whole pages only: a cap below one page, or past 2^31 slots, is refused naming the numbers', () => {
    expect(() => poolLayout(10, 16, 64, 4095)).toThrow(/one K\/V page \(4096 bytes\) exceeds the per-buffer limit of 4095 bytes/);
    expect(() => poolLayout(2 ** 27, 16, 64, 2 ** 32)).toThrow(/exceeds 2\^31 slots/);
    expect(poolLayout(10, 16, 64, 4096 * 3 + 100)).toEqual({ numBuffers: 4, slotsPerBuffer: 48, pagesPerBuffer: 3 });
    expect(poolLayout(10, 16, 64, 1 << 30)).toEqual({ numBuffers: 1, slotsPerBuffer: 160, pagesPerBuffer: 10 });
  });

  it('accessors: one buffer is a plain index; several pick the buffer by slot range', () => {
    const one = poolWgsl({ numBuffers: 1, slotsPerBuffer: 160, pagesPerBuffer: 10 }, 64, true);
    expect(one).toContain('fn kLoad(slot: u32, d: u32) -> f32 { return kpool0[slot * 64u + d]; }');
    expect(one).not.toContain('kpool1');
    const three = poolWgsl({ numBuffers: 3, slotsPerBuffer: 48, pagesPerBuffer: 3 }, 64, false);
    expect(three).toContain('var<storage, read> vpool2');
    expect(three).toContain('let b = slot / 48u;');
    expect(three).not.toContain('kStore');
  });
});
