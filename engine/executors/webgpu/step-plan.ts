// The host half of a webgpu step: a SlotStore that records the policies' slot writes and moves instead of
// moving data, and turns them into what the device needs: per-(layer, token, KV head) attention
// descriptors over the rows' old slots and this step's staged tokens, page-table patches, and commit ops.
import type { CacheRow, SlotStore } from '../../kv/paged-cache.js';
import { DESC_WORDS } from './wgsl-attention.js';

/** u32 per commit op. */
export const OP_WORDS = 5;
/** No slot / no alternative destination. */
export const NONE = 0xffffffff;

/** A slot's content during a step: >= 0 an old slot of the row (as of the step start), < 0 staged entry -1-j. */
type Ident = number;

/** One row's changes within the current step. */
interface RowTrack {
  /** The row's layer; its length at the step start and its device page table (what the device holds: the table at the step start). */
  layer: number;
  oldLen: number;
  table: DeviceTable;
  /** Slots whose content changed this step, and what they hold now. */
  changed: Map<number, Ident>;
  /** In-step decision (dms-w0): the old slot the staged token goes to instead when dms[dmsIndex] > 0. */
  cond: { slot: number; dmsIndex: number } | null;
}

/** A row's page table on the device: a fixed region of the page-table buffer, mirrored on the host. */
interface DeviceTable {
  /** First u32 of the region. */
  offset: number;
  /** What the region holds (pages[0..length)). */
  pages: number[];
}

/** One contiguous write into the device page-table buffer. */
export interface TablePatch {
  offset: number;
  pages: number[];
}

/** Fork page copies waiting for the next step's command stream. */
export interface PageCopy {
  from: number;
  to: number;
}

/**
 * Records, for the current step, what each touched row holds; staged entry j is the K/V of this
 * step's token at staging float offset j (= (item * K + head) * D, the offset the policies pass as kOff).
 */
export class StepPlan implements SlotStore {
  /** Per descriptor: its excluded old slots and its staged entries (item * K + head). */
  tables: number[] = [];
  /** Page-table writes to apply before this step (rows whose table changed since the device last saw it). */
  patches: TablePatch[] = [];
  /** u32 per row region of the device page-table buffer (the most pages a row can hold). */
  readonly regionWords: number;
  /** Regions handed out so far (the buffer must hold this many). */
  numRegions = 0;
  private readonly freeRegions: number[] = [];
  private readonly device = new Map<CacheRow, DeviceTable>();
  /** Rows whose page table changed from an index on since their last sync. */
  private readonly dirty = new Map<CacheRow, number>();
  /** DESC_WORDS u32 per (layer, item, KV head) in that order. */
  desc = new Uint32Array(0);
  /** Commit ops per layer, OP_WORDS each: [dst pool slot, kind (0 pool slot, 1 staged float offset), src, alternative dst slot or NONE, DMS logit index]. */
  ops: number[][] = [];
  readonly pageCopies: PageCopy[] = [];
  private readonly rows = new Map<CacheRow, RowTrack>();
  /** While true, writes and moves are not recorded (the host mirroring what the device already did). */
  silent = false;

  constructor(
    readonly numLayers: number,
    readonly numKvHeads: number,
    readonly pageSize: number,
    readonly headDim: number,
    maxPositions: number,
  ) {
    this.regionWords = Math.ceil((maxPositions + 1) / pageSize) + 1;
  }

  /** Starts a step of n tokens. */
  begin(n: number): void {
    this.tables = [];
    this.patches = [];
    this.desc = new Uint32Array(this.numLayers * n * this.numKvHeads * DESC_WORDS);
    this.ops = Array.from({ length: this.numLayers }, () => []);
    this.rows.clear();
  }

  /** Call before a policy touches the row (of `layer`) this step: snapshots its length, syncs its device page table. */
  touch(row: CacheRow, layer: number): void {
    if (this.rows.has(row)) return;
    let table = this.device.get(row);
    if (!table) {
      const region = this.freeRegions.pop() ?? this.numRegions++;
      table = { offset: region * this.regionWords, pages: [] };
      this.device.set(row, table);
      this.dirty.set(row, 0);
    }
    const from = this.dirty.get(row);
    if (from !== undefined) {
      // Only what changed since the device last saw this row travels (usually nothing, or one new page).
      if (row.pages.length > this.regionWords) throw new Error(`webgpu step plan: row ${row.id} holds more pages than its region (${this.regionWords})`);
      table.pages.length = Math.min(table.pages.length, from);
      const tail = row.pages.slice(from);
      table.pages.push(...tail);
      if (tail.length > 0) this.patches.push({ offset: table.offset + from, pages: tail });
      this.dirty.delete(row);
    }
    this.rows.set(row, { layer, oldLen: row.length, table, changed: new Map(), cond: null });
  }

