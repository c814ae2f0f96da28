// The KV page pool: fixed-size pages (P token slots of one KV head: keys and values, D floats each)
// carved from a memory budget, handed out and taken back by the paged cache; checks its own invariants.
// Storage is one WebAssembly.Memory (grown chunk by chunk) so the SIMD attention kernels read it in place.
import { type SimdKernels, simdKernels } from './wasm-simd.js';

export interface PagePoolOptions {
  /** Token slots per page (P). */
  pageSize: number;
  /** Floats per key (and per value): the head dim D. */
  headDim: number;
  /** Budget in cached tokens (token slots of one KV head; summed over layers and heads). */
  budgetTokens?: number;
  /** Budget in bytes (keys + values, float32); used when budgetTokens is absent. */
  budgetBytes?: number;
  /** Use the WASM SIMD attention kernels when the runtime supports them (default true). */
  simd?: boolean;
  /** Keep the pages' K/V in this pool's WebAssembly memory (default true); false: bookkeeping only, the data lives elsewhere (GPU buffers). */
  hostStorage?: boolean;
}

const PAGES_PER_CHUNK = 256;

export class PagePool {
  readonly pageSize: number;
  readonly headDim: number;
  /** Total pages the budget allows. */
  readonly numPages: number;
  /** Bytes one cached token slot takes (key + value, float32). */
  readonly bytesPerToken: number;
  /** Floats per page for keys (and for values): P * D. */
  readonly pageFloats: number;
  /** The memory holding every page (and the attention scratch). */
  readonly memory = new WebAssembly.Memory({ initial: 1 });
  /** Float view of the whole memory; replaced whenever the memory grows (re-read it after allocating). */
  heap = new Float32Array(this.memory.buffer);
  /** Int32 view of the same memory (page tables for the kernels); replaced with heap. */
  heapI32 = new Int32Array(this.memory.buffer);
  private readonly chunkBase: number[] = []; // float offset of each chunk: PAGES_PER_CHUNK key pages, then as many value pages
  private usedFloats = 0; // float offset of the first unclaimed float of the memory
  private scratchOff = 0;
  private scratchSize = 0;
  private readonly kernelsByGroup = new Map<number, SimdKernels | null>();
  private readonly useSimd: boolean;
  private readonly freeList: number[] = [];
  private readonly owner: Int32Array; // -1 free, else the owning row id
  private numCreated = 0; // pages whose memory exists (created lazily, chunk by chunk)
  /** Whether the K/V data lives in `memory` (false: an executor keeps it elsewhere by page id). */
  readonly hostStorage: boolean;

  constructor(opts: PagePoolOptions) {
    if (!(opts.pageSize >= 1 && Number.isInteger(opts.pageSize))) throw new Error(`page pool: pageSize must be a positive integer`);
    this.pageSize = opts.pageSize;
    this.headDim = opts.headDim;
    this.bytesPerToken = 2 * opts.headDim * 4;
    this.pageFloats = opts.pageSize * opts.headDim;
    const tokens = opts.budgetTokens ?? (opts.budgetBytes !== undefined ? Math.floor(opts.budgetBytes / this.bytesPerToken) : undefined);
    if (tokens === undefined || !(tokens >= opts.pageSize))
      throw new Error(`page pool: the budget must hold at least one page (${opts.pageSize} tokens), got ${tokens}`);
    this.numPages = Math.floor(tokens / opts.pageSize);
    this.owner = new Int32Array(this.numPages).fill(-1);
    this.useSimd = opts.simd ?? true;
    this.hostStorage = opts.hostStorage ?? true;
  }

  /** Pages currently handed out. */
  get numUsed(): number {
    return this.numCreated - this.freeList.length;
  }

  /** Pages still available. */
  get numFree(): number {
    return this.numPages - this.numUsed;
  }

  /** Whether n more pages can be allocated now. */
  canAllocate(n: number): boolean {
    return n <= this.numFree;
  }

