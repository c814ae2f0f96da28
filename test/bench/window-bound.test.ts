// The sliding-window ceiling on the achieved ratio: exact on a hand-worked case, and it tends to R
// only as sequences grow far past the window.
import { describe, expect, it } from 'vitest';
import { idealKept, windowBoundRatio } from '../../bench/window-bound.js';

describe('window bound', () => {
  it('keeps the window whole and 1/R of what left it', () => {
    expect(idealKept(5, 8, 16)).toBe(5);
    expect(idealKept(17, 8, 16)).toBe(17);
    expect(idealKept(17 + 80, 8, 16)).toBe(27);
    expect(idealKept(10, 4, 0)).toBe(1 + 9 / 4);
  });

  it('averages seen / kept over the decode steps the engine takes', () => {
    // prompt 1, 4 generated: steps have seen 2, 3, 4 tokens; w = 1 keeps 2, then 2 + (n - 2) / 2.
    expect(windowBoundRatio([{ promptTokens: 1, completionTokens: [4] }], 2, 1)).toBeCloseTo((2 + 3 + 4) / (2 + 2.5 + 3), 12);
    // One generated token takes no decode step.
    expect(windowBoundRatio([{ promptTokens: 50, completionTokens: [1] }], 8, 16)).toBe(1);
  });

  it('stays well below R on a few hundred tokens and approaches it on long sequences', () => {
    const short = windowBoundRatio([{ promptTokens: 150, completionTokens: [110] }], 8, 16);
    const long = windowBoundRatio([{ promptTokens: 150, completionTokens: [20_000] }], 8, 16);
    expect(short).toBeLessThan(6);
    expect(long).toBeGreaterThan(7.8);
    expect(windowBoundRatio([{ promptTokens: 150, completionTokens: [110] }], 8, 0)).toBeGreaterThan(short);
  });
});
