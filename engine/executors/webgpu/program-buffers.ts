// The device buffers of one webgpu program and their owner: the K/V page pools, the activations sized
// for `cap` step tokens, the per-step lists that grow, the readback and the uniforms; dispose() frees them all.
import type { ModelConfig } from '../../model/config.js';
import type { GpuContext } from './gpu-context.js';
import { OP_WORDS } from './step-plan.js';
import { DESC_WORDS } from './wgsl-attention.js';
import { OTHER_STORAGE_BUFFERS, type PoolLayout, poolLayout } from './wgsl-pool.js';
import { candidateWords } from './wgsl-top-candidates.js';

/** What the buffers are sized for. */
export interface BufferShape {
  /** Pages of the KV pool and tokens per page (P). */
  numPages: number;
  pageSize: number;
  /** Most tokens of one device step. */
  cap: number;
  /** u32 of one row's page-table region (StepPlan.regionWords). */
  regionWords: number;
  /** Columns of the fused q|k|v|dms projection. */
  qkvWidth: number;
  /** C: candidates per top-k / top-p row. */
  numCandidates: number;
  /** Most bytes of one K or V pool buffer (the adapter's limits apply too). */
  maxPoolBufferBytes: number;
}

/** Every activation of up to `cap` step tokens (n <= cap tokens, m <= cap wanted rows), each from f(floats). */
function activations(cfg: ModelConfig, cap: number, qkvWidth: number, f: (floats: number) => GPUBuffer, uniform: () => GPUBuffer) {
  const { numLayers: L, numHeads: H, numKvHeads: K, headDim: D, hiddenSize: d, intermediateSize: I, vocabSize: V } = cfg;
  return {
    x: f(cap * d), // [n, d] the residual stream
    h: f(cap * Math.max(d, I)), // [n, d] normed input of the next matmul (the head's: [m, d])
    y: f(cap * qkvWidth), // [n, (H+2K)*D (+K)] q|k|v|dms
    q: f(cap * H * D), // [n, H, D]
    ks: f(cap * K * D), // [n, K, D] this step's staged K
    vs: f(cap * K * D), // [n, K, D] this step's staged V
    attn: f(cap * H * D), // [n, H, D]
    gu: f(cap * 2 * I), // [n, 2I] gate|up
    act: f(cap * I), // [n, I]
    dms: f(L * cap * K), // [L, n, K] DMS logits
    logits: f(cap * V), // [m, V]
    ids: f(cap), // [m] argmax
    stepU: uniform(), // [n, m, 0, 0]
    tokens: f(cap), // [n]
    rope: f(2 * cap * D), // cos [n, rot] then sin [n, rot]
    wanted: f(cap), // [m] item of each wanted row
    desc: f(L * cap * K * DESC_WORDS), // [L, n, K, DESC_WORDS] attention descriptors
  };
}

export type Activations = ReturnType<typeof activations>;

/**
 * The per-step lists that grow (doubling) when a step needs more: page tables + descriptor lists, commit
 * ops, the commit's temporary K/V, and every row's page table (one region of StepPlan.regionWords u32 per row).
 */
export type ListName = 'tables' | 'ops' | 'tmp' | 'pageTables';

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
const UNIFORM = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;

export class ProgramBuffers {
  private readonly owned: GPUBuffer[] = [];
  readonly layout: PoolLayout;
  /** The K and V page pools, each split into layout.numBuffers buffers by page-id range. */
  readonly kpool: GPUBuffer[];
  readonly vpool: GPUBuffer[];
  readonly act: Activations;
  /** The top-candidates pass: its row list [r, 2] and output [r, 2C + 2]. */
  readonly cand: { rows: GPUBuffer; out: GPUBuffer };
  /** The per-step lists; pageTables is patched per step, the others rewritten. */
  private readonly growable: Record<ListName, GPUBuffer>;
  /** [DMS logits | ids | candidates | logits], mapped after each step. */
  readonly readback: GPUBuffer;
  /** Per layer: the commit's op range [start, count]; commitPreU: the fork page copies' range. */
  readonly commitU: GPUBuffer[];
  readonly commitPreU: GPUBuffer;
  /** Bound where a kernel's optional input is absent. */
  readonly dummy: GPUBuffer;

