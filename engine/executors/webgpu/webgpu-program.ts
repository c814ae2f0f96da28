// The device side of a webgpu step: its buffers (program-buffers.ts) and pipelines (pipeline-cache.ts),
// and one step as one command stream (upload, the dispatches of step-dispatches.ts, the readback copies)
// followed by one mapped readback (step-readback.ts).
import type { PagePool } from '../../kv/page-pool.js';
import type { ModelConfig } from '../../model/config.js';
import type { DeviceWeights } from './device-weights.js';
import type { GpuContext } from './gpu-context.js';
import { PipelineCache } from './pipeline-cache.js';
import { ProgramBuffers } from './program-buffers.js';
import { buildDispatches, recordDispatches, type StepDispatches } from './step-dispatches.js';
import type { StepPlan } from './step-plan.js';
import { decodeReadback, emptyResult, mapRead, readbackBytes, readLogitRows, recordReadback, type StepResult, stepReadbackPlan } from './step-readback.js';
import { listWords, type StepBuffers, stepOps, uploadStep } from './step-upload.js';
import type { PoolLayout } from './wgsl-pool.js';

/** A step's host inputs and its results, as the executor sees them. */
export type { StepBuffers, StepResult };

export class WebgpuProgram {
  private readonly buffers: ProgramBuffers;
  private readonly pipes: PipelineCache;
  /** Every bind group of a step: built at the first step, rebuilt whenever a per-step list buffer was replaced. */
  private dispatches: StepDispatches | null = null;
  /** How the K and V page pools are split over buffers. */
  readonly layout: PoolLayout;

  constructor(
    readonly ctx: GpuContext,
    readonly cfg: ModelConfig,
    readonly weights: DeviceWeights,
    readonly pool: PagePool,
    readonly plan: StepPlan,
    readonly cap: number,
    /** Most bytes of one K or V pool buffer (default: the adapter's binding and buffer limits; tests force splits). */
    maxPoolBufferBytes = Number.POSITIVE_INFINITY,
    /** C: candidates per top-k / top-p row (the executor sends such rows only when C < V). */
    readonly numCandidates = 64,
  ) {
    this.buffers = new ProgramBuffers(ctx, cfg, {
      numPages: pool.numPages,
      pageSize: pool.pageSize,
      cap,
      regionWords: plan.regionWords,
      qkvWidth: weights.layers[0].qkvd.out,
      numCandidates,
      maxPoolBufferBytes,
    });
    this.layout = this.buffers.layout;
    this.pipes = new PipelineCache(ctx.device);
  }

  /** Encodes and submits one step, then waits for its readback. */
  async run(step: StepBuffers, withDms: boolean): Promise<StepResult> {
    const { numLayers: L, numKvHeads: K, headDim: D, vocabSize: V } = this.cfg;
    const b = this.buffers;
    const ops = stepOps(step.plan, this.pool.pageSize);
    const grew = b.fit(listWords(step.plan, ops, D));
    if (grew || !this.dispatches) {
      const kit = { pipes: this.pipes, bufs: b, cfg: this.cfg, weights: this.weights, pageSize: this.pool.pageSize, numCandidates: this.numCandidates };
      this.dispatches = buildDispatches(kit);
    }
    const q = this.ctx.device.queue;
    const shape = uploadStep(q, b, step, ops);
    const enc = this.ctx.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    recordDispatches(pass, this.dispatches, shape, D);
    pass.end();
    const C = this.numCandidates;
    const back = stepReadbackPlan(step, withDms ? L * shape.n * K : 0, shape.candRows);
    const a = b.act;
    recordReadback(enc, { dms: a.dms, ids: a.ids, cand: b.cand.out, logits: a.logits }, b.readback, back, V, C);
    const t0 = performance.now();
    q.submit([enc.finish()]);
    const bytes = readbackBytes(back, V, C);
    if (bytes === 0) {
      await q.onSubmittedWorkDone();
      return emptyResult(step, performance.now() - t0);
    }
    const { raw, waitMs } = await mapRead(b.readback, bytes, t0);
    return decodeReadback(raw, back, step, C, V, waitMs);
  }

  /** The last step's logits of wanted rows `rows` (ascending), read again (rows whose candidates did not decide). */
  readLogits(rows: number[]): Promise<{ logits: Float32Array; waitMs: number }> {
    return readLogitRows(this.ctx, this.buffers.act.logits, this.buffers.readback, rows, this.cfg.vocabSize);
  }

  /** Frees every buffer of the program (the weights belong to their own holder). */
  dispose(): void {
    this.buffers.dispose();
  }
}
