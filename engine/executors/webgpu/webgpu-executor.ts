// The webgpu executor: weights, K/V pages, page tables and activations in GPU buffers; the host keeps
// the bookkeeping (page tables, lengths, policy state) and uploads one small plan per step, then every
// layer runs on the device and only the wanted logits and the step's DMS logits come back.
import { PagePool, type PagePoolOptions } from '../../kv/page-pool.js';
import { type CacheRow, PagedCache } from '../../kv/paged-cache.js';
import type { ModelConfig } from '../../model/config.js';
import { ropeTables } from '../../model/rope.js';
import { isDeviceOnly, type ModelWeights, paramsSource } from '../../model/weight-source.js';
import { type Candidates, candidateNucleus, candidatesMayDecide } from '../../runtime/candidate-sampler.js';
import { SequencePolicies } from '../sequence-policies.js';
import type { KvPolicy, TokenKv } from '../../policies/kv-policy.js';
import type { BackendInfo, ModelExecutor, StepItem, StepOutput } from '../executor.js';
import { type DeviceWeights, residentWeights } from './device-weights.js';
import type { GpuContext } from './gpu-context.js';
import { StepPlan } from './step-plan.js';
import { checkWebgpuConfig, checkWebgpuPolicy } from './support.js';
import { type StepBuffers, WebgpuProgram } from './webgpu-program.js';
import { candidateWords, MAX_CANDIDATES } from './wgsl-top-candidates.js';

export interface WebgpuExecutorOptions {
  /** Weight precision on the device (default f32; f16 needs the adapter's shader-f16). */
  weights?: 'f32' | 'f16';
  /** Most tokens one device step holds (default 256): larger plans run as several steps. */
  maxStepTokens?: number;
  /** Most bytes of one K or V pool buffer (default: the adapter's limits); smaller values force the split that large budgets need. */
  maxPoolBufferBytes?: number;
  /** C: top candidates a top-k / top-p row reads back instead of its V logits (default 64, at most 128). */
  numCandidates?: number;
}

/** A dms-w0 placement made before its decision is known: what to restore when the device overwrote instead. */
interface Speculation {
  row: CacheRow;
  policy: KvPolicy;
  tok: TokenKv;
  item: number;
  dmsIndex: number;
  length: number;
  pages: number;
  state: unknown;
}

/** Most tokens of one row one device step places when the policy does not limit it (bounds the plan lists). */
const MAX_ROW_TOKENS = 256;
/** Placeholder for TokenKv.k/v: on webgpu the data is in the device's staging buffers at kOff/vOff. */
const ON_DEVICE = new Float32Array(0);

export class WebgpuExecutor implements ModelExecutor {
  readonly info: BackendInfo;
  readonly config: ModelConfig;
  readonly cache: PagedCache;
  private readonly policies: SequencePolicies;
  private readonly plan: StepPlan;
  private readonly weights: DeviceWeights;
  private readonly program: WebgpuProgram;
  private readonly maxStepTokens: number;
  /** Milliseconds from submit to mapped readback, summed over device steps (the device compute included). */
  readbackMs = 0;
  /** Bytes read back from the device, summed over device steps (greedy rows: 4 bytes each, not 4V). */
  readbackBytes = 0;
  /** Sampled rows answered by their top candidates (2C + 2 words each). */
  numCandidateRows = 0;
  /** Sampled rows that read their V logits in the step's readback (pure temperature, top-k > C, or C too close to V). */
  numFullRows = 0;
  /** Candidate rows whose top-p nucleus the candidates did not decide: their logits read again after the step. */
  numUndecidedRows = 0;
  private readonly numCandidates: number;

  /**
   * An executor over a model's resident device weights: made by the first executor over these weights
   * (from the checkpoint for a device-only load, else from the tfjs params), reused by every later one
   * (each generate() builds an executor), freed with the model (its dispose()).
   */
  static async create(ctx: GpuContext, weights: ModelWeights, poolOptions: PagePoolOptions, opts: WebgpuExecutorOptions = {}): Promise<WebgpuExecutor> {
    checkWebgpuConfig(weights.config);
    const f16 = opts.weights === 'f16';
    if (f16 && !ctx.f16) throw new Error('webgpu: f16 weights need the shader-f16 feature, which this adapter lacks');
    const source = isDeviceOnly(weights) ? weights.source : paramsSource(weights);
    return new WebgpuExecutor(ctx, weights.config, await residentWeights(ctx, weights, source, f16), poolOptions, opts);
  }

