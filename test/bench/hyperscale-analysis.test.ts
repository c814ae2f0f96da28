// The hyper-scaling bench's pure parts: grid expansion and keys, Pareto frontiers and reading them at a
// budget, frontier comparisons and headline, the resumable store, checkpoint snapshots, progress and ETA.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeHeadline } from '../../bench/hyperscale/analysis.js';
import { parseBenchArgs } from '../../bench/hyperscale/args.js';
import { safetensorsComplete, snapshotCheckpoint } from '../../bench/hyperscale/checkpoints.js';
import { estimateSeconds, pointWeight } from '../../bench/hyperscale/document.js';
import { checkpointName, expandGrid, FULL_GRID, pointKey, type RunSettings, suiteHash } from '../../bench/hyperscale/grid.js';
import { compareFrontiers, interpAt, paretoFrontier, stepAt } from '../../bench/hyperscale/pareto.js';
import { formatDuration, Progress } from '../../bench/hyperscale/progress.js';
import { PointStore, type PointResult } from '../../bench/hyperscale/store.js';
import { writeSafetensors } from '../../engine/model/safetensors.js';
import { problemSet } from '../../tasks/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'hyperscale-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const settings: RunSettings = { seedStart: 0, numProblems: 200, kvBudgetTokens: 32768, maxBatchCap: 512, temperature: 0.8, seed: 1234 };

function pt(method: string, ratio: number, W: number, L: number, accuracy: number, reads: number, peak = reads / 10): PointResult {
  return {
    method,
    ratio,
    window: null,
    W,
    L,
    accuracy,
    kv_reads_per_problem: reads,
    peak_kv_tokens_per_problem: peak,
    problems_per_s: 1,
    tokens_per_s: 100,
    max_batch: 8,
    mean_batch: 4,
    preemptions: 0,
    achieved_ratio: ratio,
    temperature: W > 1 ? 0.8 : 0,
    completion_tokens_per_problem: 50,
    wall_s: 10,
    checkpoint: { path: 'm', sha256: 'x', step: 1 },
  };
}

describe('grid', () => {
  it('expands the issue grid: none at 1, 5 methods x 3 ratios, dms-w0 at 4, x 4 W x 4 L, cheapest first', () => {
    const g = expandGrid(FULL_GRID);
    expect(g.length).toBe((1 + 5 * 3 + 1) * 4 * 4);
    expect(g.filter((p) => p.method === 'none').every((p) => p.ratio === 1)).toBe(true);
    expect(g.filter((p) => p.method === 'dms-w0').map((p) => p.ratio)).toEqual(Array(16).fill(4));
    expect(new Set(g.map((p) => `${p.method}|${p.ratio}|${p.W}|${p.L}`)).size).toBe(g.length);
    for (let i = 1; i < g.length; i++) expect(g[i].W * g[i].L).toBeGreaterThanOrEqual(g[i - 1].W * g[i - 1].L);
  });

  it('maps methods to checkpoints and keys points by config, settings, suite content and checkpoint', () => {
    expect(checkpointName('reasoner', 'tova', 4)).toBe('reasoner-base');
    expect(checkpointName('reasoner', 'dms', 8)).toBe('reasoner-dms-r8');
    expect(checkpointName('reasoner', 'dms-w0', 4)).toBe('reasoner-dms-r4-w0');
    const p = { method: 'tova', ratio: 4, W: 2, L: 128 };
    const k = pointKey(p, settings, 'aaa', 'suite1');
    expect(pointKey(p, settings, 'aaa', 'suite1')).toBe(k);
    expect(pointKey(p, settings, 'bbb', 'suite1')).not.toBe(k); // a new checkpoint
    expect(pointKey(p, settings, 'aaa', 'suite2')).not.toBe(k); // the task generators changed
    expect(pointKey({ ...p, W: 4 }, settings, 'aaa', 'suite1')).not.toBe(k);
    expect(pointKey(p, { ...settings, kvBudgetTokens: 1 }, 'aaa', 'suite1')).not.toBe(k);
    expect(pointKey(p, { ...settings, numProblems: 12 }, 'aaa', 'suite1')).not.toBe(k);
    expect(pointKey({ ...p, W: 1 }, settings, 'aaa', 'suite1')).toContain('|T0|'); // W = 1 decodes greedily
    const problems = problemSet(0, 20);
    expect(suiteHash(problems)).toBe(suiteHash(problemSet(0, 20)));
    expect(suiteHash(problems)).not.toBe(suiteHash(problemSet(1, 20)));
    expect(suiteHash(problems)).not.toBe(suiteHash([{ ...problems[0], prompt: `${problems[0].prompt} ` }, ...problems.slice(1)]));
  });

  it('parses the sizing flags and rejects bad ones', () => {
    const o = parseBenchArgs(['--problems', '50', '--methods', 'none,tova', '--W', '1,4', '--L', '128,512', '--ablation-ratios', ''])!;
    expect(o.settings.numProblems).toBe(50);
    expect(o.grid).toMatchObject({ methods: ['none', 'tova'], threads: [1, 4], lengths: [128, 512], ratios: [2, 4, 8], ablationRatios: [] });
    expect(parseBenchArgs(['--quick'])!.settings.numProblems).toBe(12);
    expect(parseBenchArgs(['--help'])).toBeNull();
    expect(() => parseBenchArgs(['--methods', 'foo'])).toThrow(/unknown method/);
    expect(() => parseBenchArgs(['--W', '0'])).toThrow(/positive integers/);
    expect(() => parseBenchArgs(['--seed-start', '999990'])).toThrow(/1,000,000/);
  });
});

