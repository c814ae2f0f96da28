// `npm run bench:engine`: decode throughput and KV token reads per generated token, vanilla vs DMS
// at ratio 8, batch 1 and 32, context 256 / 1024 / 4096, through the real generate() path.
// Writes bench/results/engine.json and engine.md; `--quick` runs a small grid and only prints.
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generate, initBackend } from '../engine/index.js';
import { parseModelConfig } from '../engine/model/config.js';
import { forwardDense } from '../engine/model/llama.js';
import { BYTE_BOS_ID, BYTE_EOS_ID, BYTE_PAD_ID, Tokenizer } from '../engine/model/tokenizer.js';
import { initParams, mapParams, modelFromParams, type LoadedModel } from '../engine/model/weights.js';
import { Rng } from '../engine/runtime/sampler.js';

const USAGE = `usage: npm run bench:engine -- [--quick] [--rounds N] [--steps N]
  --quick      context 256 only, 2 rounds of 16 steps; prints, writes nothing
  --rounds N   interleaved rounds over every configuration (default 5)
  --steps N    decode steps timed per run (default 64)`;

/** Every command-line option of the bench, parsed in this one place. */
export interface BenchArgs {
  quick: boolean;
  rounds: number;
  steps: number;
}

function parseBenchArgs(argv: string[]): BenchArgs | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      steps: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  const count = (v: string | undefined, name: string, fallback: number) => {
    if (v === undefined) return fallback;
    const x = Number(v);
    if (!(Number.isInteger(x) && x >= 1)) throw new Error(`--${name} must be an integer >= 1, got '${v}'`);
    return x;
  };
  const quick = values.quick;
  return { quick, rounds: count(values.rounds, 'rounds', quick ? 2 : 5), steps: count(values.steps, 'steps', quick ? 16 : 64) };
}

type Policy = 'vanilla' | 'dms';

interface Config {
  policy: Policy;
  batch: number;
  context: number;
}

/** Spread of one configuration's decode-step times over all rounds (milliseconds per step). */
interface StepSpread {
  median_ms: number;
  p10_ms: number;
  p90_ms: number;
  samples: number;
}

interface Point extends Config {
  ratio: number;
  /** batch / median decode-step time. */
  tokens_per_s: number;
  /** batch / p90 and batch / p10 step time: the slow and fast ends of the spread. */
  tokens_per_s_p10: number;
  tokens_per_s_p90: number;
  step: StepSpread;
  kv_reads_per_token: number;
  kv_reads_per_token_per_head: number;
  peak_kv_tokens: number;
  achieved_ratio: number;
  prefill_ms: number;
  /** Mean 1-minute load average over this configuration's timed runs. */
  load: number;
}

const WINDOW = 16;
const RATIO = 8;
const BATCHES = [1, 32];
const POLICIES: Policy[] = ['vanilla', 'dms'];

/** A random-weight 4-layer d=128 model whose DMS adapter evicts a 1 - 1/RATIO share of tokens. */
function benchModel(): LoadedModel {
  const cfg = parseModelConfig({
    model_type: 'llama',
    vocab_size: 259,
    hidden_size: 128,
    intermediate_size: 512,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    partial_rotary_factor: 0.5,
    max_position_embeddings: 8192,
    tie_word_embeddings: true,
    bos_token_id: BYTE_BOS_ID,
    eos_token_id: BYTE_EOS_ID,
    pad_token_id: BYTE_PAD_ID,
    dms: { mode: 'adapter', window: WINDOW, scale: 100, offset: 0, ratio: RATIO },
  });
  let n = 0;
  const base = initParams(cfg, 1);
  const params = mapParams(base, (t, name) => (name.endsWith('dms_proj.weight') ? tf.randomNormal(t.shape, 0, 0.05, 'float32', 99 + n++) : tf.clone(t)));
  for (const t of [base.embed, base.finalNorm, ...base.layers.flatMap((l) => Object.values(l).filter((x): x is tf.Tensor => x instanceof tf.Tensor))])
    t.dispose();
  // Force the target ratio: the offset is the 1/RATIO quantile of the raw logits on random text.
  const ids = Array.from({ length: 512 }, (_, i) => (i === 0 ? 256 : 97 + ((i * 7919) % 26)));
  const raw = tf.tidy(() => forwardDense(params, tf.tensor2d([ids], [1, 512], 'int32')).dmsLogits.flatMap((l) => Array.from(l.dataSync())));
  raw.sort((a, b) => a - b);
  cfg.dms!.offset = raw[Math.floor(raw.length / RATIO)];
  return modelFromParams(params, Tokenizer.byteLevel());
}

