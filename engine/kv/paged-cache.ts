// The paged KV cache: one row per (sequence, layer, KV head), each a dense list of slots with its own
// page table and length; append, overwrite and remove slots, fork a sequence into threads, free it.
import type { PagePool } from './page-pool.js';

/**
 * Where the K/V data of the slots lives. The rows keep the metadata (page tables, lengths, positions);
 * the store moves the data: the pool's WebAssembly memory on wasm, or a recorder of device writes on webgpu.
 */
export interface SlotStore {
  /** Writes a token's key and value (D floats at k[kOff..] and v[vOff..]) into a slot of the row. */
  write(row: CacheRow, slot: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number): void;
  /** Copies slot `from` of the row into slot `to`. */
  copySlot(row: CacheRow, from: number, to: number): void;
  /** Copies a whole page's keys and values into another page (fork). */
  copyPage(from: number, to: number): void;
  /** The row's page table changed from index `from` on (a device copy of the tables syncs from there). */
  pagesChanged?(row: CacheRow, from: number): void;
}

/** The wasm store: pages in the pool's WebAssembly memory, written in place. */
export class PoolSlotStore implements SlotStore {
  constructor(readonly pool: PagePool) {}

  write(row: CacheRow, slot: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number): void {
    const pool = this.pool;
    const D = pool.headDim;
    const page = row.pages[(slot / pool.pageSize) | 0];
    const at = (slot % pool.pageSize) * D;
    pool.heap.set(k.subarray(kOff, kOff + D), pool.keyOffset(page) + at);
    pool.heap.set(v.subarray(vOff, vOff + D), pool.valueOffset(page) + at);
  }

  copySlot(row: CacheRow, from: number, to: number): void {
    const pool = this.pool;
    const D = pool.headDim;
    const P = pool.pageSize;
    const pf = row.pages[(from / P) | 0];
    const pt = row.pages[(to / P) | 0];
    pool.heap.copyWithin(pool.keyOffset(pt) + (to % P) * D, pool.keyOffset(pf) + (from % P) * D, pool.keyOffset(pf) + (from % P) * D + D);
    pool.heap.copyWithin(pool.valueOffset(pt) + (to % P) * D, pool.valueOffset(pf) + (from % P) * D, pool.valueOffset(pf) + (from % P) * D + D);
  }

  copyPage(from: number, to: number): void {
    const pool = this.pool;
    const heap = pool.heap;
    heap.copyWithin(pool.keyOffset(to), pool.keyOffset(from), pool.keyOffset(from) + pool.pageFloats);
    heap.copyWithin(pool.valueOffset(to), pool.valueOffset(from), pool.valueOffset(from) + pool.pageFloats);
  }
}

/** One (sequence, layer, KV head) row: slot s lives in page pages[s / P] at index s % P. */
export class CacheRow {
  /** Page ids in slot order. */
  readonly pages: number[] = [];
  /** Slots in use (0..length-1 are dense). */
  length = 0;
  /** Token position held by each slot. */
  positions = new Int32Array(16);
  /** Byte addresses in the pool's memory of each page's keys and values (page tables for the SIMD kernels). */
  keyAddrs = new Int32Array(4);
  valueAddrs = new Int32Array(4);
  /** Per-page element-wise key min then max (2*D floats per page), kept when the cache tracks bounds (Quest). */
  keyBounds: Float32Array | null = null;
  /** State owned by the eviction policy (ring buffer, scores...). */
  policyState: unknown = null;

  constructor(
    readonly cache: PagedCache,
    readonly id: number,
  ) {
    if (cache.trackKeyBounds) this.keyBounds = new Float32Array(0);
  }

  /** Whether appending one token needs a fresh page. */
  get needsPage(): boolean {
    return this.length === this.pages.length * this.cache.pool.pageSize;
  }

  /** Appends a token's key/value (D floats each, at the given offsets); returns its slot. */
  append(k: Float32Array, kOff: number, v: Float32Array, vOff: number, position: number): number {
    const pool = this.cache.pool;
    if (this.needsPage) {
      this.pushPage(pool.allocate(this.id));
      if (this.keyBounds) this.growBounds();
    }
    const slot = this.length++;
    if (slot >= this.positions.length) {
      const next = new Int32Array(this.positions.length * 2);
      next.set(this.positions);
      this.positions = next;
    }
    this.write(slot, k, kOff, v, vOff, position);
    return slot;
  }