  /** Hands out one page to `rowId`; throws when the pool is exhausted (callers check canAllocate). */
  allocate(rowId: number): number {
    let page = this.freeList.pop();
    if (page === undefined) {
      if (this.numCreated >= this.numPages) throw new Error(`page pool exhausted (${this.numPages} pages of ${this.pageSize} tokens)`);
      page = this.numCreated++;
      if (this.hostStorage && ((page / PAGES_PER_CHUNK) | 0) >= this.chunkBase.length) this.chunkBase.push(this.claim(2 * PAGES_PER_CHUNK * this.pageFloats));
    }
    this.owner[page] = rowId;
    return page;
  }

  /** Returns a page to the pool. */
  free(page: number): void {
    if (page < 0 || page >= this.numCreated || this.owner[page] === -1) throw new Error(`page pool: double free or bad page ${page}`);
    this.owner[page] = -1;
    this.freeList.push(page);
  }

  /** The owner row of a page (-1 when free). */
  ownerOf(page: number): number {
    return this.owner[page];
  }

  /** Key storage of a page: the heap and the float offset of its slot 0 (slot s at offset + s*D). */
  keys(page: number): { data: Float32Array; offset: number } {
    return { data: this.heap, offset: this.keyOffset(page) };
  }

  /** Value storage of a page, laid out like keys(). */
  values(page: number): { data: Float32Array; offset: number } {
    return { data: this.heap, offset: this.valueOffset(page) };
  }

  /** Float offset in `heap` of a page's first key / value (the hot loops use these). */
  keyOffset(page: number): number {
    return this.chunkBase[(page / PAGES_PER_CHUNK) | 0] + (page % PAGES_PER_CHUNK) * this.pageFloats;
  }

  valueOffset(page: number): number {
    return this.chunkBase[(page / PAGES_PER_CHUNK) | 0] + (PAGES_PER_CHUNK + (page % PAGES_PER_CHUNK)) * this.pageFloats;
  }

  /** A float offset with at least n free floats for kernel operands (valid until the next call). */
  scratch(n: number): number {
    if (n > this.scratchSize) {
      this.scratchSize = Math.max(n, 2 * this.scratchSize, 4096);
      this.scratchOff = this.claim(this.scratchSize);
    }
    return this.scratchOff;
  }

  /** SIMD kernels over this pool's memory for query groups of G (null: use the JS kernels). */
  simd(G: number): SimdKernels | null {
    if (!this.kernelsByGroup.has(G)) this.kernelsByGroup.set(G, this.useSimd ? simdKernels(this.memory, this.headDim, G) : null);
    return this.kernelsByGroup.get(G)!;
  }

  /** Claims n floats (16-byte aligned) at the top of the memory, growing it as needed. */
  private claim(n: number): number {
    const off = Math.ceil(this.usedFloats / 4) * 4;
    const endBytes = (off + n) * 4;
    if (endBytes > this.memory.buffer.byteLength) {
      const more = Math.ceil((endBytes - this.memory.buffer.byteLength) / 65536);
      try {
        this.memory.grow(more);
      } catch {
        throw new Error(`page pool: cannot grow KV memory to ${endBytes} bytes (wasm32 memory is limited to 4 GiB)`);
      }
      this.heap = new Float32Array(this.memory.buffer);
      this.heapI32 = new Int32Array(this.memory.buffer);
    }
    this.usedFloats = off + n;
    return off;
  }

  /** Throws unless free + used = total, the free list has no duplicates and free pages have no owner. */
  checkIntegrity(): void {
    const seen = new Uint8Array(this.numCreated);
    for (const p of this.freeList) {
      if (p < 0 || p >= this.numCreated) throw new Error(`page pool: free list holds bad page ${p}`);
      if (seen[p]) throw new Error(`page pool: page ${p} is free twice`);
      if (this.owner[p] !== -1) throw new Error(`page pool: free page ${p} still has owner ${this.owner[p]}`);
      seen[p] = 1;
    }
    let used = 0;
    for (let p = 0; p < this.numCreated; p++) if (this.owner[p] !== -1) used++;
    if (used + this.freeList.length !== this.numCreated)
      throw new Error(`page pool: used ${used} + free ${this.freeList.length} != created ${this.numCreated}`);
    if (this.numUsed + this.numFree !== this.numPages) throw new Error('page pool: used + free != total');
  }
}
