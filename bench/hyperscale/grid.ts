// The hyper-scaling grid: which (method, ratio, W threads, L max tokens) points run, in what order, on
// which checkpoint, and the key a finished point is stored under (config + problem set + checkpoint).
import { createHash } from 'node:crypto';
import type { Problem } from '../../tasks/index.js';

/** Methods of the main grid (dms.md section 7); dms-w0 is the Figure 5 ablation, added apart. */
export const GRID_METHODS = ['none', 'dms', 'tova', 'h2o', 'quest', 'window'] as const;
/** Every method a point may carry. */
export const ALL_METHODS = [...GRID_METHODS, 'dms-w0'] as const;

export interface GridSpec {
  /** Methods of the main grid (a subset of GRID_METHODS). */
  methods: string[];
  /** Requested ratios of every compressing method; none always runs at 1. */
  ratios: number[];
  /** W: threads per problem (majority vote). */
  threads: number[];
  /** L: most generated tokens per thread. */
  lengths: number[];
  /** Ratios at which the immediate-eviction ablation (dms-w0) runs beside DMS (empty: none). */
  ablationRatios: number[];
}

/** The issue's grid: 6 methods x ratios {2, 4, 8} x W {1, 2, 4, 8} x L {128, 256, 512, 896}, dms-w0 at 4. */
export const FULL_GRID: GridSpec = {
  methods: [...GRID_METHODS],
  ratios: [2, 4, 8],
  threads: [1, 2, 4, 8],
  lengths: [128, 256, 512, 896],
  ablationRatios: [4],
};

/** The CI smoke grid: two methods, one ratio, W {1, 2}, one short L. */
export const QUICK_GRID: GridSpec = {
  methods: ['none', 'tova'],
  ratios: [4],
  threads: [1, 2],
  lengths: [64],
  ablationRatios: [],
};

/** One grid point (plain data). */
export interface PointSpec {
  method: string;
  ratio: number;
  W: number;
  L: number;
}

/** Everything besides the point that changes its result; part of every stored key. */
export interface RunSettings {
  /** First seed and count of the held-out problem set (STANDARD_MIX). */
  seedStart: number;
  numProblems: number;
  /** KV memory budget of every point, in cached tokens (token x layer x KV head). */
  kvBudgetTokens: number;
  /** Cap on threads decoded together, set high so that the KV budget is what binds. */
  maxBatchCap: number;
  /** Sampling temperature when W > 1 (W = 1 decodes greedily). */
  temperature: number;
  /** Base sampling seed (problem i uses seed + i). */
  seed: number;
}

/** The grid's points, cheapest (W x L) first so a partial run covers every method early. */
export function expandGrid(g: GridSpec): PointSpec[] {
  const cells: { method: string; ratio: number }[] = [];
  const add = (method: string, ratio: number) => {
    if (!cells.some((c) => c.method === method && c.ratio === ratio)) cells.push({ method, ratio });
  };
  for (const method of g.methods) {
    if (method === 'none') add('none', 1);
    else for (const ratio of g.ratios) add(method, ratio);
  }
  for (const ratio of g.ablationRatios) {
    add('dms', ratio); // delayed eviction beside the immediate-eviction ablation
    add('dms-w0', ratio);
  }
  const points: PointSpec[] = [];
  for (const L of g.lengths) for (const W of g.threads) for (const c of cells) points.push({ ...c, W, L });
  return points.sort((a, b) => a.W * a.L - b.W * b.L || a.L - b.L);
}

/** Checkpoint folder name of a method at a ratio: base for training-free methods, a retrofit for DMS. */
export function checkpointName(prefix: string, method: string, ratio: number): string {
  if (method === 'dms') return `${prefix}-dms-r${ratio}`;
  if (method === 'dms-w0') return `${prefix}-dms-r${ratio}-w0`;
  return `${prefix}-base`;
}

/** Greedy at W = 1 (the model's single best answer), sampled when several threads vote. */
export function temperatureOf(W: number, s: RunSettings): number {
  return W > 1 ? s.temperature : 0;
}

/**
 * The stored key of a point: its config, the problem set (seeds and a hash of its content, so a change
 * to the task generators recomputes), the run settings and the checkpoint's hash.
 */
export function pointKey(p: PointSpec, s: RunSettings, checkpointSha: string, suiteSha: string): string {
  return [
    `${p.method}`,
    `r${p.ratio}`,
    `W${p.W}`,
    `L${p.L}`,
    `T${temperatureOf(p.W, s)}`,
    `seed${s.seed}`,
    `problems${s.seedStart}+${s.numProblems}:standard:${suiteSha}`,
    `kv${s.kvBudgetTokens}`,
    `cap${s.maxBatchCap}`,
    `ckpt:${checkpointSha}`,
  ].join('|');
}

/** sha256 (16 hex digits) of a problem set's prompts, solutions and answers. */
export function suiteHash(problems: readonly Problem[]): string {
  const h = createHash('sha256');
  for (const p of problems) h.update(`${p.family}\u0000${p.difficulty}\u0000${p.prompt}\u0000${p.solution}\u0000${p.answer}\n`);
  return h.digest('hex').slice(0, 16);
}

/** A short label for logs and the progress bar. */
export function pointLabel(p: PointSpec): string {
  return `${p.method}${p.method === 'none' ? '' : ` r${p.ratio}`} W${p.W} L${p.L}`;
}

/** Parses a comma list of positive integers (CLI flags). */
export function parseIntList(v: string, flag: string): number[] {
  const out = v
    .split(',')
    .filter((x) => x.trim() !== '')
    .map((x) => Number(x));
  if (out.length === 0 || out.some((x) => !(Number.isInteger(x) && x >= 1))) throw new Error(`--${flag} must be a comma list of positive integers, got '${v}'`);
  return out;
}

/** Parses --methods: names from GRID_METHODS. */
export function parseMethods(v: string): string[] {
  const out = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const m of out)
    if (!(GRID_METHODS as readonly string[]).includes(m)) throw new Error(`--methods: unknown method '${m}' (known: ${GRID_METHODS.join(', ')})`);
  if (out.length === 0) throw new Error('--methods is empty');
  return out;
}