  constructor(
    readonly ctx: GpuContext,
    cfg: ModelConfig,
    weights: DeviceWeights,
    poolOptions: PagePoolOptions,
    opts: WebgpuExecutorOptions = {},
  ) {
    checkWebgpuConfig(cfg);
    this.config = cfg;
    this.info = { backend: 'webgpu', adapter: ctx.adapter };
    this.maxStepTokens = opts.maxStepTokens ?? 256;
    const pool = new PagePool({ ...poolOptions, hostStorage: false });
    this.plan = new StepPlan(cfg.numLayers, cfg.numKvHeads, pool.pageSize, cfg.headDim, cfg.maxPositionEmbeddings);
    this.cache = new PagedCache(pool, { numLayers: cfg.numLayers, numKvHeads: cfg.numKvHeads }, false, this.plan);
    this.policies = new SequencePolicies(this.cache, 'webgpu executor');
    this.weights = weights;
    this.numCandidates = opts.numCandidates ?? 64;
    if (!(this.numCandidates >= 1 && this.numCandidates <= MAX_CANDIDATES)) throw new Error(`webgpu: numCandidates must be in 1..${MAX_CANDIDATES}`);
    this.program = new WebgpuProgram(ctx, cfg, this.weights, pool, this.plan, this.maxStepTokens, opts.maxPoolBufferBytes, this.numCandidates);
  }

  checkPolicy(policy: KvPolicy): void {
    checkWebgpuPolicy(policy);
  }

  addSequence(policy: KvPolicy): number {
    checkWebgpuPolicy(policy);
    return this.policies.add(policy);
  }

  fork(seq: number): number {
    return this.policies.fork(seq);
  }

  free(seq: number): void {
    const rows = this.cache.rows(seq);
    this.policies.free(seq);
    for (const row of rows) this.plan.release(row);
  }

  private policyOf(seq: number): KvPolicy {
    return this.policies.of(seq);
  }

  async run(items: StepItem[]): Promise<StepOutput> {
    const V = this.config.vocabSize;
    const reads = new Float64Array(items.length);
    const numWanted = items.filter((it) => it.wantLogits).length;
    const numSampled = items.filter((it) => it.wantLogits && !it.greedy).length;
    const logits = new Float32Array(numSampled * V);
    const ids = new Int32Array(numWanted);
    const candidates: (Candidates | null)[] = [];
    let done = 0;
    let wantedDone = 0;
    let rowsDone = 0;
    while (done < items.length) {
      const count = this.nextStepSize(items, done);
      const part = items.slice(done, done + count);
      const out = await this.runStep(part);
      reads.set(out.reads, done);
      logits.set(out.logits, rowsDone * V);
      ids.set(out.ids, wantedDone);
      candidates.push(...(out.candidates ?? []));
      rowsDone += out.logits.length / V;
      wantedDone += out.ids.length;
      done += count;
    }
    return { logits: logits.subarray(0, rowsDone * V), ids, candidates, reads };
  }

  /** Items from `start` that one device step can take: at most maxStepTokens, and per sequence at most its policy's deferral limit. */
  private nextStepSize(items: StepItem[], start: number): number {
    const perSeq = new Map<number, number>();
    let n = 0;
    while (start + n < items.length && n < this.maxStepTokens) {
      const it = items[start + n];
      // maxDeferred 0 (dms-w0): one token per row and step, decided on the device in-step.
      const limit = Math.max(1, Math.min(MAX_ROW_TOKENS, this.policyOf(it.seq).maxDeferred ?? MAX_ROW_TOKENS));
      const c = perSeq.get(it.seq) ?? 0;
      if (c >= limit) break;
      perSeq.set(it.seq, c + 1);
      n++;
    }
    return n;
  }

  /** One device step: plan on the host, upload, run every layer, read back logits and DMS logits. */
  private async runStep(items: StepItem[]): Promise<StepOutput> {
    const cfg = this.config;
    const { numLayers: L, numKvHeads: K, headDim: D } = cfg;
    const n = items.length;
    const reads = new Float64Array(n);
    const plan = this.plan;
    plan.begin(n);
    const speculated: Speculation[] = [];
    for (let l = 0; l < L; l++) {
      for (let i = 0; i < n; i++) {
        const it = items[i];
        const policy = this.policyOf(it.seq);
        for (let h = 0; h < K; h++) {
          const row = this.cache.row(it.seq, l, h);
          plan.touch(row, l);
          const off = (i * K + h) * D;
          const tok: TokenKv = { position: it.position, k: ON_DEVICE, kOff: off, v: ON_DEVICE, vOff: off, dmsLogit: Number.NaN };
          const target = policy.inStepTarget?.(row) ?? -1;
          if (target >= 0) {
            // Place as if kept (append); the device takes `target` instead when the logit flags it, and the host follows after readback.
            speculated.push({
              row,
              policy,
              tok,
              item: i,
              dmsIndex: (l * n + i) * K + h,
              length: row.length,
              pages: row.pages.length,
              state: policy.cloneState(row.policyState),
            });
          }
          if (policy.place) policy.place(row, tok);
          else policy.insert(row, tok);
          reads[i] += plan.describe(row, l, i, h, n, target);
        }
      }
    }
    plan.finishAll();
    const wanted = items.flatMap((it, i) => (it.wantLogits ? [i] : []));
    const greedy = wanted.map((i) => items[i].greedy === true);
    const rope = ropeTables(
      cfg,
      items.map((it) => it.position),
    );
    const invT = wanted.map((i) => this.candidateTemperature(items[i]));
    const step: StepBuffers = { tokens: items.map((it) => it.token), rope, wanted, greedy, invT, plan };
    const back = await this.program.run(step, cfg.dms !== null);
    this.readbackMs += back.waitMs;
    this.readbackBytes += back.readbackBytes;
    if (back.dms) {
      this.recordLogits(items, back.dms);
      this.resolve(speculated, back.dms, reads);
    }
    const logits = await this.withUndecided(
      wanted.map((i) => items[i]),
      back.candidates,
      back.logits,
    );
    this.numFullRows += back.logits.length / cfg.vocabSize;
    this.numCandidateRows += back.candidates.filter((c) => c !== null).length;
    return { logits, ids: back.ids, candidates: back.candidates, reads };
  }

