// The results document written to bench/results/hyperscale.json: run metadata, every point, each
// method's frontiers per cost axis and the headline comparisons; also the cost model for ETAs and estimates.
import { computeFrontiers, computeHeadline, type Frontiers, type Headline } from './analysis.js';
import type { CheckpointSnapshot } from './checkpoints.js';
import type { GridSpec, PointSpec, RunSettings } from './grid.js';
import type { PointResult } from './store.js';
import type { MixSpec, Problem } from '../../tasks/index.js';

export interface CheckpointInfo {
  /** Which points run on it, e.g. "none, window, tova, h2o, quest" or "dms r4". */
  used_by: string;
  path: string;
  sha256: string;
  step: number | null;
  written_at: string;
}

export interface HyperscaleDoc {
  generated_at: string;
  /** "complete" when every grid point ran on an existing checkpoint, else "partial". */
  status: 'complete' | 'partial';
  /** Free text stating what this run is (e.g. a reduced grid on an early checkpoint). */
  label: string;
  /** The command line that produced it, when run from the CLI. */
  command: string | null;
  model: { name: string; checkpoints: CheckpointInfo[]; missing: { used_by: string; path: string }[] };
  suite: { name: string; sha256: string; mix: MixSpec; seed_start: number; families: Record<string, number>; longest_problem_tokens: number };
  problems: number;
  kv_budget_tokens: number;
  max_batch_cap: number;
  sampling: { greedy_at_W1: true; temperature_W_gt_1: number; seed: number };
  backend: string;
  grid: GridSpec;
  /** Grid points not run: their checkpoint is missing. */
  skipped_points: number;
  points: PointResult[];
  frontiers: Frontiers;
  headline: Headline;
  /** Seconds the full issue grid would take at the rates measured here (null before any point). */
  full_grid_estimate_s: number | null;
}

/** Expected tokens of a point (prompt once + min(L, solution + eos) per thread), the unit of cost for ETAs. */
export function pointWeight(p: PointSpec, problems: readonly Problem[]): number {
  let w = 0;
  for (const q of problems) w += q.prompt.length + 1 + p.W * Math.min(p.L, q.solution.length + 1);
  return w;
}

/**
 * Seconds the `todo` points would take on `todoProblems`, from the seconds per unit weight measured on
 * `measured` (which ran on `measuredProblems`): per method where it has points, else the mean rate
 * over all measured points. Null when nothing was measured.
 */
export function estimateSeconds(
  todo: readonly PointSpec[],
  todoProblems: readonly Problem[],
  measured: readonly PointResult[],
  measuredProblems: readonly Problem[],
): number | null {
  if (measured.length === 0) return null;
  const rate = new Map<string, { s: number; w: number }>();
  const all = { s: 0, w: 0 };
  for (const p of measured) {
    const w = pointWeight(p, measuredProblems);
    const r = rate.get(p.method) ?? { s: 0, w: 0 };
    r.s += p.wall_s;
    r.w += w;
    rate.set(p.method, r);
    all.s += p.wall_s;
    all.w += w;
  }
  let total = 0;
  for (const p of todo) {
    const r = rate.get(p.method) ?? all;
    total += (pointWeight(p, todoProblems) * r.s) / r.w;
  }
  return total;
}

export interface DocInput {
  label: string;
  command?: string;
  modelName: string;
  snapshots: { usedBy: string; snap: CheckpointSnapshot }[];
  missing: { usedBy: string; path: string }[];
  problems: readonly Problem[];
  /** Hash of the problem set's content (changes when the task generators change). */
  suiteSha: string;
  mix: MixSpec;
  settings: RunSettings;
  backend: string;
  grid: GridSpec;
  skippedPoints: number;
  points: PointResult[];
  fullGridEstimateS: number | null;
}

export function buildDocument(d: DocInput): HyperscaleDoc {
  const families: Record<string, number> = {};
  for (const p of d.problems) families[p.family] = (families[p.family] ?? 0) + 1;
  const complete = d.missing.length === 0 && d.skippedPoints === 0;
  return {
    generated_at: new Date().toISOString(),
    status: complete ? 'complete' : 'partial',
    label: d.label,
    command: d.command ?? null,
    model: {
      name: d.modelName,
      checkpoints: d.snapshots.map(({ usedBy, snap }) => ({
        used_by: usedBy,
        path: snap.source,
        sha256: snap.sha256,
        step: snap.step,
        written_at: snap.writtenAt,
      })),
      missing: d.missing.map((m) => ({ used_by: m.usedBy, path: m.path })),
    },
    suite: {
      name: 'reasoning suite (tasks/): chain + vars',
      sha256: d.suiteSha,
      mix: d.mix,
      seed_start: d.settings.seedStart,
      families,
      longest_problem_tokens: Math.max(0, ...d.problems.map((p) => p.prompt.length + 1 + p.solution.length + 1)),
    },
    problems: d.problems.length,
    kv_budget_tokens: d.settings.kvBudgetTokens,
    max_batch_cap: d.settings.maxBatchCap,
    sampling: { greedy_at_W1: true, temperature_W_gt_1: d.settings.temperature, seed: d.settings.seed },
    backend: d.backend,
    grid: d.grid,
    skipped_points: d.skippedPoints,
    points: d.points,
    frontiers: computeFrontiers(d.points),
    headline: computeHeadline(
      d.points,
      d.grid.ratios.filter((r) => r === 4 || r === 8),
      d.grid.ablationRatios,
    ),
    full_grid_estimate_s: d.fullGridEstimateS,
  };
}