function randomPrompt(tokens: number, seed: number): string {
  const rng = new Rng(seed);
  return Array.from({ length: tokens - 1 }, () => String.fromCharCode(97 + Math.floor(rng.next() * 26))).join('');
}

/** One generate() call; returns the wall time of each decode step (the first step is the prefill and fork). */
async function run(model: LoadedModel, c: Config, steps: number) {
  const L = model.config.numLayers * model.config.numKvHeads;
  const marks: number[] = [];
  const [r] = await generate(
    model,
    [
      {
        id: `${c.policy}-${c.batch}-${c.context}`,
        prompt: randomPrompt(c.context, c.context + c.batch),
        maxTokens: steps + 2, // one more than timed: the first interval's step also finishes the prefill's fork
        temperature: 1,
        seed: 1,
        n: c.batch,
        ignoreEos: true,
        compression: c.policy === 'dms' ? { method: 'dms', ratio: RATIO } : { method: 'none', ratio: 1 },
      },
    ],
    { kvBudgetTokens: c.batch * L * (c.context + steps + 64) + 4096, maxBatch: 64, afterStep: () => marks.push(performance.now()) },
  );
  // marks[0] ends the prefill step; each later mark ends one decode step (the event-loop yield between steps included).
  const stepMs = marks.slice(1).map((t, i) => t - marks[i]);
  if (stepMs.length < steps) throw new Error(`bench: expected ${steps} decode steps, timed ${stepMs.length}`);
  stepMs.length = steps;
  return { result: r, stepMs };
}

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

function spread(samples: number[]): StepSpread {
  const sorted = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Number(x.toFixed(3));
  return { median_ms: r(quantile(sorted, 0.5)), p10_ms: r(quantile(sorted, 0.1)), p90_ms: r(quantile(sorted, 0.9)), samples: sorted.length };
}

const key = (c: Config) => `${c.policy}/${c.batch}/${c.context}`;

/**
 * Every configuration once per round, rounds interleaved (and the order rotated each round) so that
 * a change in the neighbours' load hits all configurations alike instead of one block of them.
 */
async function measureAll(model: LoadedModel, configs: Config[], args: BenchArgs): Promise<Point[]> {
  const steps = new Map<string, number[]>();
  const loads = new Map<string, number[]>();
  const last = new Map<string, Awaited<ReturnType<typeof run>>['result']>();
  for (let round = 0; round < args.rounds; round++) {
    const order = configs.map((_, i) => configs[(i + round) % configs.length]);
    for (const c of order) {
      const loadAt = loadavg()[0];
      const { result, stepMs } = await run(model, c, args.steps);
      steps.set(key(c), [...(steps.get(key(c)) ?? []), ...stepMs]);
      loads.set(key(c), [...(loads.get(key(c)) ?? []), (loadAt + loadavg()[0]) / 2]);
      last.set(key(c), result);
      console.error(`round ${round + 1}/${args.rounds} ${key(c)}: median step ${spread(stepMs).median_ms} ms`);
    }
  }
  return configs.map((c) => {
    const r = last.get(key(c))!;
    const s = spread(steps.get(key(c))!);
    // Every decode step feeds one token per thread; the first token of each thread comes from the prefill.
    const decodeTokens = r.usage.completionTokens - c.batch;
    const load = loads.get(key(c))!;
    return {
      ...c,
      ratio: c.policy === 'dms' ? RATIO : 1,
      tokens_per_s: Math.round((c.batch * 1000) / s.median_ms),
      tokens_per_s_p10: Math.round((c.batch * 1000) / s.p90_ms),
      tokens_per_s_p90: Math.round((c.batch * 1000) / s.p10_ms),
      step: s,
      kv_reads_per_token: Math.round(r.usage.kvTokenReads / decodeTokens),
      kv_reads_per_token_per_head: Math.round(r.usage.kvTokenReadsPerHead / decodeTokens),
      peak_kv_tokens: r.usage.peakKvTokens,
      achieved_ratio: Number(r.usage.achievedRatio.toFixed(2)),
      prefill_ms: Math.round(r.timings.prefillMs),
      load: Number((load.reduce((a, b) => a + b, 0) / load.length).toFixed(2)),
    };
  });
}

