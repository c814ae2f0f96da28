// `npm run bench:engine`: decode throughput and KV token reads per generated token, vanilla vs DMS
// at ratio 8, batch 1 and 32, context 256 / 1024 / 4096, through the real generate() path.
// Writes bench/results/engine.json and engine.md; `--quick` runs a small grid and only prints.
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, initBackend } from '../engine/index.js';
import { parseModelConfig } from '../engine/model/config.js';
import { forwardDense } from '../engine/model/llama.js';
import { Tokenizer } from '../engine/model/tokenizer.js';
import { initParams, mapParams, modelFromParams, type LoadedModel } from '../engine/model/weights.js';
import { Rng } from '../engine/runtime/sampler.js';

interface Point {
  policy: 'vanilla' | 'dms';
  ratio: number;
  batch: number;
  context: number;
  tokens_per_s: number;
  kv_reads_per_token: number;
  kv_reads_per_token_per_head: number;
  peak_kv_tokens: number;
  achieved_ratio: number;
  decode_tokens: number;
  prefill_ms: number;
}

const quick = process.argv.includes('--quick');
const WINDOW = 16;
const RATIO = 8;
const DECODE_STEPS = quick ? 8 : 48;
const contexts = quick ? [256] : [256, 1024, 4096];
const batches = [1, 32];

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
    bos_token_id: 256,
    eos_token_id: 257,
    pad_token_id: 258,
    dms: { mode: 'adapter', window: WINDOW, scale: 100, offset: 0, ratio: RATIO },
  });
  let n = 0;
  const base = initParams(cfg, 1);
  const params = mapParams(base, (t, name) => (name.endsWith('dms_proj.weight') ? tf.randomNormal(t.shape, 0, 0.05, 'float32', 99 + n++) : tf.clone(t)));
  for (const t of [base.embed, base.finalNorm, ...base.layers.flatMap((l) => Object.values(l).filter((x): x is tf.Tensor => x instanceof tf.Tensor))])
    t.dispose();
  // Force the target ratio: the offset is the 1/RATIO quantile of the raw logits on random text.
  const ids = Array.from({ length: 512 }, (_, i) => (i === 0 ? 256 : 97 + ((i * 7919) % 26)));
  const raw = tf.tidy(() =>
    forwardDense(params, tf.tensor2d([ids], [1, 512], 'int32'))
      .dmsLogits.flatMap((l) => Array.from(l.dataSync())),
  );
  raw.sort((a, b) => a - b);
  cfg.dms!.offset = raw[Math.floor(raw.length / RATIO)];
  return modelFromParams(params, Tokenizer.byteLevel());
}

function randomPrompt(tokens: number, seed: number): string {
  const rng = new Rng(seed);
  return Array.from({ length: tokens - 1 }, () => String.fromCharCode(97 + Math.floor(rng.next() * 26))).join('');
}

async function run(model: LoadedModel, policy: 'vanilla' | 'dms', batch: number, context: number) {
  const L = model.config.numLayers * model.config.numKvHeads;
  const [r] = await generate(
    model,
    [
      {
        id: `${policy}-${batch}-${context}`,
        prompt: randomPrompt(context, context + batch),
        maxTokens: DECODE_STEPS + 1,
        temperature: 1,
        seed: 1,
        n: batch,
        ignoreEos: true,
        compression: policy === 'dms' ? { method: 'dms', ratio: RATIO } : { method: 'none', ratio: 1 },
      },
    ],
    { kvBudgetTokens: batch * L * (context + DECODE_STEPS + 64) + 4096, maxBatch: 64 },
  );
  return r;
}

/** The better decode rate of two runs: the machine is shared, so the slower run mostly measures the neighbours. */
async function measure(model: LoadedModel, policy: 'vanilla' | 'dms', batch: number, context: number): Promise<Point> {
  const a = await run(model, policy, batch, context);
  const b = await run(model, policy, batch, context);
  const r = a.timings.decodeMs <= b.timings.decodeMs ? a : b;
  // Every decode step feeds one token per thread; the first token of each thread comes from the prefill.
  const decodeTokens = batch * DECODE_STEPS;
  return {
    policy,
    ratio: policy === 'dms' ? RATIO : 1,
    batch,
    context,
    tokens_per_s: Math.round(decodeTokens / (r.timings.decodeMs / 1000)),
    kv_reads_per_token: Math.round(r.usage.kvTokenReads / decodeTokens),
    kv_reads_per_token_per_head: Math.round(r.usage.kvTokenReadsPerHead / decodeTokens),
    peak_kv_tokens: r.usage.peakKvTokens,
    achieved_ratio: Number(r.usage.achievedRatio.toFixed(2)),
    decode_tokens: decodeTokens,
    prefill_ms: Math.round(r.timings.prefillMs),
  };
}