  /** Replaces the token in a slot (DMS slot reuse); the length is unchanged. */
  overwrite(slot: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number, position: number): void {
    if (slot < 0 || slot >= this.length) throw new Error(`cache row ${this.id}: overwrite of slot ${slot} outside length ${this.length}`);
    this.write(slot, k, kOff, v, vOff, position);
  }

  /**
   * Drops a slot by moving the last slot into it; frees the tail page when it empties.
   * Returns the old index of the moved slot (length-1 before the call) so policies can mirror the move.
   */
  remove(slot: number): number {
    if (slot < 0 || slot >= this.length) throw new Error(`cache row ${this.id}: remove of slot ${slot} outside length ${this.length}`);
    const last = this.length - 1;
    if (slot !== last) this.copySlot(last, slot);
    this.length = last;
    const P = this.cache.pool.pageSize;
    if (this.pages.length > Math.ceil(this.length / P)) {
      this.cache.pool.free(this.pages.pop()!);
      this.cache.store.pagesChanged?.(this, this.pages.length);
    }
    return last;
  }

  /** Releases every page. */
  clear(): void {
    for (const p of this.pages) this.cache.pool.free(p);
    this.pages.length = 0;
    this.length = 0;
    this.cache.store.pagesChanged?.(this, 0);
    if (this.keyBounds) this.keyBounds = new Float32Array(0);
  }

  /** Appends a page to the page table and records its addresses (the SIMD kernels' page tables, wasm only). */
  private pushPage(page: number): void {
    const pool = this.cache.pool;
    const i = this.pages.length;
    this.cache.store.pagesChanged?.(this, i);
    if (!pool.hostStorage) {
      this.pages.push(page);
      return;
    }
    if (i >= this.keyAddrs.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.keyAddrs = grow(this.keyAddrs);
      this.valueAddrs = grow(this.valueAddrs);
    }
    this.keyAddrs[i] = 4 * pool.keyOffset(page);
    this.valueAddrs[i] = 4 * pool.valueOffset(page);
    this.pages.push(page);
  }

  private write(slot: number, k: Float32Array, kOff: number, v: Float32Array, vOff: number, position: number): void {
    this.cache.store.write(this, slot, k, kOff, v, vOff);
    this.positions[slot] = position;
    // Bounds only widen (an overwrite or removal leaves them conservative, never wrong for Quest's upper bound).
    if (this.keyBounds) this.widenBounds(slot, k, kOff);
  }

  private copySlot(from: number, to: number): void {
    this.cache.store.copySlot(this, from, to);
    this.positions[to] = this.positions[from];
    if (this.keyBounds) {
      // Quest tracks bounds on the host (wasm only): widen the target page by the moved key itself.
      const pool = this.cache.pool;
      this.widenBounds(to, pool.heap, pool.keyOffset(this.pages[(to / pool.pageSize) | 0]) + (to % pool.pageSize) * pool.headDim);
    }
  }

  /** Widens the bounds of the page holding `slot` by the key at k[kOff..]. */
  private widenBounds(slot: number, k: Float32Array, kOff: number): void {
    const pool = this.cache.pool;
    const D = pool.headDim;
    const bounds = this.keyBounds!;
    const b = ((slot / pool.pageSize) | 0) * 2 * D;
    for (let d = 0; d < D; d++) {
      const x = k[kOff + d];
      if (x < bounds[b + d]) bounds[b + d] = x;
      if (x > bounds[b + D + d]) bounds[b + D + d] = x;
    }
  }

  private growBounds(): void {
    const D = this.cache.pool.headDim;
    const next = new Float32Array(this.pages.length * 2 * D);
    next.set(this.keyBounds!);
    const b = (this.pages.length - 1) * 2 * D;
    next.fill(Infinity, b, b + D);
    next.fill(-Infinity, b + D, b + 2 * D);
    this.keyBounds = next;
  }

  /** Copies this row's slots, positions and bounds into an empty row (fork). */
  copyInto(dst: CacheRow): void {
    const pool = this.cache.pool;
    for (const page of this.pages) {
      const np = pool.allocate(dst.id); // may grow the memory: the store reads pool.heap only after
      this.cache.store.copyPage(page, np);
      dst.pushPage(np);
    }
    dst.length = this.length;
    dst.positions = this.positions.slice();
    if (this.keyBounds) dst.keyBounds = this.keyBounds.slice();
  }
}