function markdown(backend: string, modelDesc: string, points: Point[], args: BenchArgs, contexts: number[], load: Load): string {
  const find = (policy: Policy, batch: number, context: number) => points.find((p) => p.policy === policy && p.batch === batch && p.context === context);
  const lines = [
    '# Engine benchmark',
    '',
    `Backend: \`${backend}\`. Model: ${modelDesc}. Decode throughput through \`generate()\` (sampling at temperature 1 after a prompt of \`context\` tokens, prefilled once and forked into \`batch\` threads): every configuration is warmed up, then run once per round for ${args.rounds} interleaved rounds of ${args.steps} timed decode steps; tokens/s is batch / the **median** step time over all ${args.rounds * args.steps} steps, with the 10th-90th percentile range beside it. KV reads are summed over layers and KV heads (per head: divided by 8).`,
    '',
    '| policy | ratio | batch | context | tokens/s (median) | p10-p90 | median step ms | KV reads / token | per head | peak KV tokens | achieved ratio | load |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...points.map(
      (p) =>
        `| ${p.policy} | ${p.ratio} | ${p.batch} | ${p.context} | ${p.tokens_per_s} | ${p.tokens_per_s_p10}-${p.tokens_per_s_p90} | ${p.step.median_ms} | ${p.kv_reads_per_token} | ${p.kv_reads_per_token_per_head} | ${p.peak_kv_tokens} | ${p.achieved_ratio} | ${p.load} |`,
    ),
    '',
  ];
  const top = contexts[contexts.length - 1];
  for (const batch of BATCHES) {
    const v = find('vanilla', batch, top);
    const d = find('dms', batch, top);
    if (v && d)
      lines.push(
        `At context ${top}, batch ${batch}: DMS r${RATIO} reads ${(v.kv_reads_per_token / d.kv_reads_per_token).toFixed(1)}x fewer KV tokens and decodes at ${(d.tokens_per_s / v.tokens_per_s).toFixed(1)}x the rate of vanilla (medians of the same interleaved run).`,
      );
  }
  for (let i = 1; i < contexts.length; i++) {
    for (const batch of BATCHES) {
      const a = find('vanilla', batch, contexts[i - 1]);
      const b = find('vanilla', batch, contexts[i]);
      if (a && b)
        lines.push(`Vanilla, batch ${batch}: context ${contexts[i - 1]} -> ${contexts[i]} slows decoding ${(a.tokens_per_s / b.tokens_per_s).toFixed(2)}x.`);
    }
  }
  lines.push(
    '',
    `Measured on a shared machine (${load.cpus} cores): 1-minute load average ${load.before} at start, ${load.after} at end, ${load.min}-${load.max} over the timed runs (the \`load\` column: the mean over each configuration's runs). Ratios between configurations come from one run whose configurations were interleaved, so a change of load moves them together.`,
  );
  return `${lines.join('\n')}\n`;
}

interface Load {
  cpus: number;
  before: number;
  after: number;
  min: number;
  max: number;
}

async function main(): Promise<number> {
  let args: BenchArgs | null;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!args) {
    console.log(USAGE);
    return 0;
  }
  const backend = await initBackend();
  const model = benchModel();
  const modelDesc = `random weights, 4 layers, d=128, 4 query / 2 KV heads (D=32), SwiGLU 512, vocab 259; DMS adapter (w=${WINDOW}) forced to evict ~${((1 - 1 / RATIO) * 100).toFixed(1)}% of tokens (offset calibrated on random text)`;
  const contexts = args.quick ? [256] : [256, 1024, 4096];
  const configs = contexts.flatMap((context) => BATCHES.flatMap((batch) => POLICIES.map((policy) => ({ policy, batch, context }))));
  const loadBefore = loadavg()[0];
  // Warm-up: every configuration once, untimed (kernels, page pools and the allocator reach their steady state).
  for (const c of configs) await run(model, c, 8);
  const points = await measureAll(model, configs, args);
  for (const p of points) console.log(JSON.stringify(p));
  model.dispose();
  const loads = points.map((p) => p.load);
  const load: Load = {
    cpus: cpus().length,
    before: Number(loadBefore.toFixed(2)),
    after: Number(loadavg()[0].toFixed(2)),
    min: Math.min(...loads),
    max: Math.max(...loads),
  };
  const md = markdown(backend, modelDesc, points, args, contexts, load);
  if (args.quick) {
    console.log(md);
    return 0;
  }
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'engine.json'),
    `${JSON.stringify({ backend, model: modelDesc, rounds: args.rounds, decode_steps_per_run: args.steps, statistic: 'median over all timed decode steps; p10/p90 spread', load_average: load, points }, null, 2)}\n`,
  );
  writeFileSync(join(out, 'engine.md'), md);
  console.log(`wrote ${join(out, 'engine.json')} and engine.md`);
  return 0;
}

// `--backend webgpu` runs the webgpu executor's benchmark (bench/engine-webgpu-bench.ts) instead.
const at = process.argv.indexOf('--backend');
if (at >= 0 && process.argv[at + 1] === 'webgpu') await (await import('./engine-webgpu-bench.js')).runWebgpuBench(process.argv.slice(2));
else process.exit(await main());
