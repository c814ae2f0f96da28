// `npm run eval -- --model DIR --seed-start S --count N [--method M --ratio R --n W --max-tokens L]`:
// scores a checkpoint on held-out suite problems; the last line printed is a one-line JSON summary.
import { parseArgs } from 'node:util';
import { initBackend, loadModelForBackend } from '../engine/index.js';
import { problemSet, STANDARD_MIX } from '../tasks/index.js';
import { evaluate, type EvalConfig } from './eval-suite.js';

const USAGE = `usage: npm run eval -- --model DIR --seed-start S --count N
    [--method none|dms|dms-w0|window|tova|h2o|quest] [--ratio R] [--window W]
    [--n THREADS] [--max-tokens L] [--temperature T] [--seed SEED]
    [--kv-budget-tokens B] [--max-batch M] [--backend webgpu|tensorflow|wasm|cpu] [--details]
  Greedy (temperature 0) by default with one thread; with --n > 1 the default temperature is 0.8.
  Seeds below 1,000,000 are the evaluation range; training never uses them.`;

function int(v: string | undefined, name: string, fallback?: number): number {
  if (v === undefined) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  const x = Number(v);
  if (!Number.isFinite(x)) throw new Error(`--${name} must be a number, got '${v}'`);
  return x;
}

/** The CLI: parses `args` (argv after the script), runs the eval, prints the summary line; returns the exit code. */
export async function runEvalCli(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      'seed-start': { type: 'string' },
      count: { type: 'string' },
      method: { type: 'string', default: 'none' },
      ratio: { type: 'string' },
      window: { type: 'string' },
      n: { type: 'string' },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      seed: { type: 'string' },
      'kv-budget-tokens': { type: 'string' },
      'max-batch': { type: 'string' },
      backend: { type: 'string' },
      details: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.model) {
    console.error(`--model is required\n${USAGE}`);
    return 2;
  }
  const n = int(values.n, 'n', 1);
  const cfg: EvalConfig = {
    method: values.method!,
    ratio: int(values.ratio, 'ratio', 1),
    window: values.window === undefined ? undefined : int(values.window, 'window'),
    n,
    maxTokens: values['max-tokens'] === undefined ? undefined : int(values['max-tokens'], 'max-tokens'),
    temperature: int(values.temperature, 'temperature', n > 1 ? 0.8 : 0),
    seed: int(values.seed, 'seed', 1234),
    kvBudgetTokens: values['kv-budget-tokens'] === undefined ? undefined : int(values['kv-budget-tokens'], 'kv-budget-tokens'),
    maxBatch: values['max-batch'] === undefined ? undefined : int(values['max-batch'], 'max-batch'),
  };
  const seedStart = int(values['seed-start'], 'seed-start');
  const count = int(values.count, 'count');
  // --backend is DMS_BACKEND for this run: the engine's own selection then forces it (and fails when it cannot).
  if (values.backend !== undefined) process.env.DMS_BACKEND = values.backend;
  const backend = await initBackend();
  // On webgpu the checkpoint goes straight to device buffers (no tfjs copy), as the runner loads it.
  const model = await loadModelForBackend(values.model);
  const problems = problemSet(seedStart, count, STANDARD_MIX);
  const { summary, outcomes } = await evaluate(model, problems, cfg, (done, total) => {
    if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} problems`);
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  model.dispose();
  if (values.details) for (const o of outcomes) console.log(JSON.stringify(o));
  console.error(`model ${values.model} backend ${backend} method ${cfg.method} ratio ${cfg.ratio} n ${cfg.n}`);
  console.log(JSON.stringify({ ...summary, backend }));
  return 0;
}

/** Runs the CLI on this process's arguments and exits with its code. */
function evalCliMain(args: string[]): void {
  runEvalCli(args).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`eval: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}

// `npm run eval` (tsx bench/eval-cli.ts); the GPU-host kit's bundle imports runEvalCli instead.
if (/eval-cli\.ts$/.test(process.argv[1] ?? '')) evalCliMain(process.argv.slice(2));