describe('pareto', () => {
  it('keeps exactly the non-dominated points, by ascending cost', () => {
    const pts = [
      { c: 10, a: 0.2 },
      { c: 20, a: 0.2 },
      { c: 5, a: 0.1 },
      { c: 30, a: 0.5 },
      { c: 25, a: 0.6 },
      { c: 10, a: 0.3 },
      { c: 40, a: 0.6 },
    ];
    const f = paretoFrontier(
      pts,
      (p) => p.c,
      (p) => p.a,
    );
    expect(f).toEqual([
      { c: 5, a: 0.1 },
      { c: 10, a: 0.3 },
      { c: 25, a: 0.6 },
    ]);
    // Brute force: a point is on the frontier iff nothing dominates it.
    const dominated = (p: { c: number; a: number }) => pts.some((q) => q.c <= p.c && q.a >= p.a && (q.c < p.c || q.a > p.a));
    expect(pts.filter((p) => !dominated(p)).sort((x, y) => x.c - y.c)).toEqual(f);
  });

  it('reads a frontier at a budget: step, log-linear interpolation, out of reach below', () => {
    const f = [
      { cost: 100, accuracy: 0.2 },
      { cost: 1000, accuracy: 0.6 },
    ];
    expect(stepAt(f, 50)).toBeNull();
    expect(interpAt(f, 50)).toBeNull();
    expect(stepAt(f, 999)).toBe(0.2);
    expect(interpAt(f, 100)).toBeCloseTo(0.2, 12);
    expect(interpAt(f, Math.sqrt(100 * 1000))).toBeCloseTo(0.4, 12); // halfway in log10
    expect(interpAt(f, 5000)).toBe(0.6);
  });

  it('compares frontiers over the shared budget range', () => {
    const a = [
      { cost: 10, accuracy: 0.5 },
      { cost: 100, accuracy: 0.7 },
    ];
    const b = [
      { cost: 100, accuracy: 0.4 },
      { cost: 1000, accuracy: 0.8 },
    ];
    const g = compareFrontiers(a, b, 11)!;
    expect(g.from).toBe(100);
    expect(g.to).toBe(1000);
    expect(g.maxGain).toBeCloseTo(0.3, 12); // at 100: 0.7 vs 0.4
    expect(g.maxGainAt).toBe(100);
    expect(g.minGain).toBeCloseTo(-0.1, 12); // at 1000: 0.7 vs 0.8
    expect(g.meanGain).toBeCloseTo(0.1, 12); // 0.3 -> -0.1 linearly in log cost
    expect(compareFrontiers(a, [])).toBeNull();
    // Costs that are not powers of ten: the range ends must still read both frontiers exactly.
    const none = [
      { cost: 36682.1, accuracy: 0.59 },
      { cost: 72858.3, accuracy: 0.655 },
    ];
    const weak = [
      { cost: 13220.7, accuracy: 0.075 },
      { cost: 30244.9, accuracy: 0.12 },
    ];
    const w = compareFrontiers(weak, none)!;
    expect(w.from).toBe(36682.1);
    expect(w.maxGain).toBeCloseTo(0.12 - 0.59, 12);
    expect(w.minGain).toBeCloseTo(0.12 - 0.655, 12);
  });

  it('headline: DMS against none and the baselines, the ablation table, throughput at the heaviest W x L', () => {
    const points = [
      pt('none', 1, 1, 128, 0.3, 1000),
      pt('none', 1, 4, 128, 0.5, 4000),
      pt('dms', 4, 1, 128, 0.3, 300),
      pt('dms', 4, 4, 128, 0.55, 1200),
      pt('dms-w0', 4, 1, 128, 0.1, 300),
      pt('tova', 4, 4, 128, 0.2, 1200),
    ];
    const h = computeHeadline(points, [4, 8], [4]);
    const reads = h.vsNone.find((c) => c.a === 'dms' && c.axis === 'reads')!;
    expect(reads.gap!.from).toBe(1000);
    expect(reads.gap!.minGain).toBeGreaterThan(0); // DMS above none everywhere both reach
    expect(h.dmsVsBaselines.find((c) => c.b === 'tova' && c.ratio === 4)!.gap!.maxGain).toBeCloseTo(0.35, 12);
    expect(h.dmsVsBaselines.find((c) => c.b === 'h2o' && c.ratio === 8)!.missing).toMatch(/dms r8 and h2o r8/);
    expect(h.delayedVsImmediate[0].rows).toEqual([
      { W: 1, L: 128, delayed: 0.3, immediate: 0.1 },
      { W: 4, L: 128, delayed: 0.55, immediate: null },
    ]);
    expect(h.throughput.W).toBe(4);
    expect(h.throughput.rows.map((r) => r.method)).toEqual(['none', 'dms', 'tova']);
  });
});