function markdown(backend: string, modelDesc: string, points: Point[]): string {
  const lines = [
    '# Engine benchmark',
    '',
    `Backend: \`${backend}\`. Model: ${modelDesc}. Decode throughput through \`generate()\`, the better wall-clock rate of two runs (sampling at temperature 1, ${DECODE_STEPS} decode steps after a prompt of \`context\` tokens, prefilled once and forked into \`batch\` threads). KV reads are summed over layers and KV heads (per head: divided by 8).`,
    '',
    '| policy | ratio | batch | context | tokens/s | KV reads / token | per head | peak KV tokens | achieved ratio |',
    '|---|---|---|---|---|---|---|---|---|',
    ...points.map(
      (p) =>
        `| ${p.policy} | ${p.ratio} | ${p.batch} | ${p.context} | ${p.tokens_per_s} | ${p.kv_reads_per_token} | ${p.kv_reads_per_token_per_head} | ${p.peak_kv_tokens} | ${p.achieved_ratio} |`,
    ),
    '',
  ];
  for (const batch of batches) {
    const v = points.find((p) => p.policy === 'vanilla' && p.batch === batch && p.context === contexts[contexts.length - 1]);
    const d = points.find((p) => p.policy === 'dms' && p.batch === batch && p.context === contexts[contexts.length - 1]);
    if (v && d)
      lines.push(
        `At context ${v.context}, batch ${batch}: DMS r${RATIO} reads ${(v.kv_reads_per_token / d.kv_reads_per_token).toFixed(1)}x fewer KV tokens and decodes ${(d.tokens_per_s / v.tokens_per_s).toFixed(1)}x faster than vanilla.`,
      );
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const model = benchModel();
  const modelDesc = `random weights, 4 layers, d=128, 4 query / 2 KV heads (D=32), SwiGLU 512, vocab 259; DMS adapter (w=${WINDOW}) forced to evict ~${((1 - 1 / RATIO) * 100).toFixed(1)}% of tokens (offset calibrated on random text)`;
  // Warm-up: JIT-compile the kernels and the runtime before anything is timed.
  for (const policy of ['vanilla', 'dms'] as const) await run(model, policy, 4, 64);
  const loadBefore = loadavg()[0];
  const points: Point[] = [];
  for (const context of contexts) {
    for (const batch of batches) {
      for (const policy of ['vanilla', 'dms'] as const) {
        const p = await measure(model, policy, batch, context);
        points.push(p);
        console.log(JSON.stringify(p));
      }
    }
  }
  model.dispose();
  if (quick) {
    console.log(markdown(backend, modelDesc, points));
    return;
  }
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(out, { recursive: true });
  // The machine is shared: the 1-minute load average says how contended the run was (2 cores).
  const load = { before: Number(loadBefore.toFixed(2)), after: Number(loadavg()[0].toFixed(2)) };
  writeFileSync(
    join(out, 'engine.json'),
    `${JSON.stringify({ backend, model: modelDesc, decode_steps: DECODE_STEPS, load_average: load, points }, null, 2)}\n`,
  );
  writeFileSync(
    join(out, 'engine.md'),
    `${markdown(backend, modelDesc, points)}\nMeasured on the shared 2-core machine; 1-minute load average ${load.before} at start, ${load.after} at end.\n`,
  );
  console.log(`wrote ${join(out, 'engine.json')} and engine.md`);
}

// `--backend webgpu` runs the webgpu executor's benchmark (bench/engine-webgpu-bench.ts) instead.
const at = process.argv.indexOf('--backend');
if (at >= 0 && process.argv[at + 1] === 'webgpu') await (await import('./engine-webgpu-bench.js')).runWebgpuBench(process.argv.slice(2));
else await main();
