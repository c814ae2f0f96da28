// `npm run bench:engine -- --backend webgpu [--shape small|1b]`: decode throughput of the webgpu executor,
// vanilla vs DMS forced to ratio 8 under one KV budget, with bytes read per step and the fraction of the
// bandwidth a copy kernel reaches in the same run. Writes bench/results/engine-webgpu-<adapter>.json and .md.
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackendInfo } from '../engine/backend.js';
import type { ModelExecutor } from '../engine/executors/executor.js';
import { type GpuContext, gpuContext } from '../engine/executors/webgpu/gpu-context.js';
import { WebgpuExecutor } from '../engine/executors/webgpu/webgpu-executor.js';
import type { CacheRow } from '../engine/kv/paged-cache.js';
import { type ModelConfig, parseModelConfig } from '../engine/model/config.js';
import { releaseDerived } from '../engine/model/derived-resources.js';
import type { ModelWeights } from '../engine/model/weight-source.js';
import { disposeParams, initParams } from '../engine/model/weights.js';
import { DmsPolicy } from '../engine/policies/dms.js';
import type { TokenKv } from '../engine/policies/kv-policy.js';
import { NonePolicy } from '../engine/policies/none.js';
import { randomDeviceWeights } from './random-weights.js';
import { COPIES_PER_RUN, measureCopyBandwidth } from './webgpu-bandwidth.js';

/** DMS with the eviction decision forced: every token but one in RATIO is flagged, so the achieved ratio is the target. */
class ForcedRatioDms extends DmsPolicy {
  constructor(
    window: number,
    readonly ratio: number,
  ) {
    super(window);
  }
  /** The forced decision for token t-1 is known when t is placed: record it first, so place never waits for a readback. */
  override place(row: CacheRow, tok: TokenKv): void {
    super.recordLogit(row, tok.position, (tok.position - 1) % this.ratio === 0 ? -1 : 1);
    super.place(row, tok);
  }
  override recordLogit(): void {}
  /** The decisions never depend on the model here, so prefill need not stop every w tokens for them. */
  override get maxDeferred(): number {
    return Number.POSITIVE_INFINITY;
  }
}

interface Shape {
  name: string;
  config: Record<string, unknown>;
  batches: number[];
  contexts: number[];
  /**
   * The context of the fixed-budget comparison: there the KV budget fits `budgetSeqs` vanilla
   * sequences (so vanilla stops at that batch while DMS fits RATIO times more, up to `budgetBatches`);
   * at the other contexts it fits the point's batch.
   */
  budgetContext: number;
  budgetSeqs: number;
  /** Batches run at budgetContext (DMS reaches the larger ones; vanilla's past budgetSeqs report that they do not fit). */
  budgetBatches: number[];
  steps: number;
  weights: 'f32' | 'f16';
}

const SMALL: Shape = {
  name: 'small (d 128, 4 layers, 4/2 heads, ffn 512, vocab 259)',
  config: { hidden_size: 128, intermediate_size: 512, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 259 },
  batches: [1, 4],
  contexts: [64, 256],
  budgetContext: 256,
  budgetSeqs: 4,
  budgetBatches: [1, 4, 12],
  steps: 8,
  weights: 'f32',
};
const ONE_B: Shape = {
  name: 'Llama-3.2-1B dims (d 2048, 16 layers, 32/8 heads, head dim 64, ffn 8192, vocab 128256), random f16 weights',
  config: {
    hidden_size: 2048,
    intermediate_size: 8192,
    num_hidden_layers: 16,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 64,
    vocab_size: 128256,
  },
  batches: [1, 16, 64],
  contexts: [1024, 8192, 32768],
  budgetContext: 32768,
  budgetSeqs: 16,
  budgetBatches: [1, 16, 64, 120],
  steps: 16,
  weights: 'f16',
};

const RATIO = 8;
const WINDOW = 16;
const PAGE = 16;

function shapeConfig(s: Shape): ModelConfig {
  return parseModelConfig({ model_type: 'llama', max_position_embeddings: 40000, tie_word_embeddings: false, bos_token_id: 0, eos_token_id: 1, ...s.config });
}

/** Bytes of weights one decode step reads (every matrix once) at the device precision. */
function weightBytes(cfg: ModelConfig, elem: number): number {
  const { hiddenSize: d, numHeads: H, numKvHeads: K, headDim: D, intermediateSize: I, vocabSize: V, numLayers: L } = cfg;
  return elem * (L * (d * (H + 2 * K) * D + H * D * d + 3 * d * I) + d * V);
}