  pagesChanged(row: CacheRow, from: number): void {
    const d = this.dirty.get(row);
    if (d === undefined || from < d) this.dirty.set(row, from);
  }

  /** Gives back the device region of a row that is being freed. */
  release(row: CacheRow): void {
    this.dirty.delete(row);
    const table = this.device.get(row);
    if (!table) return;
    this.freeRegions.push(table.offset / this.regionWords);
    this.device.delete(row);
  }

  write(row: CacheRow, slot: number, _k: Float32Array, kOff: number): void {
    if (this.silent) return;
    this.track(row).changed.set(slot, -1 - kOff);
  }

  copySlot(row: CacheRow, from: number, to: number): void {
    if (this.silent) return;
    const tr = this.track(row);
    tr.changed.set(to, this.identAt(tr, from));
  }

  copyPage(from: number, to: number): void {
    this.pageCopies.push({ from, to });
  }

  /**
   * After the policy placed item i's token in the row of (layer, head): the descriptor of what the
   * token's queries read, and the count (the row's length now, exactly the slots a wasm read visits).
   */
  describe(row: CacheRow, layer: number, item: number, head: number, n: number, condSlot = -1): number {
    const tr = this.track(row);
    const dmsIndex = (layer * n + item) * this.numKvHeads + head;
    if (condSlot >= 0) tr.cond = { slot: condSlot, dmsIndex };
    const present = new Set<Ident>();
    const staged: number[] = [];
    for (const [slot, id] of tr.changed) {
      if (slot >= row.length) continue;
      present.add(id);
      if (id < 0) staged.push((-1 - id) / this.headDim);
    }
    const excluded: number[] = [];
    for (const slot of tr.changed.keys()) if (slot < tr.oldLen && !present.has(slot)) excluded.push(slot);
    for (let s = row.length; s < tr.oldLen; s++) if (!tr.changed.has(s) && !present.has(s)) excluded.push(s);
    const at = ((layer * n + item) * this.numKvHeads + head) * DESC_WORDS;
    const d = this.desc;
    d[at] = tr.table.offset;
    d[at + 1] = tr.oldLen;
    d[at + 2] = this.tables.length;
    d[at + 3] = excluded.length;
    for (const s of excluded) this.tables.push(s);
    d[at + 4] = this.tables.length;
    d[at + 5] = staged.length;
    for (const j of staged) this.tables.push(j);
    d[at + 6] = condSlot >= 0 ? condSlot : NONE;
    d[at + 7] = dmsIndex;
    const reads = tr.oldLen - excluded.length + staged.length;
    if (reads !== row.length) throw new Error(`webgpu step plan: row ${row.id} reads ${reads} slots but holds ${row.length}`);
    return reads;
  }

  /** After every item of the step: each layer's commit ops (final slot <- its content, where it changed). */
  finishAll(): void {
    const P = this.pageSize;
    // Pool addresses are slot indices (page * P + slot), not float offsets: a pool past 16 GiB of f32 overflows u32 floats.
    const at = (row: CacheRow, slot: number) => row.pages[(slot / P) | 0] * P + (slot % P);
    for (const [row, tr] of this.rows) {
      const ops = this.ops[tr.layer];
      for (const [slot, id] of tr.changed) {
        if (slot >= row.length || id === slot) continue;
        if (id < 0) ops.push(at(row, slot), 1, -1 - id, tr.cond ? at(row, tr.cond.slot) : NONE, tr.cond ? tr.cond.dmsIndex : 0);
        else ops.push(at(row, slot), 0, tr.table.pages[(id / P) | 0] * P + (id % P), NONE, 0);
      }
    }
  }

  private track(row: CacheRow): RowTrack {
    const tr = this.rows.get(row);
    if (!tr) throw new Error(`webgpu step plan: row ${row.id} changed outside a step`);
    return tr;
  }

  private identAt(tr: RowTrack, slot: number): Ident {
    return tr.changed.get(slot) ?? slot;
  }
}
