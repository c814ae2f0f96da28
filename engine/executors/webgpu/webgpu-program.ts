// The device side of a webgpu step: pipelines, the page pool and activation buffers, one command
// stream per step (embed, per layer: norm, qkv, post, attention, commit, o, norm, gate|up, SwiGLU,
// down; final norm, lm head, argmax and top candidates over the wanted rows) and one readback.
import type { PagePool } from '../../kv/page-pool.js';
import type { ModelConfig } from '../../model/config.js';
import type { Candidates } from '../../runtime/candidate-sampler.js';
import type { DeviceMatrix, DeviceWeights } from './device-weights.js';
import type { GpuContext } from './gpu-context.js';
import { NONE, OP_WORDS, type StepPlan } from './step-plan.js';
import { attentionWgsl, commitWgsl, DESC_WORDS, qkvPostWgsl } from './wgsl-attention.js';
import { argmaxWgsl } from './wgsl-argmax.js';
import { decodeCandidates, mapRead, type ReadbackPlan, readbackBytes, readLogitRows, recordReadback } from './step-readback.js';
import { embedWgsl, matmulWgsl, RMSNORM_WGSL, SWIGLU_WGSL } from './wgsl-dense.js';
import { OTHER_STORAGE_BUFFERS, type PoolLayout, poolEntries, poolLayout } from './wgsl-pool.js';
import { candidateRows, candidateSumRelErr, candidateWords, topCandidatesWgsl } from './wgsl-top-candidates.js';

/** One step's host inputs. */
export interface StepBuffers {
  tokens: number[];
  /** cos/sin [n, rot] from ropeTables (the same tables the wasm executor uses). */
  rope: { cos: Float32Array; sin: Float32Array; rot: number };
  /** Items whose logits are wanted, in order. */
  wanted: number[];
  /** Per wanted item: only its argmax id comes back (greedy), not its V logits. */
  greedy: boolean[];
  /** Per wanted item: 1/T (f32) when its top candidates come back instead of its V logits, else null. */
  invT: (number | null)[];
  plan: StepPlan;
}

export interface StepResult {
  logits: Float32Array; // [S, V]: the wanted rows neither greedy nor answered by candidates
  ids: Int32Array; // [M]: the argmax of greedy rows, -1 for the others
  candidates: (Candidates | null)[]; // [M]: the top C of candidate rows, null for the others
  dms: Float32Array | null; // [L, n, K]
  /** Milliseconds from submit to the mapped readback. */
  waitMs: number;
  /** Bytes read back (DMS logits + ids + candidates + logits of the rows sampled from all V). */
  readbackBytes: number;
}

type Dispatch = { pipeline: GPUComputePipeline; group: GPUBindGroup; size: (n: number, m: number) => [number, number] };

