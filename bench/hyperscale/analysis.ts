// From finished points to the numbers the report states: each method's Pareto frontier per cost axis,
// DMS against the original model and each baseline at equal cost, delayed vs immediate eviction, throughput.
import { compareFrontiers, paretoFrontier, type CostAcc, type FrontierGap } from './pareto.js';
import type { PointResult } from './store.js';

export const COST_AXES = ['reads', 'peak'] as const;
export type CostAxis = (typeof COST_AXES)[number];

export const AXIS_FIELD: Record<CostAxis, 'kv_reads_per_problem' | 'peak_kv_tokens_per_problem'> = {
  reads: 'kv_reads_per_problem',
  peak: 'peak_kv_tokens_per_problem',
};

/** One frontier point: the configuration and its (cost, accuracy). */
export interface FrontierPoint extends CostAcc {
  ratio: number;
  W: number;
  L: number;
}

/** Per cost axis, per method: the method's frontier over all its ratios, W and L. */
export type Frontiers = Record<CostAxis, Record<string, FrontierPoint[]>>;

export function frontierOf(points: readonly PointResult[], axis: CostAxis): FrontierPoint[] {
  return paretoFrontier(
    points,
    (p) => p[AXIS_FIELD[axis]],
    (p) => p.accuracy,
  ).map((p) => ({
    ratio: p.ratio,
    W: p.W,
    L: p.L,
    cost: p[AXIS_FIELD[axis]],
    accuracy: p.accuracy,
  }));
}

export function methodsOf(points: readonly PointResult[]): string[] {
  return [...new Set(points.map((p) => p.method))];
}

export function computeFrontiers(points: readonly PointResult[]): Frontiers {
  const out = { reads: {}, peak: {} } as Frontiers;
  for (const axis of COST_AXES) {
    for (const m of methodsOf(points))
      out[axis][m] = frontierOf(
        points.filter((p) => p.method === m),
        axis,
      );
  }
  return out;
}

/** A frontier comparison, or why it could not be made. */
export interface Comparison {
  a: string;
  b: string;
  axis: CostAxis;
  /** Only points at this ratio (null: every ratio of each method). */
  ratio: number | null;
  gap: FrontierGap | null;
  /** Why gap is null (a side has no points). */
  missing?: string;
}

function compare(points: readonly PointResult[], a: string, b: string, axis: CostAxis, ratio: number | null): Comparison {
  const pick = (m: string) => points.filter((p) => p.method === m && (ratio === null || p.ratio === ratio || m === 'none'));
  const pa = pick(a);
  const pb = pick(b);
  const missing = [
    pa.length === 0 ? `${a}${ratio === null ? '' : ` r${ratio}`}` : null,
    pb.length === 0 ? `${b}${ratio === null || b === 'none' ? '' : ` r${ratio}`}` : null,
  ].filter(Boolean);
  if (missing.length > 0) return { a, b, axis, ratio, gap: null, missing: `no points for ${missing.join(' and ')}` };
  return { a, b, axis, ratio, gap: compareFrontiers(frontierOf(pa, axis), frontierOf(pb, axis)) };
}

/** One row of the throughput table (a method and ratio at the grid's heaviest W and L). */
export interface ThroughputRow {
  method: string;
  ratio: number;
  problems_per_s: number;
  tokens_per_s: number;
  max_batch: number;
  mean_batch: number;
  preemptions: number;
  achieved_ratio: number;
  completion_tokens_per_problem: number;
}

export interface Headline {
  /** Every compressing method (all its ratios; DMS first) against the original model (none), on each axis. */
  vsNone: Comparison[];
  /** DMS against each training-free baseline at the same ratio, KV reads axis. */
  dmsVsBaselines: Comparison[];
  /** dms (delayed, w from the checkpoint) vs dms-w0 (immediate), per ratio, reads axis, and per (W, L). */
  delayedVsImmediate: { ratio: number; comparison: Comparison; rows: { W: number; L: number; delayed: number | null; immediate: number | null }[] }[];
  /** Throughput at the KV budget of each method and ratio at the grid's largest W x L. */
  throughput: { W: number; L: number; rows: ThroughputRow[] };
}

export const BASELINES = ['tova', 'h2o', 'quest', 'window'];

export function computeHeadline(points: readonly PointResult[], baselineRatios: number[] = [4, 8], ablationRatios: number[] = [4]): Headline {
  const others = ['dms', 'dms-w0', ...BASELINES].filter((m) => m === 'dms' || points.some((p) => p.method === m));
  const vsNone = COST_AXES.flatMap((axis) => others.map((m) => compare(points, m, 'none', axis, null)));
  const dmsVsBaselines = baselineRatios.flatMap((r) => BASELINES.map((b) => compare(points, 'dms', b, 'reads', r)));
  const delayedVsImmediate = ablationRatios.map((ratio) => {
    const cells = new Map<string, { W: number; L: number; delayed: number | null; immediate: number | null }>();
    for (const p of points) {
      if (p.ratio !== ratio || (p.method !== 'dms' && p.method !== 'dms-w0')) continue;
      const k = `${p.W}|${p.L}`;
      const row = cells.get(k) ?? { W: p.W, L: p.L, delayed: null, immediate: null };
      if (p.method === 'dms') row.delayed = p.accuracy;
      else row.immediate = p.accuracy;
      cells.set(k, row);
    }
    const rows = [...cells.values()].sort((x, y) => x.L - y.L || x.W - y.W);
    return { ratio, comparison: compare(points, 'dms', 'dms-w0', 'reads', ratio), rows };
  });
  // The run with the most memory pressure in the grid (largest W x L, then L): every method at it.
  let W = 0;
  let L = 0;
  for (const p of points) if (p.W * p.L > W * L || (p.W * p.L === W * L && p.L > L)) [W, L] = [p.W, p.L];
  const order = ['none', 'dms', 'dms-w0', ...BASELINES];
  const rows = points
    .filter((p) => p.W === W && p.L === L)
    .sort((a, b) => order.indexOf(a.method) - order.indexOf(b.method) || a.ratio - b.ratio)
    .map((p) => ({
      method: p.method,
      ratio: p.ratio,
      problems_per_s: p.problems_per_s,
      tokens_per_s: p.tokens_per_s,
      max_batch: p.max_batch,
      mean_batch: p.mean_batch,
      preemptions: p.preemptions,
      achieved_ratio: p.achieved_ratio,
      completion_tokens_per_problem: p.completion_tokens_per_problem,
    }));
  const throughput = { W, L, rows };
  return { vsNone, dmsVsBaselines, delayedVsImmediate, throughput };
}