  /** 1/T in f32 when the row's top candidates may decide its draw (and are fewer words than its logits), else null. */
  private candidateTemperature(it: StepItem): number | null {
    const V = this.config.vocabSize;
    const C = this.numCandidates;
    if (it.greedy || !it.sampling || candidateWords(C) >= V || !candidatesMayDecide(it.sampling, V, C)) return null;
    const invT = Math.fround(1 / it.sampling.temperature);
    return Number.isFinite(invT) && invT > 0 ? invT : null;
  }

  /**
   * The step's sampled-row logits in wanted order: the rows read in the step, plus the candidate rows
   * whose draw the candidates did not decide (nulled in `cand`), read again now in one more readback.
   */
  private async withUndecided(wanted: StepItem[], cand: (Candidates | null)[], main: Float32Array): Promise<Float32Array> {
    const V = this.config.vocabSize;
    const again = wanted.flatMap((it, j) => (cand[j] && candidateNucleus(cand[j], it.sampling!) < 0 ? [j] : []));
    if (again.length === 0) return main;
    const more = await this.program.readLogits(again);
    this.readbackMs += more.waitMs;
    this.readbackBytes += more.logits.byteLength;
    this.numUndecidedRows += again.length;
    for (const j of again) cand[j] = null;
    const out = new Float32Array(main.length + more.logits.length);
    const next = { main: 0, more: 0 };
    let o = 0;
    wanted.forEach((it, j) => {
      if (it.greedy || cand[j]) return;
      const from = next.more < again.length && again[next.more] === j ? 'more' : 'main';
      const src = from === 'more' ? more.logits : main;
      out.set(src.subarray(next[from] * V, (next[from] + 1) * V), o++ * V);
      next[from]++;
    });
    return out;
  }

  /** dms-w0: where the logit flagged the predecessor, undo the speculative append and replay the insert without recording device work. */
  private resolve(speculated: Speculation[], dms: Float32Array, reads: Float64Array): void {
    this.plan.silent = true;
    try {
      for (const sp of speculated) {
        const logit = dms[sp.dmsIndex];
        if (!(logit > 0)) continue;
        const row = sp.row;
        row.length = sp.length;
        while (row.pages.length > sp.pages) this.cache.pool.free(row.pages.pop()!);
        this.plan.pagesChanged(row, row.pages.length);
        row.policyState = sp.state;
        sp.policy.insert(row, { ...sp.tok, dmsLogit: logit });
        reads[sp.item] -= 1;
      }
    } finally {
      this.plan.silent = false;
    }
  }

  /** Applies the step's DMS logits [L, n, K] to the policies that decide after the step. */
  private recordLogits(items: StepItem[], dms: Float32Array): void {
    const { numLayers: L, numKvHeads: K } = this.config;
    const n = items.length;
    for (let l = 0; l < L; l++) {
      for (let i = 0; i < n; i++) {
        const it = items[i];
        const policy = this.policyOf(it.seq);
        if (!policy.recordLogit || policy.maxDeferred === 0) continue;
        for (let h = 0; h < K; h++) policy.recordLogit(this.cache.row(it.seq, l, h), it.position, dms[(l * n + i) * K + h]);
      }
    }
  }

  /** How many buffers each of the K and V page pools is split into. */
  get numPoolBuffers(): number {
    return this.program.layout.numBuffers;
  }

  dispose(): void {
    for (const seq of this.policies.seqs()) this.free(seq);
    // The weights stay resident with the model (its dispose() frees them).
    this.program.dispose();
  }
}
