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
import { disposeParams, initParams, type LlamaParams } from '../engine/model/weights.js';
import { DmsPolicy } from '../engine/policies/dms.js';
import type { TokenKv } from '../engine/policies/kv-policy.js';
import { NonePolicy } from '../engine/policies/none.js';
import { measureCopyBandwidth } from './webgpu-bandwidth.js';

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
  /** KV budget in token slots: fits `budgetSeqs` vanilla sequences at the point's context. */
  budgetSeqs: number;
  steps: number;
  weights: 'f32' | 'f16';
}

const SMALL: Shape = {
  name: 'small (d 128, 4 layers, 4/2 heads, ffn 512, vocab 259)',
  config: { hidden_size: 128, intermediate_size: 512, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 259 },
  batches: [1, 4],
  contexts: [64, 256],
  budgetSeqs: 4,
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
  budgetSeqs: 16,
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

async function runPoint(
  ctx: GpuContext,
  params: LlamaParams,
  s: Shape,
  policy: 'vanilla' | 'dms',
  batch: number,
  context: number,
  bwGBs: number,
): Promise<Point> {
  const cfg = params.config;
  const rows = cfg.numLayers * cfg.numKvHeads;
  const budgetTokens = s.budgetSeqs * rows * (context + s.steps + PAGE);
  const base: Point = { policy, batch, context, tokens_per_s: null, step_ms: null, kv_reads_per_step: null, bytes_per_step: null, bandwidth_fraction: null };
  let ex: ModelExecutor | null = null;
  try {
    ex = await WebgpuExecutor.create(ctx, params, { pageSize: PAGE, headDim: cfg.headDim, budgetTokens }, { weights: s.weights, maxStepTokens: 256 });
    const seqs: number[] = [];
    for (let b = 0; b < batch; b++) {
      const seq = ex.addSequence(policy === 'dms' ? new ForcedRatioDms(WINDOW, RATIO) : new NonePolicy());
      seqs.push(seq);
      for (let t0 = 0; t0 < context; t0 += 256) {
        const n = Math.min(256, context - t0);
        await ex.run(Array.from({ length: n }, (_, i) => ({ seq, token: (t0 + i) % cfg.vocabSize, position: t0 + i, wantLogits: false })));
      }
    }
    let reads = 0;
    const t0 = performance.now();
    for (let step = 0; step < s.steps; step++) {
      // Greedy decode: the device's argmax sends back one id per row, not V logits.
      const out = await ex.run(seqs.map((seq) => ({ seq, token: step % cfg.vocabSize, position: context + step, wantLogits: true, greedy: true })));
      for (const r of out.reads) reads += r;
    }
    const ms = (performance.now() - t0) / s.steps;
    const kvPerStep = reads / s.steps;
    const bytes = weightBytes(cfg, s.weights === 'f16' ? 2 : 4) + kvPerStep * 2 * cfg.headDim * 4;
    return {
      ...base,
      tokens_per_s: (batch * 1000) / ms,
      step_ms: ms,
      kv_reads_per_step: kvPerStep,
      bytes_per_step: bytes,
      bandwidth_fraction: bytes / (ms / 1000) / (bwGBs * 1e9),
    };
  } catch (err) {
    return { ...base, error: (err as Error).message };
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
    `Copy-kernel bandwidth measured in the same run: ${bwGBs.toFixed(2)} GB/s. DMS is forced to ratio ${RATIO} (window ${WINDOW}: every token but one in ${RATIO} is flagged); the KV budget of a point fits ${shapes[0]?.shape.budgetSeqs} vanilla sequences at its context. Bytes per step = every weight once + KV slots read x 2 x D x 4.`,
    '',
  ];
  if (!shapes.some((s) => s.shape === ONE_B)) {
    lines.push(
      `The 1B shape (${ONE_B.name}; batch ${ONE_B.batches.join(' / ')}, context ${ONE_B.contexts.join(' / ')}) is ready to run with \`npm run bench:engine -- --backend webgpu --shape 1b\` on a GPU host and was not run here (no GPU host was available; on lavapipe it would take hours). No GPU figures exist yet. The K and V page pools are split across as many storage buffers as the adapter's maxStorageBufferBindingSize / maxBufferSize need (16 vanilla sequences at 32K on this shape: about 17.2 GB of f32 K and as much V); a point whose split needs more storage buffers than the adapter's maxStorageBuffersPerShaderStage (8 + 2 per pool buffer) reports that error. Decode is greedy: each row reads back its argmax id (4 bytes), not its logits.`,
      '',
    );
  }
  for (const { shape, points } of shapes) {
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
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

export async function runWebgpuBench(argv: string[]): Promise<void> {
  const which = argv.includes('--shape') ? argv[argv.indexOf('--shape') + 1] : 'small';
  if (which !== 'small' && which !== '1b') throw new Error(`--shape must be small or 1b, got ${which}`);
  process.env.DMS_BACKEND = 'webgpu';
  await initBackendInfo();
  const ctx = await gpuContext();
  if (!ctx) throw new Error('no WebGPU adapter');
  const bwGBs = await measureCopyBandwidth(ctx);
  const shapes: { shape: Shape; points: Point[] }[] = [];
  for (const shape of which === 'small' ? [SMALL] : [SMALL, ONE_B]) {
    // tfjs's wasm memory stops at 4 GiB: build the 1B shape's random weights on tfjs's cpu backend (plain JS arrays).
    if (shape === ONE_B) await tf.setBackend('cpu');
    const params = initParams(shapeConfig(shape), 1);
    const points: Point[] = [];
    for (const context of shape.contexts)
      for (const batch of shape.batches)
        for (const policy of ['vanilla', 'dms'] as const) {
          const p = await runPoint(ctx, params, shape, policy, batch, context, bwGBs);
          console.log(JSON.stringify(p));
          points.push(p);
        }
    disposeParams(params);
    shapes.push({ shape, points });
  }
  const tag =
    ctx.adapter.description
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40)
      .toLowerCase() || 'adapter';
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(out, { recursive: true });
  const json = { adapter: ctx.adapter, software: ctx.software, copy_bandwidth_gbs: bwGBs, ratio: RATIO, window: WINDOW, tfjs: tf.getBackend(), shapes };
  writeFileSync(join(out, `engine-webgpu-${tag}.json`), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(out, `engine-webgpu-${tag}.md`), markdown(ctx.adapter.description, shapes, bwGBs, ctx.software));
  console.log(`wrote bench/results/engine-webgpu-${tag}.json and .md`);
}