interface Point {
  policy: 'vanilla' | 'dms';
  batch: number;
  context: number;
  tokens_per_s: number | null;
  step_ms: number | null;
  kv_reads_per_step: number | null;
  bytes_per_step: number | null;
  bandwidth_fraction: number | null;
  error?: string;
}

/** Decode steps run before timing: pipelines, the forks' page copies and the first readbacks are not measured. */
const WARMUP_STEPS = 2;

/**
 * The points of one (policy, context) in ascending batch order on one executor: one sequence is
 * prefilled to the context and the batch is made of its forks (their pages copied on the device), so
 * the prefill is paid once per series; decode speed does not depend on what the context holds.
 */
async function runSeries(
  ctx: GpuContext,
  params: ModelWeights,
  s: Shape,
  policy: 'vanilla' | 'dms',
  context: number,
  batches: number[],
  bwGBs: number,
  onPoint: (p: Point) => void,
): Promise<void> {
  const cfg = params.config;
  const rows = cfg.numLayers * cfg.numKvHeads;
  // Every sequence may grow by all the series' decode steps; a page per row more covers the rounding.
  const growth = batches.length * (WARMUP_STEPS + s.steps);
  const fits = context === s.budgetContext ? s.budgetSeqs : Math.max(...batches);
  const budgetTokens = fits * rows * (Math.ceil((context + growth) / PAGE) + 1) * PAGE;
  const blank = (batch: number): Point => ({
    policy,
    batch,
    context,
    tokens_per_s: null,
    step_ms: null,
    kv_reads_per_step: null,
    bytes_per_step: null,
    bandwidth_fraction: null,
  });
  let ex: ModelExecutor | null = null;
  try {
    const tCreate = performance.now();
    // The first series of a shape also puts its weights on the device (kept for the others).
    ex = await WebgpuExecutor.create(ctx, params, { pageSize: PAGE, headDim: cfg.headDim, budgetTokens }, { weights: s.weights, maxStepTokens: 256 });
    console.log(`${policy} context ${context}: executor ready in ${((performance.now() - tCreate) / 1000).toFixed(1)} s`);
    const first = ex.addSequence(policy === 'dms' ? new ForcedRatioDms(WINDOW, RATIO) : new NonePolicy());
    const t0 = performance.now();
    for (let t = 0; t < context; t += 256) {
      const n = Math.min(256, context - t);
      await ex.run(Array.from({ length: n }, (_, i) => ({ seq: first, token: (t + i) % cfg.vocabSize, position: t + i, wantLogits: false })));
    }
    console.log(`${policy} context ${context}: prefilled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const seqs = [first];
    let position = context;
    for (const batch of batches) {
      try {
        while (seqs.length < batch) {
          // A fork takes a copy of every page (and a page per row to grow into); past the budget a decode step fails the same way.
          if (!ex.cache.pool.canAllocate(ex.cache.pagesHeld(first) + rows))
            throw new Error(`the KV budget (${fits} vanilla sequences at this context) holds only ${seqs.length} of these sequences`);
          seqs.push(ex.fork(first));
        }
        // Greedy decode: the device's argmax sends back one id per row, not V logits. Forks share
        // their parent's position, so every row decodes at the same position.
        const step = async () => {
          const out = await ex!.run(seqs.map((seq) => ({ seq, token: position % cfg.vocabSize, position, wantLogits: true, greedy: true })));
          position++;
          return out;
        };
        for (let i = 0; i < WARMUP_STEPS; i++) await step();
        let reads = 0;
        const tStart = performance.now();
        for (let i = 0; i < s.steps; i++) for (const r of (await step()).reads) reads += r;
        const ms = (performance.now() - tStart) / s.steps;
        const kvPerStep = reads / s.steps;
        const bytes = weightBytes(cfg, s.weights === 'f16' ? 2 : 4) + kvPerStep * 2 * cfg.headDim * 4;
        onPoint({
          ...blank(batch),
          tokens_per_s: (batch * 1000) / ms,
          step_ms: ms,
          kv_reads_per_step: kvPerStep,
          bytes_per_step: bytes,
          bandwidth_fraction: bytes / (ms / 1000) / (bwGBs * 1e9),
        });
      } catch (err) {
        onPoint({ ...blank(batch), error: (err as Error).message });
        break; // a larger batch does not fit either
      }
    }
  } catch (err) {
    for (const batch of batches) onPoint({ ...blank(batch), error: (err as Error).message });
  } finally {
    ex?.dispose();
  }
}

function markdown(adapter: string, shapes: { shape: Shape; points: Point[] }[], bwGBs: number, software: boolean): string {
  const lines = [
    `# webgpu engine benchmark on ${adapter}`,
    '',
    software
      ? 'This adapter is a software rasteriser (lavapipe on the CPU): the numbers only show that the GPU path runs end to end; they say nothing about GPU speed.'
      : 'Measured on a GPU adapter.',
    `Copy-kernel bandwidth measured in the same run: ${bwGBs.toFixed(2)} GB/s (${COPIES_PER_RUN} back-to-back copies per submission). DMS is forced to ratio ${RATIO} (window ${WINDOW}: every token but one in ${RATIO} is flagged).`,
    `Per policy and context one sequence is prefilled and each batch is made of its forks (pages copied on the device); each point runs ${WARMUP_STEPS} untimed greedy decode steps, then times the rest; each row reads back its argmax id (4 bytes), not its logits.`,
    "At a shape's budget context the KV budget fits its budgetSeqs vanilla sequences (vanilla batches past that report that they do not fit; DMS fits about ratio times more); elsewhere it fits the point's batch.",
    'Bytes per step = every weight once + KV slots read x 2 x D x 4 (the pools are f32).',
    '',
  ];
  if (!shapes.some((s) => s.shape.name === ONE_B.name)) {
    lines.push(
      `The 1B shape (${ONE_B.name}; batch ${ONE_B.batches.join(' / ')} at context ${ONE_B.contexts.filter((c) => c !== ONE_B.budgetContext).join(' / ')}, batch ${ONE_B.budgetBatches.join(' / ')} at ${ONE_B.budgetContext} under a budget of ${ONE_B.budgetSeqs} vanilla sequences) is ready to run with \`npm run bench:engine -- --backend webgpu --shape 1b\` on a GPU host, or through the packed kit in bench/gpu-host/ on a machine without Node; it was not run here (no GPU host was available; on lavapipe it would take hours). No GPU figures exist yet.`,
      '',
    );
  }
  for (const { shape, points } of shapes) {
    const t = targets(shape, points);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    lines.push(
      `## ${shape.name}`,
      '',
      '| policy | batch | context | tokens/s | step ms | KV reads/step | bytes/step | of bandwidth |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const p of points) {
      if (p.error) lines.push(`| ${p.policy} | ${p.batch} | ${p.context} | error: ${p.error} | | | | |`);
      else
        lines.push(
          `| ${p.policy} | ${p.batch} | ${p.context} | ${p.tokens_per_s!.toFixed(1)} | ${p.step_ms!.toFixed(1)} | ${p.kv_reads_per_step} | ${p.bytes_per_step!.toExponential(3)} | ${(100 * p.bandwidth_fraction!).toFixed(1)}% |`,
        );
    }
    lines.push(
      '',
      `Vanilla at batch 64, context 8192: ${t.vanilla_b64_8k_bandwidth_fraction === null ? 'not run' : `${pct(t.vanilla_b64_8k_bandwidth_fraction)} of the copy bandwidth`} (target on a GPU: >= 50%).`,
      `At context ${t.budget_context} under a budget of ${t.budget_vanilla_seqs} vanilla sequences: best DMS ${t.best_dms_tokens_per_s?.toFixed(1) ?? 'not run'} tokens/s against best vanilla ${t.best_vanilla_tokens_per_s?.toFixed(1) ?? 'not run'}: ${t.dms_over_vanilla === null ? 'no ratio' : `${t.dms_over_vanilla.toFixed(2)}x`} (target on a GPU: >= 4x).`,
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The series of a shape: per context (the shape's, or those asked for), vanilla then DMS, each over its batches. */
function seriesOf(s: Shape, contexts: number[] | null, batches: number[] | null): Array<{ policy: 'vanilla' | 'dms'; context: number; batches: number[] }> {
  return (contexts ?? s.contexts)
    .flatMap((context) =>
      (['vanilla', 'dms'] as const).map((policy) => ({
        policy,
        context,
        batches: (context === s.budgetContext ? s.budgetBatches : s.batches).filter((b) => !batches || batches.includes(b)),
      })),
    )
    .filter((series) => series.batches.length > 0);
}

/** The issue's two GPU targets, judged from the points (null where a point did not run). */
export function targets(s: Shape, points: Point[]) {
  const roofline = points.find((p) => p.policy === 'vanilla' && p.batch === 64 && p.context === 8192 && p.tokens_per_s !== null);
  const best = (policy: Point['policy']) =>
    Math.max(0, ...points.filter((p) => p.policy === policy && p.context === s.budgetContext && p.tokens_per_s !== null).map((p) => p.tokens_per_s!));
  const [vanilla, dms] = [best('vanilla'), best('dms')];
  return {
    vanilla_b64_8k_bandwidth_fraction: roofline?.bandwidth_fraction ?? null,
    budget_context: s.budgetContext,
    budget_vanilla_seqs: s.budgetSeqs,
    best_vanilla_tokens_per_s: vanilla || null,
    best_dms_tokens_per_s: dms || null,
    dms_over_vanilla: vanilla && dms ? dms / vanilla : null,
  };
}

function argOf(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
}

/**
 * Options: --shape small|1b (1b runs small first), --contexts 8192,32768 (the 1b shape's contexts instead
 * of its own) and --batches 1,64 (only those of its batches), --steps N
 * (timed decode steps per point), --out DIR (default bench/results). Results are rewritten after every
 * point, so a run cut short by a time limit leaves what it measured.
 */
export async function runWebgpuBench(argv: string[]): Promise<void> {
  const which = argOf(argv, '--shape') ?? 'small';
  if (which !== 'small' && which !== '1b') throw new Error(`--shape must be small or 1b, got ${which}`);
  const onlyContexts = argOf(argv, '--contexts')?.split(',').map(Number) ?? null;
  const onlyBatches = argOf(argv, '--batches')?.split(',').map(Number) ?? null;
  const steps = argOf(argv, '--steps') ? Number(argOf(argv, '--steps')) : null;
  if (steps !== null && !(Number.isInteger(steps) && steps > 0)) throw new Error('--steps must be a positive integer');
  process.env.DMS_BACKEND = 'webgpu';
  await initBackendInfo();
  const ctx = await gpuContext();
  if (!ctx) throw new Error('no WebGPU adapter');
  console.log(`adapter: ${JSON.stringify(ctx.adapter)} software ${ctx.software}`);
  const bwGBs = await measureCopyBandwidth(ctx);
  console.log(`copy bandwidth ${bwGBs.toFixed(1)} GB/s`);
  const tag =
    ctx.adapter.description
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40)
      .toLowerCase() || 'adapter';
  const out = argOf(argv, '--out') ?? join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(out, { recursive: true });
  const shapes: { shape: Shape; points: Point[] }[] = [];
  const write = () => {
    const json = {
      adapter: ctx.adapter,
      software: ctx.software,
      limits: { maxBufferSize: ctx.limits.maxBufferSize, maxStorageBufferBindingSize: ctx.limits.maxStorageBufferBindingSize },
      copy_bandwidth_gbs: bwGBs,
      ratio: RATIO,
      window: WINDOW,
      tfjs: tf.getBackend(),
      shapes: shapes.map(({ shape, points }) => ({ shape, points, targets: targets(shape, points) })),
    };
    writeFileSync(join(out, `engine-webgpu-${tag}.json`), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(join(out, `engine-webgpu-${tag}.md`), markdown(ctx.adapter.description, shapes, bwGBs, ctx.software));
  };
  for (const base of which === 'small' ? [SMALL] : [SMALL, ONE_B]) {
    const shape = steps ? { ...base, steps } : base;
    // The 1B shape's random weights are made tensor by tensor as the device loader reads them (no tfjs
    // tensors: tfjs's init took a minute and 5 GB here); the small shape uses tfjs's init.
    const params: ModelWeights = base === ONE_B ? randomDeviceWeights(shapeConfig(shape)) : initParams(shapeConfig(shape), 1);
    const entry = { shape, points: [] as Point[] };
    shapes.push(entry);
    for (const { policy, context, batches } of seriesOf(shape, base === SMALL ? null : onlyContexts, base === SMALL ? null : onlyBatches))
      await runSeries(ctx, params, shape, policy, context, batches, bwGBs, (p) => {
        console.log(JSON.stringify(p));
        entry.points.push(p);
        write();
      });
    if ('deviceOnly' in params) releaseDerived(params);
    else disposeParams(params);
  }
  console.log(`wrote ${join(out, `engine-webgpu-${tag}`)}.json and .md`);
}
