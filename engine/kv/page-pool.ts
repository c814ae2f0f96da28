// The KV page pool: fixed-size pages (P token slots of one KV head: keys and values, D floats each)
// carved from a memory budget, handed out and taken back by the paged cache; checks its own invariants.

export interface PagePoolOptions {
  /** Token slots per page (P). */
  pageSize: number;
  /** Floats per key (and per value): the head dim D. */
  headDim: number;
  /** Budget in cached tokens (token slots of one KV head; summed over layers and heads). */
  budgetTokens?: number;
  /** Budget in bytes (keys + values, float32); used when budgetTokens is absent. */
  budgetBytes?: number;
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
  private readonly keyChunks: Float32Array[] = [];
  private readonly valueChunks: Float32Array[] = [];
  private readonly freeList: number[] = [];
  private readonly owner: Int32Array; // -1 free, else the owning row id
  private numCreated = 0; // pages whose memory exists (created lazily, chunk by chunk)

  constructor(opts: PagePoolOptions) {
    if (!(opts.pageSize >= 1 && Number.isInteger(opts.pageSize))) throw new Error(`page pool: pageSize must be a positive integer`);
    this.pageSize = opts.pageSize;
    this.headDim = opts.headDim;
    this.bytesPerToken = 2 * opts.headDim * 4;
    this.pageFloats = opts.pageSize * opts.headDim;
    const tokens = opts.budgetTokens ?? (opts.budgetBytes !== undefined ? Math.floor(opts.budgetBytes / this.bytesPerToken) : undefined);
    if (tokens === undefined || !(tokens >= opts.pageSize)) throw new Error(`page pool: the budget must hold at least one page (${opts.pageSize} tokens), got ${tokens}`);
    this.numPages = Math.floor(tokens / opts.pageSize);
    this.owner = new Int32Array(this.numPages).fill(-1);
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
      const chunk = page / PAGES_PER_CHUNK | 0;
      if (chunk >= this.keyChunks.length) {
        const pages = Math.min(PAGES_PER_CHUNK, this.numPages - chunk * PAGES_PER_CHUNK);
        this.keyChunks.push(new Float32Array(pages * this.pageFloats));
        this.valueChunks.push(new Float32Array(pages * this.pageFloats));
      }
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

  /** Key storage of a page: the array and the float offset of its slot 0 (slot s at offset + s*D). */
  keys(page: number): { data: Float32Array; offset: number } {
    return { data: this.keyChunks[page / PAGES_PER_CHUNK | 0], offset: (page % PAGES_PER_CHUNK) * this.pageFloats };
  }

  /** Value storage of a page, laid out like keys(). */
  values(page: number): { data: Float32Array; offset: number } {
    return { data: this.valueChunks[page / PAGES_PER_CHUNK | 0], offset: (page % PAGES_PER_CHUNK) * this.pageFloats };
  }

  /** Raw chunk arrays and offset for the hot loops (avoids allocating {data, offset} objects). */
  keyChunk(page: number): Float32Array { return this.keyChunks[page / PAGES_PER_CHUNK | 0]; }
  valueChunk(page: number): Float32Array { return this.valueChunks[page / PAGES_PER_CHUNK | 0]; }
  pageOffset(page: number): number { return (page % PAGES_PER_CHUNK) * this.pageFloats; }

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
    if (used + this.freeList.length !== this.numCreated) throw new Error(`page pool: used ${used} + free ${this.freeList.length} != created ${this.numCreated}`);
    if (this.numUsed + this.numFree !== this.numPages) throw new Error('page pool: used + free != total');
  }
}