export class WebgpuProgram {
  private readonly owned: GPUBuffer[] = [];
  private readonly device: GPUDevice;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** The K and V page pools, each split into layout.numBuffers buffers by page-id range. */
  private readonly kpool: GPUBuffer[];
  private readonly vpool: GPUBuffer[];
  readonly layout: PoolLayout;
  private readonly act: Record<
    'x' | 'h' | 'y' | 'q' | 'ks' | 'vs' | 'attn' | 'gu' | 'act' | 'dms' | 'logits' | 'ids' | 'stepU' | 'tokens' | 'rope' | 'wanted' | 'desc',
    GPUBuffer
  >;
  /** The top-candidates pass: its row list [r, 2] and output [r, 2C + 2]. */
  private readonly cand: { rows: GPUBuffer; out: GPUBuffer };
  /** Growable per-step lists: page tables + descriptor lists, commit ops, the commit's temporary K/V. */
  private tables: GPUBuffer;
  /** Every row's page table, one region per row (StepPlan.regionWords u32), patched per step. */
  private pageTables: GPUBuffer;
  private ops: GPUBuffer;
  private tmp: GPUBuffer;
  private readback: GPUBuffer;
  private readonly commitU: GPUBuffer[];
  private readonly commitPreU: GPUBuffer;
  private preCommit: Dispatch[] = [];
  private readonly dummy: GPUBuffer;
  private layerDispatches: { before: Dispatch[]; commit: [Dispatch, Dispatch]; after: Dispatch[] }[] = [];
  private headDispatches: Dispatch[] = [];
  private candidateDispatch: Dispatch | null = null;
  private embedDispatches: Dispatch[] = [];
  private stale = true;

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
    this.device = ctx.device;
    const { numLayers: L, numHeads: H, numKvHeads: K, headDim: D, hiddenSize: d, intermediateSize: I, vocabSize: V } = cfg;
    const maxBinding = ctx.limits.maxStorageBufferBindingSize;
    const perBuffer = Math.min(maxBinding, ctx.limits.maxBufferSize, maxPoolBufferBytes);
    this.layout = poolLayout(pool.numPages, pool.pageSize, D, perBuffer);
    const storage = OTHER_STORAGE_BUFFERS + 2 * this.layout.numBuffers;
    if (storage > ctx.limits.maxStorageBuffersPerShaderStage) {
      const poolBytes = pool.numPages * pool.pageSize * D * 4;
      throw new Error(
        `webgpu: the KV budget (${pool.numPages} pages of ${pool.pageSize} tokens, ${poolBytes} bytes per K and V) needs ${this.layout.numBuffers} buffers each of at most ${perBuffer} bytes (maxStorageBufferBindingSize ${maxBinding}, maxBufferSize ${ctx.limits.maxBufferSize}), so the attention kernel would bind ${storage} storage buffers; the adapter's maxStorageBuffersPerShaderStage is ${ctx.limits.maxStorageBuffersPerShaderStage}: lower kvBudgetTokens`,
      );
    }
    const mRows = Math.max(1, Math.min(cap, Math.floor(maxBinding / (V * 4))));
    if (mRows < cap) throw new Error(`webgpu: logits of ${cap} rows x ${V} exceed maxStorageBufferBindingSize; lower maxStepTokens`);
    const width = this.weights.layers[0].qkvd.out;
    const f = (floats: number) => this.buffer(floats * 4);
    const slotsIn = (b: number) => Math.min(this.layout.slotsPerBuffer, pool.numPages * pool.pageSize - b * this.layout.slotsPerBuffer);
    this.kpool = Array.from({ length: this.layout.numBuffers }, (_, b) => f(slotsIn(b) * D));
    this.vpool = Array.from({ length: this.layout.numBuffers }, (_, b) => f(slotsIn(b) * D));
    this.act = {
      x: f(cap * d),
      h: f(cap * Math.max(d, I)),
      y: f(cap * width),
      q: f(cap * H * D),
      ks: f(cap * K * D),
      vs: f(cap * K * D),
      attn: f(cap * H * D),
      gu: f(cap * 2 * I),
      act: f(cap * I),
      dms: f(L * cap * K),
      logits: f(cap * V),
      ids: f(cap),
      stepU: this.buffer(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      tokens: f(cap),
      rope: f(2 * cap * cfg.headDim),
      wanted: f(cap),
      desc: f(L * cap * K * DESC_WORDS),
    };
    this.cand = { rows: f(2 * cap), out: f(cap * candidateWords(numCandidates)) };
    this.tables = f(1024);
    this.pageTables = f(64 * this.plan.regionWords);
    this.ops = f(OP_WORDS * 256);
    this.tmp = f(2 * 256 * D);
    const readbackWords = L * cap * K + cap + cap * candidateWords(numCandidates) + cap * V;
    this.readback = this.buffer(readbackWords * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.commitU = Array.from({ length: L }, () => this.buffer(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST));
    this.commitPreU = this.buffer(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.dummy = f(4);
  }

  /** Encodes and submits one step, then waits for its readback. */
  async run(step: StepBuffers, withDms: boolean): Promise<StepResult> {
    const { numLayers: L, numKvHeads: K, headDim: D, vocabSize: V } = this.cfg;
    const n = step.tokens.length;
    const m = step.wanted.length;
    const plan = step.plan;
    const q = this.device.queue;
    // Fork page copies become commit ops run before any layer (a buffer cannot copy onto itself).
    const P = this.pool.pageSize;
    const pre: number[] = [];
    for (const c of plan.pageCopies.splice(0)) for (let s = 0; s < P; s++) pre.push(c.to * P + s, 0, c.from * P + s, NONE, 0);
    const opsAll = pre.concat(plan.ops.flat());
    this.ensure('tables', plan.tables.length);
    this.ensure('ops', opsAll.length);
    this.ensure('tmp', 2 * (opsAll.length / OP_WORDS) * D);
    this.growPageTables(plan.numRegions * plan.regionWords);
    if (this.stale) this.build();
    for (const p of plan.patches) q.writeBuffer(this.pageTables, p.offset * 4, Uint32Array.from(p.pages));
    q.writeBuffer(this.act.stepU, 0, new Uint32Array([n, m, 0, 0]));
    q.writeBuffer(this.act.tokens, 0, Uint32Array.from(step.tokens));
    const rope = new Float32Array(2 * n * step.rope.rot);
    rope.set(step.rope.cos, 0);
    rope.set(step.rope.sin, n * step.rope.rot);
    q.writeBuffer(this.act.rope, 0, rope);
    if (m > 0) q.writeBuffer(this.act.wanted, 0, Uint32Array.from(step.wanted));
    const candRows = candidateRows(step.invT);
    const r = candRows.length / 2;
    if (r > 0) q.writeBuffer(this.cand.rows, 0, candRows);
    q.writeBuffer(this.act.desc, 0, plan.desc);
    if (plan.tables.length > 0) q.writeBuffer(this.tables, 0, Uint32Array.from(plan.tables));
    if (opsAll.length > 0) q.writeBuffer(this.ops, 0, Uint32Array.from(opsAll));
    const opCounts: number[] = [];
    q.writeBuffer(this.commitPreU, 0, new Uint32Array([0, pre.length / OP_WORDS, 0, 0]));
    let start = pre.length / OP_WORDS;
    for (let l = 0; l < L; l++) {
      const count = plan.ops[l].length / OP_WORDS;
      q.writeBuffer(this.commitU[l], 0, new Uint32Array([start, count, 0, 0]));
      opCounts.push(count);
      start += count;
    }
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    const go = (d: Dispatch) => {
      const [x, y] = d.size(n, m);
      if (x === 0 || y === 0) return;
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.group);
      pass.dispatchWorkgroups(x, y);
    };
    if (pre.length > 0) for (const d of this.preCommit) go({ ...d, size: () => [Math.ceil(((pre.length / OP_WORDS) * D) / 64), 1] });
    for (const d of this.embedDispatches) go(d);
    this.layerDispatches.forEach((ld, l) => {
      for (const d of ld.before) go(d);
      if (opCounts[l] > 0) for (const d of ld.commit) go({ ...d, size: () => [Math.ceil((opCounts[l] * D) / 64), 1] });
      for (const d of ld.after) go(d);
    });
    if (m > 0) for (const d of this.headDispatches) go(d);
    if (r > 0 && this.candidateDispatch) go({ ...this.candidateDispatch, size: () => [r, 1] });
    pass.end();
    const C = this.numCandidates;
    const back: ReadbackPlan = {
      dmsFloats: withDms ? L * n * K : 0,
      idWords: step.greedy.some((g) => g) ? m : 0,
      candRows: r,
      logitRows: step.wanted.flatMap((_, j) => (step.greedy[j] || step.invT[j] !== null ? [] : [j])),
    };
    const a = this.act;
    recordReadback(enc, { dms: a.dms, ids: a.ids, cand: this.cand.out, logits: a.logits }, this.readback, back, V, C);
    const t0 = performance.now();
    q.submit([enc.finish()]);
    const bytes = readbackBytes(back, V, C);
    const ids = new Int32Array(m).fill(-1);
    if (bytes === 0) {
      await q.onSubmittedWorkDone();
      return { logits: new Float32Array(0), ids, candidates: step.invT.map(() => null), dms: null, waitMs: performance.now() - t0, readbackBytes: 0 };
    }
    const { raw, waitMs } = await mapRead(this.readback, bytes, t0);
    const got = new Uint32Array(raw, back.dmsFloats * 4, back.idWords);
    for (let j = 0; j < back.idWords; j++) if (step.greedy[j]) ids[j] = got[j];
    const candidates = decodeCandidates(raw, back.dmsFloats + back.idWords, step.invT, C, V, candidateSumRelErr(V));
    const data = new Float32Array(raw);
    return {
      logits: data.slice(back.dmsFloats + back.idWords + r * candidateWords(C)),
      ids,
      candidates,
      dms: back.dmsFloats > 0 ? data.subarray(0, back.dmsFloats) : null,
      waitMs,
      readbackBytes: bytes,
    };
  }

  /** The last step's logits of wanted rows `rows` (ascending), read again (rows whose candidates did not decide). */
  readLogits(rows: number[]): Promise<{ logits: Float32Array; waitMs: number }> {
    return readLogitRows(this.ctx, this.act.logits, this.readback, rows, this.cfg.vocabSize);
  }

  /** Frees every buffer of the program (the weights belong to their own holder). */
  dispose(): void {
    for (const b of this.owned.splice(0)) this.ctx.destroyBuffer(b);
  }

  private buffer(bytes: number, usage: number = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC): GPUBuffer {
    const b = this.ctx.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
    this.owned.push(b);
    return b;
  }

  /** Grows a per-step list buffer to hold `floats` 4-byte words (doubling), marking the bind groups stale. */
  private ensure(which: 'tables' | 'ops' | 'tmp', floats: number): void {
    const cur = this[which];
    if (floats * 4 <= cur.size) return;
    this.owned.splice(this.owned.indexOf(cur), 1);
    this.ctx.destroyBuffer(cur);
    this[which] = this.buffer(Math.max(floats * 4, 2 * cur.size));
    this.stale = true;
  }

  /** Grows the page-table buffer to `words` u32, keeping its contents (doubling), marking the bind groups stale. */
  private growPageTables(words: number): void {
    const cur = this.pageTables;
    if (words * 4 <= cur.size) return;
    const next = this.buffer(Math.max(words * 4, 2 * cur.size));
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(cur, 0, next, 0, cur.size);
    this.device.queue.submit([enc.finish()]);
    this.owned.splice(this.owned.indexOf(cur), 1);
    this.ctx.destroyBuffer(cur);
    this.pageTables = next;
    this.stale = true;
  }

  private pipeline(key: string, code: () => string): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module: this.device.createShaderModule({ code: code() }), entryPoint: 'main' } });
      this.pipelines.set(key, p);
    }
    return p;
  }

  private uniform(words: ArrayLike<number>, floats: Set<number> = new Set()): GPUBuffer {
    const data = new ArrayBuffer(Math.max(16, Math.ceil((words.length * 4) / 16) * 16));
    const u = new Uint32Array(data);
    const fl = new Float32Array(data);
    for (let i = 0; i < words.length; i++) {
      if (floats.has(i)) fl[i] = words[i];
      else u[i] = words[i];
    }
    const b = this.buffer(data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.device.queue.writeBuffer(b, 0, data);
    return b;
  }

  private group(p: GPUComputePipeline, buffers: Record<number, GPUBuffer>): GPUBindGroup {
    return this.device.createBindGroup({
      layout: p.getBindGroupLayout(0),
      entries: Object.entries(buffers).map(([binding, buffer]) => ({ binding: Number(binding), resource: { buffer } })),
    });
  }

  /** matmul dispatches of a[rows, kin] @ w (each column block) into out (ldo columns), optionally accumulating. */
  private matmul(a: GPUBuffer, w: DeviceMatrix, bias: GPUBuffer | null, out: GPUBuffer, ldo: number, accumulate: boolean, rowsFromM: boolean): Dispatch[] {
    const p = this.pipeline(`matmul-${this.weights.f16}`, () => matmulWgsl(this.weights.f16));
    return w.parts.map((part) => {
      const u = this.uniform([rowsFromM ? 1 : 0, w.kin, part.cols, ldo, part.col0, accumulate ? 1 : 0, bias ? 1 : 0, w.kin]);
      const group = this.group(p, { 0: a, 1: part.buffer, 2: bias ?? this.dummy, 3: out, 4: u, 5: this.act.stepU });
      return { pipeline: p, group, size: (n, m) => [Math.ceil(part.cols / 16), Math.ceil((rowsFromM ? m : n) / 16)] };
    });
  }

  private rmsnorm(src: GPUBuffer, dst: GPUBuffer, map: boolean): Dispatch {
    const p = this.pipeline('rmsnorm', () => RMSNORM_WGSL);
    const u = this.uniform([this.cfg.hiddenSize, this.cfg.rmsNormEps, map ? 1 : 0, map ? 1 : 0], new Set([1]));
    const group = this.group(p, { 0: src, 1: dst, 2: map ? this.act.wanted : this.dummy, 3: u });
    return { pipeline: p, group, size: (n, m) => [map ? m : n, 1] };
  }

  /** (Re)creates every bind group: at start and whenever a per-step list buffer grew. */
  private build(): void {
    // Uniforms of an earlier build stay owned (freed at dispose): rebuilds are rare (a list buffer doubled).
    const cfg = this.cfg;
    const { numHeads: H, numKvHeads: K, headDim: D, hiddenSize: d, intermediateSize: I, vocabSize: V } = cfg;
    const a = this.act;
    const f16 = this.weights.f16;
    const emb = this.pipeline(`embed-${f16}`, () => embedWgsl(f16));
    // One dispatch per row block of the table: each writes the rows whose token it holds.
    this.embedDispatches = this.weights.embed.map((part) => ({
      pipeline: emb,
      group: this.group(emb, { 0: part.buffer, 1: a.tokens, 2: a.x, 3: this.uniform([d, part.row0, part.rows]), 4: a.stepU }),
      size: (n) => [Math.ceil((n * d) / 64), 1],
    }));
    const post = this.pipeline('qkv-post', () => qkvPostWgsl(cfg));
    const attn = this.pipeline('attention', () => attentionWgsl(cfg, this.pool.pageSize, this.layout));
    const gather = this.pipeline('commit-gather', () => commitWgsl(cfg, 'gather', this.layout));
    const scatter = this.pipeline('commit-scatter', () => commitWgsl(cfg, 'scatter', this.layout));
    const pools = poolEntries(this.kpool, this.vpool);
    const swiglu = this.pipeline('swiglu', () => SWIGLU_WGSL);
    const width = this.weights.layers[0].qkvd.out;
    this.layerDispatches = this.weights.layers.map((w, l) => {
      const dms = cfg.dms;
      const postU = this.uniform([l, cfg.rmsNormEps, dms?.scale ?? 0, dms?.offset ?? 0], new Set([1, 2, 3]));
      const attnU = this.uniform([l, 1 / Math.sqrt(D)], new Set([1]));
      const before: Dispatch[] = [
        this.rmsnorm(a.x, a.h, false),
        ...this.matmul(a.h, w.qkvd, w.qkvBias, a.y, width, false, false),
        {
          pipeline: post,
          group: this.group(post, { 0: a.y, 1: w.norms ?? this.dummy, 2: a.rope, 3: a.q, 4: a.ks, 5: a.vs, 6: a.dms, 7: postU, 8: a.stepU }),
          size: (n) => [Math.ceil((n * (H + 2 * K)) / 64), 1],
        },
        {
          pipeline: attn,
          group: this.group(attn, {
            0: a.q,
            ...pools,
            3: a.ks,
            4: a.vs,
            5: a.desc,
            6: this.tables,
            7: a.attn,
            8: attnU,
            9: a.stepU,
            10: a.dms,
            11: this.pageTables,
          }),
          size: (n) => [n * K, 1],
        },
      ];
      const commit: [Dispatch, Dispatch] = [
        {
          pipeline: gather,
          group: this.group(gather, { ...pools, 2: this.tmp, 3: this.ops, 4: a.ks, 5: a.vs, 6: this.commitU[l] }),
          size: () => [0, 0],
        },
        {
          pipeline: scatter,
          group: this.group(scatter, { ...pools, 2: this.tmp, 3: this.ops, 6: this.commitU[l], 7: a.dms }),
          size: () => [0, 0],
        },
      ];
      const after: Dispatch[] = [
        ...this.matmul(a.attn, w.o, w.oBias, a.x, d, true, false),
        this.rmsnorm(a.x, a.h, false),
        ...this.matmul(a.h, w.gateUp, null, a.gu, 2 * I, false, false),
        {
          pipeline: swiglu,
          group: this.group(swiglu, { 0: a.gu, 1: a.act, 2: this.uniform([I]), 3: a.stepU }),
          size: (n) => [Math.ceil((n * I) / 64), 1],
        },
        ...this.matmul(a.act, w.down, null, a.x, d, true, false),
      ];
      return { before, commit, after };
    });
    this.preCommit = [
      {
        pipeline: gather,
        group: this.group(gather, { ...pools, 2: this.tmp, 3: this.ops, 4: a.ks, 5: a.vs, 6: this.commitPreU }),
        size: () => [0, 0],
      },
      {
        pipeline: scatter,
        group: this.group(scatter, { ...pools, 2: this.tmp, 3: this.ops, 6: this.commitPreU, 7: a.dms }),
        size: () => [0, 0],
      },
    ];
    const argmax = this.pipeline('argmax', () => argmaxWgsl(V));
    this.headDispatches = [
      this.rmsnorm(a.x, a.h, true),
      ...this.matmul(a.h, this.weights.lmHead, null, a.logits, V, false, true),
      { pipeline: argmax, group: this.group(argmax, { 0: a.logits, 1: a.ids }), size: (_n, m) => [m, 1] },
    ];
    const C = this.numCandidates;
    if (C < V) {
      const top = this.pipeline(`top-candidates-${C}`, () => topCandidatesWgsl(V, C));
      this.candidateDispatch = { pipeline: top, group: this.group(top, { 0: a.logits, 1: this.cand.rows, 2: this.cand.out }), size: () => [0, 0] };
    }
    this.stale = false;
  }
}
