// Command-line options of `npm run bench:hyperscale` -> BenchOptions: the full grid by default,
// --quick for the CI smoke grid, and flags to size the grid and the problem set for background runs.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { FULL_GRID, type GridSpec, parseIntList, parseMethods, QUICK_GRID, type RunSettings } from './grid.js';
import type { BenchOptions } from './run.js';

export const USAGE = `usage: npm run bench:hyperscale -- [options]
  --quick                 CI smoke grid: 12 problems, none + tova r4, W 1,2, L 64 (out: tmp/hyperscale-quick)
  --problems N            held-out problems, seeds S..S+N-1 under the standard mix (default 200)
  --seed-start S          first problem seed (default 0; must stay below 1,000,000)
  --methods a,b           subset of none,dms,tova,h2o,quest,window (default all)
  --ratios 2,4,8          ratios of the compressing methods (none runs at 1)
  --W 1,2,4,8             threads per problem (majority vote)
  --L 128,256,512,896     most generated tokens per thread
  --ablation-ratios 4     ratios of the dms-w0 ablation beside dms ("" for none)
  --kv-budget-tokens B    the one KV memory budget of every point (default 32768)
  --max-batch-cap M       cap on threads decoded together (default 512, so memory binds)
  --temperature T         sampling temperature when W > 1 (default 0.8; W = 1 is greedy)
  --seed SEED             base sampling seed (default 1234)
  --models DIR            checkpoint folder (default models)   --model-prefix P (default reasoner)
  --out DIR               output folder (default bench/results)
  --points FILE           resumable results file (default <out>/hyperscale-points.jsonl)
  --label TEXT            what this run is, stated at the top of the report
  --notes FILE            markdown findings to include in the report
  --report-only           rebuild JSON, plots and report from the results file; run nothing
Checkpoints: none/window/tova/h2o/quest run on <prefix>-base, dms at ratio R on <prefix>-dms-rR,
dms-w0 on <prefix>-dms-rR-w0; a missing folder skips its points (listed in the report).`;

const optionSpec = {
  quick: { type: 'boolean', default: false },
  problems: { type: 'string' },
  'seed-start': { type: 'string' },
  methods: { type: 'string' },
  ratios: { type: 'string' },
  W: { type: 'string' },
  L: { type: 'string' },
  'ablation-ratios': { type: 'string' },
  'kv-budget-tokens': { type: 'string' },
  'max-batch-cap': { type: 'string' },
  temperature: { type: 'string' },
  seed: { type: 'string' },
  models: { type: 'string' },
  'model-prefix': { type: 'string' },
  out: { type: 'string' },
  points: { type: 'string' },
  label: { type: 'string' },
  notes: { type: 'string' },
  'report-only': { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

function num(v: string | undefined, flag: string, fallback: number, check: (x: number) => boolean, what: string): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!check(x)) throw new Error(`--${flag} must be ${what}, got '${v}'`);
  return x;
}

const posInt = (x: number) => Number.isInteger(x) && x >= 1;

/** Parses argv (without node and script); returns null for --help. */
export function parseBenchArgs(argv: string[]): BenchOptions | null {
  const { values: v } = parseArgs({ args: argv, options: optionSpec, strict: true });
  if (v.help) return null;
  const base = v.quick ? QUICK_GRID : FULL_GRID;
  const grid: GridSpec = {
    methods: v.methods !== undefined ? parseMethods(v.methods) : [...base.methods],
    ratios: v.ratios !== undefined ? parseIntList(v.ratios, 'ratios') : [...base.ratios],
    threads: v.W !== undefined ? parseIntList(v.W, 'W') : [...base.threads],
    lengths: v.L !== undefined ? parseIntList(v.L, 'L') : [...base.lengths],
    ablationRatios:
      v['ablation-ratios'] !== undefined
        ? v['ablation-ratios'].trim() === ''
          ? []
          : parseIntList(v['ablation-ratios'], 'ablation-ratios')
        : [...base.ablationRatios],
  };
  const settings: RunSettings = {
    numProblems: num(v.problems, 'problems', v.quick ? 12 : 200, posInt, 'a positive integer'),
    seedStart: num(v['seed-start'], 'seed-start', 0, (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0'),
    kvBudgetTokens: num(v['kv-budget-tokens'], 'kv-budget-tokens', 32768, posInt, 'a positive integer'),
    maxBatchCap: num(v['max-batch-cap'], 'max-batch-cap', 512, posInt, 'a positive integer'),
    temperature: num(v.temperature, 'temperature', 0.8, (x) => Number.isFinite(x) && x > 0, 'a number > 0'),
    seed: num(v.seed, 'seed', 1234, Number.isInteger, 'an integer'),
  };
  if (settings.seedStart + settings.numProblems > 1_000_000) throw new Error('problem seeds must stay below 1,000,000 (the evaluation range)');
  const outDir = v.out ?? (v.quick ? join('tmp', 'hyperscale-quick') : join('bench', 'results'));
  return {
    grid,
    settings,
    modelsDir: v.models ?? 'models',
    modelPrefix: v['model-prefix'] ?? 'reasoner',
    outDir,
    pointsFile: v.points ?? join(outDir, 'hyperscale-points.jsonl'),
    label:
      v.label ?? (v.quick ? 'Quick smoke grid (--quick): checks the pipeline, not the method.' : 'Run of `npm run bench:hyperscale` with the settings below.'),
    notesFile: v.notes,
    reportOnly: v['report-only'],
  };
}