  constructor(
    private readonly ctx: GpuContext,
    cfg: ModelConfig,
    s: BufferShape,
  ) {
    const { numLayers: L, numKvHeads: K, headDim: D, vocabSize: V } = cfg;
    const { numPages, pageSize, cap } = s;
    const lim = ctx.limits;
    const maxBinding = lim.maxStorageBufferBindingSize;
    const perBuffer = Math.min(maxBinding, lim.maxBufferSize, s.maxPoolBufferBytes);
    this.layout = poolLayout(numPages, pageSize, D, perBuffer);
    const storage = OTHER_STORAGE_BUFFERS + 2 * this.layout.numBuffers;
    if (storage > lim.maxStorageBuffersPerShaderStage) {
      const poolBytes = numPages * pageSize * D * 4;
      throw new Error(
        `webgpu: the KV budget (${numPages} pages of ${pageSize} tokens, ${poolBytes} bytes per K and V) needs ${this.layout.numBuffers} buffers each of at most ${perBuffer} bytes (maxStorageBufferBindingSize ${maxBinding}, maxBufferSize ${lim.maxBufferSize}), so the attention kernel would bind ${storage} storage buffers; the adapter's maxStorageBuffersPerShaderStage is ${lim.maxStorageBuffersPerShaderStage}: lower kvBudgetTokens`,
      );
    }
    const mRows = Math.max(1, Math.min(cap, Math.floor(maxBinding / (V * 4))));
    if (mRows < cap) throw new Error(`webgpu: logits of ${cap} rows x ${V} exceed maxStorageBufferBindingSize; lower maxStepTokens`);
    const f = (floats: number) => this.buffer(floats * 4);
    const slotsIn = (b: number) => Math.min(this.layout.slotsPerBuffer, numPages * pageSize - b * this.layout.slotsPerBuffer);
    this.kpool = Array.from({ length: this.layout.numBuffers }, (_, b) => f(slotsIn(b) * D));
    this.vpool = Array.from({ length: this.layout.numBuffers }, (_, b) => f(slotsIn(b) * D));
    this.act = activations(cfg, cap, s.qkvWidth, f, () => this.buffer(16, UNIFORM));
    this.cand = { rows: f(2 * cap), out: f(cap * candidateWords(s.numCandidates)) };
    this.growable = { tables: f(1024), pageTables: f(64 * s.regionWords), ops: f(OP_WORDS * 256), tmp: f(2 * 256 * D) };
    const readbackWords = L * cap * K + cap + cap * candidateWords(s.numCandidates) + cap * V;
    this.readback = this.buffer(readbackWords * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.commitU = Array.from({ length: L }, () => this.buffer(16, UNIFORM));
    this.commitPreU = this.buffer(16, UNIFORM);
    this.dummy = f(4);
  }

  /** The per-step lists as they are now (fit() may replace them: bind groups naming them go stale). */
  get lists(): Readonly<Record<ListName, GPUBuffer>> {
    return this.growable;
  }

  /** Grows the per-step lists to hold one step's words; true when any buffer was replaced. */
  fit(words: Record<ListName, number>): boolean {
    const grew = [this.ensure('tables', words.tables), this.ensure('ops', words.ops), this.ensure('tmp', words.tmp), this.growPageTables(words.pageTables)];
    return grew.some((g) => g);
  }

  /** A uniform buffer holding `words` (u32, or f32 at the indices in `floats`), owned until dispose. */
  uniform(words: ArrayLike<number>, floats: Set<number> = new Set()): GPUBuffer {
    const data = new ArrayBuffer(Math.max(16, Math.ceil((words.length * 4) / 16) * 16));
    const u = new Uint32Array(data);
    const fl = new Float32Array(data);
    for (let i = 0; i < words.length; i++) {
      if (floats.has(i)) fl[i] = words[i];
      else u[i] = words[i];
    }
    const b = this.buffer(data.byteLength, UNIFORM);
    this.ctx.device.queue.writeBuffer(b, 0, data);
    return b;
  }

  /** Frees every buffer (the weights belong to their own holder). */
  dispose(): void {
    for (const b of this.owned.splice(0)) this.ctx.destroyBuffer(b);
  }

  private buffer(bytes: number, usage: number = STORAGE): GPUBuffer {
    const b = this.ctx.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
    this.owned.push(b);
    return b;
  }

  private release(b: GPUBuffer): void {
    this.owned.splice(this.owned.indexOf(b), 1);
    this.ctx.destroyBuffer(b);
  }

  /** Grows a list buffer whose contents each step rewrites to hold `floats` 4-byte words (doubling). */
  private ensure(which: 'tables' | 'ops' | 'tmp', floats: number): boolean {
    const cur = this.growable[which];
    if (floats * 4 <= cur.size) return false;
    this.release(cur);
    this.growable[which] = this.buffer(Math.max(floats * 4, 2 * cur.size));
    return true;
  }

  /** Grows the page-table buffer to `words` u32, keeping its contents (doubling). */
  private growPageTables(words: number): boolean {
    const cur = this.growable.pageTables;
    if (words * 4 <= cur.size) return false;
    const next = this.buffer(Math.max(words * 4, 2 * cur.size));
    const enc = this.ctx.device.createCommandEncoder();
    enc.copyBufferToBuffer(cur, 0, next, 0, cur.size);
    this.ctx.device.queue.submit([enc.finish()]);
    this.release(cur);
    this.growable.pageTables = next;
    return true;
  }
}