export interface CacheShape {
  numLayers: number;
  numKvHeads: number;
}

/** All rows of all live sequences over one page pool. */
export class PagedCache {
  private readonly seqs = new Map<number, CacheRow[]>();
  private nextSeq = 0;
  private nextRow = 0;

  /** Where the slots' K/V data lives (default: the pool's WebAssembly memory). */
  readonly store: SlotStore;

  constructor(
    readonly pool: PagePool,
    readonly shape: CacheShape,
    readonly trackKeyBounds = false,
    store?: SlotStore,
  ) {
    this.store = store ?? new PoolSlotStore(pool);
  }

  /** Rows per sequence: layers x KV heads. */
  get rowsPerSequence(): number {
    return this.shape.numLayers * this.shape.numKvHeads;
  }

  /** Creates a sequence with empty rows; returns its id. */
  addSequence(): number {
    const id = this.nextSeq++;
    this.seqs.set(
      id,
      Array.from({ length: this.rowsPerSequence }, () => new CacheRow(this, this.nextRow++)),
    );
    return id;
  }

  /** The row of (sequence, layer, KV head). */
  row(seq: number, layer: number, head: number): CacheRow {
    return this.rows(seq)[layer * this.shape.numKvHeads + head];
  }

  /** All rows of a sequence, layer-major. */
  rows(seq: number): CacheRow[] {
    const rows = this.seqs.get(seq);
    if (!rows) throw new Error(`paged cache: unknown sequence ${seq}`);
    return rows;
  }

  has(seq: number): boolean {
    return this.seqs.has(seq);
  }

  /** Pages a sequence needs at most for one more token (every row that would append onto a full page). */
  pagesForNextToken(seq: number): number {
    let n = 0;
    for (const r of this.rows(seq)) if (r.needsPage) n++;
    return n;
  }

  /** Pages a sequence needs at most to take n more tokens (every row appending). */
  pagesNeeded(seq: number, n: number): number {
    const P = this.pool.pageSize;
    let pages = 0;
    for (const r of this.rows(seq)) pages += Math.max(0, Math.ceil((r.length + n) / P) - r.pages.length);
    return pages;
  }

  /** Pages a sequence holds. */
  pagesHeld(seq: number): number {
    let n = 0;
    for (const r of this.rows(seq)) n += r.pages.length;
    return n;
  }

  /** Cached token slots of a sequence (all layers and heads). */
  tokensHeld(seq: number): number {
    let n = 0;
    for (const r of this.rows(seq)) n += r.length;
    return n;
  }

  /** A new sequence holding a copy of `seq`'s cache; cloneState copies each row's policy state. */
  fork(seq: number, cloneState: (s: unknown) => unknown): number {
    const src = this.rows(seq);
    const id = this.addSequence();
    this.rows(id).forEach((dst, i) => {
      src[i].copyInto(dst);
      dst.policyState = cloneState(src[i].policyState);
    });
    return id;
  }

  /** Frees a sequence and returns its pages to the pool. */
  freeSequence(seq: number): void {
    for (const r of this.rows(seq)) r.clear();
    this.seqs.delete(seq);
  }

  /** Pool invariants plus: every row page is owned by that row exactly once, and used pages match the rows. */
  checkIntegrity(): void {
    this.pool.checkIntegrity();
    const seen = new Set<number>();
    let pages = 0;
    const P = this.pool.pageSize;
    for (const rows of this.seqs.values()) {
      for (const r of rows) {
        if (r.pages.length !== Math.ceil(r.length / P)) throw new Error(`paged cache: row ${r.id} holds ${r.pages.length} pages for ${r.length} slots`);
        for (const p of r.pages) {
          if (seen.has(p)) throw new Error(`paged cache: page ${p} owned twice`);
          if (this.pool.ownerOf(p) !== r.id) throw new Error(`paged cache: page ${p} in row ${r.id} is owned by ${this.pool.ownerOf(p)}`);
          seen.add(p);
          pages++;
        }
      }
    }
    if (pages !== this.pool.numUsed) throw new Error(`paged cache: rows hold ${pages} pages but the pool has ${this.pool.numUsed} in use`);
  }
}