describe('store, snapshots, progress', () => {
  it('appends points, reloads them, survives a torn last line', () => {
    const path = join(tmp, 'points.jsonl');
    const s = new PointStore(path);
    s.append({ key: 'a', finished_at: 't', backend: 'wasm', result: pt('none', 1, 1, 64, 0.5, 10) });
    appendFileSync(path, '{"key":"b","resu'); // a run killed mid-write
    const s2 = new PointStore(path);
    expect(s2.has('a')).toBe(true);
    expect(s2.has('b')).toBe(false);
    expect(s2.numBadLines).toBe(1);
    s2.append({ key: 'c', finished_at: 't', backend: 'wasm', result: pt('tova', 4, 1, 64, 0.2, 5) });
    const s3 = new PointStore(path);
    expect([s3.has('a'), s3.has('c'), s3.size]).toEqual([true, true, 2]);
    expect(s3.get('c')!.result.accuracy).toBe(0.2);
  });

  it('snapshots a checkpoint with its hash and step; a truncated weights file is incomplete', async () => {
    const src = join(tmp, 'ckpt');
    const bytes = writeSafetensors(new Map([['w', { shape: [2, 3], data: new Float32Array(6).fill(1) }]]), 'F32');
    expect(safetensorsComplete(bytes)).toBe(true);
    expect(safetensorsComplete(bytes.subarray(0, bytes.length - 4))).toBe(false);
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'config.json'), '{}');
    writeFileSync(join(src, 'model.safetensors'), bytes);
    writeFileSync(join(src, 'train-state.json'), JSON.stringify({ step: 1750 }));
    const snap = await snapshotCheckpoint(src, join(tmp, 'snap'));
    expect(snap.step).toBe(1750);
    expect(snap.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(join(tmp, 'snap', 'model.safetensors')).equals(Buffer.from(bytes))).toBe(true);
    // Weights newer than train-state.json: the trainer is between the two writes; past the deadline
    // the weights are kept with an unknown step.
    utimesSync(join(src, 'train-state.json'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const lagging = await snapshotCheckpoint(src, join(tmp, 'snap3'), 300);
    expect(lagging.step).toBeNull();
    expect(lagging.sha256).toBe(snap.sha256);
    writeFileSync(join(src, 'model.safetensors'), bytes.subarray(0, bytes.length - 4)); // mid-save
    await expect(snapshotCheckpoint(src, join(tmp, 'snap2'), 0)).rejects.toThrow(/no consistent snapshot/);
  });

  it('progress: ETA from the weight done so far; plain lines when not a TTY', () => {
    let t = 0;
    const lines: string[] = [];
    const p = new Progress(100, 2, { isTTY: false, write: (s: string) => lines.push(s) }, () => t);
    p.start('a', 25, 10);
    t = 5000;
    p.tick(10);
    expect(p.etaS()).toBeCloseTo(15, 9); // a quarter done in 5 s
    p.finish('ok');
    expect(lines.at(-1)).toMatch(/^\[1\/2\] a: ok .*ETA 15s/);
    expect(lines.every((l) => !l.includes('\r'))).toBe(true);
    expect(formatDuration(3725)).toBe('1h02m');
  });

  it('estimates runtime from the seconds per expected token measured', () => {
    const problems = problemSet(0, 10);
    const spec = { method: 'none', ratio: 1, W: 2, L: 64 };
    const measured = { ...pt('none', 1, 2, 64, 0.5, 10), wall_s: 4 };
    expect(estimateSeconds([spec, spec], problems, [measured], problems)).toBeCloseTo(8, 9);
    const bigger = problemSet(0, 20);
    expect(estimateSeconds([spec], bigger, [measured], problems)).toBeCloseTo((4 * pointWeight(spec, bigger)) / pointWeight(spec, problems), 9);
    expect(estimateSeconds([spec], problems, [], problems)).toBeNull();
  });
});
