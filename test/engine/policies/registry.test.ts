// The registry: every method name builds its policy with its knobs, dms-w0 is reachable both ways,
// and bad pairs (a window where none applies, DMS on a model without a predictor) fail clearly.
import { describe, expect, it } from 'vitest';
import type { DmsPolicy } from '../../../engine/policies/dms.js';
import type { H2oPolicy } from '../../../engine/policies/h2o.js';
import type { QuestPolicy } from '../../../engine/policies/quest.js';
import { createPolicy, policyNames } from '../../../engine/policies/registry.js';
import type { TovaPolicy } from '../../../engine/policies/tova.js';
import type { WindowPolicy } from '../../../engine/policies/window.js';
import { tinyConfig } from '../helpers.js';

const dmsModel = tinyConfig({ dms: { mode: 'adapter', window: 5 } });
const plain = tinyConfig();

describe('policy registry', () => {
  it('knows every method', () => {
    expect(policyNames()).toEqual(expect.arrayContaining(['none', 'vanilla', 'dms', 'dms-w0', 'window', 'tova', 'h2o', 'quest']));
  });

  it('builds the baselines with their defaults and knobs', () => {
    const w = createPolicy({ method: 'window', ratio: 4 }, plain) as WindowPolicy;
    expect([w.name, w.ratio, w.floor, w.sinks]).toEqual(['window', 4, 16, 4]);
    expect((createPolicy({ method: 'window', ratio: 2, floor: 32, sinks: 8 }, plain) as WindowPolicy).budget(100)).toBe(50);
    const t = createPolicy({ method: 'tova', ratio: 8 }, plain) as TovaPolicy;
    expect([t.name, t.needsAttention, t.recent, t.budget(300)]).toEqual(['tova', true, 1, 38]);
    expect((createPolicy({ method: 'tova', ratio: 8, window: 3 }, plain) as TovaPolicy).recent).toBe(4);
    const h = createPolicy({ method: 'h2o', ratio: 4, heavyFraction: 0.25 }, plain) as H2oPolicy;
    expect([h.name, h.needsAttention, h.numRecent(40)]).toEqual(['h2o', true, 30]);
    expect((createPolicy({ method: 'h2o', ratio: 4 }, plain) as H2oPolicy).numRecent(75)).toBe(38);
    const q = createPolicy({ method: 'quest', ratio: 4, pageSize: 8 }, plain) as QuestPolicy;
    expect([q.name, q.needsKeyBounds, q.pageSize, q.topPages(300)]).toEqual(['quest', true, 8, 10]);
  });

  it('reaches DMS with immediate eviction as dms-w0 and as {method: dms, window: 0}', () => {
    const a = createPolicy({ method: 'dms-w0', ratio: 4 }, dmsModel) as DmsPolicy;
    const b = createPolicy({ method: 'dms', ratio: 4, window: 0 }, dmsModel) as DmsPolicy;
    expect([a.name, a.window, b.window]).toEqual(['dms-w0', 0, 0]);
    expect((createPolicy({ method: 'dms', ratio: 4 }, dmsModel) as DmsPolicy).window).toBe(5);
    expect(() => createPolicy({ method: 'dms-w0', ratio: 4 }, plain)).toThrow(/DMS predictor/);
    expect(() => createPolicy({ method: 'dms-w0', ratio: 4, window: 2 }, dmsModel)).toThrow(/window 0/);
  });

  it('rejects what does not fit', () => {
    expect(() => createPolicy({ method: 'window', ratio: 4, window: 8 }, plain)).toThrow(/takes no window/);
    expect(() => createPolicy({ method: 'quest', ratio: 4, window: 8 }, plain)).toThrow(/takes no window/);
    expect(() => createPolicy({ method: 'tova', ratio: 0.5 }, plain)).toThrow(/ratio must be >= 1/);
    expect(() => createPolicy({ method: 'tova', ratio: 4, window: -1 }, plain)).toThrow(/window must be an integer/);
    expect(() => createPolicy({ method: 'snapkv', ratio: 4 }, plain)).toThrow(/unknown compression method "snapkv"/);
  });
});
