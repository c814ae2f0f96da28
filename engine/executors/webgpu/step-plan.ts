// The host half of a webgpu step: a SlotStore that records the policies' slot writes and moves instead of
// moving data, and turns them into what the device needs: per-(layer, token, KV head) attention
// descriptors over the rows' old slots and this step's staged tokens, page tables, and commit ops.
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
  /** The row's layer; its length and page-table offset (in the tables list) at the step start. */
  layer: number;
  oldLen: number;
  tableOff: number;
  /** Slots whose content changed this step, and what they hold now. */
  changed: Map<number, Ident>;
  /** In-step decision (dms-w0): the old slot the staged token goes to instead when dms[dmsIndex] > 0. */
  cond: { slot: number; dmsIndex: number } | null;
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
  /** Page ids of each touched row's old pages, then per descriptor its excluded old slots and its staged entries (item * K + head). */
  tables: number[] = [];
  /** DESC_WORDS u32 per (layer, item, KV head) in that order. */
  desc = new Uint32Array(0);
  /** Commit ops per layer, OP_WORDS each: [dst, kind (0 pool, 1 staged), src, alternative dst or NONE, DMS logit index]. */
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
  ) {}

  /** Starts a step of n tokens. */
  begin(n: number): void {
    this.tables = [];
    this.desc = new Uint32Array(this.numLayers * n * this.numKvHeads * DESC_WORDS);
    this.ops = Array.from({ length: this.numLayers }, () => []);
    this.rows.clear();
  }

  /** Call before a policy touches the row (of `layer`) this step: snapshots its length and page table. */
  touch(row: CacheRow, layer: number): void {
    if (this.rows.has(row)) return;
    const tableOff = this.tables.length;
    for (let p = 0; p < row.pages.length; p++) this.tables.push(row.pages[p]);
    this.rows.set(row, { layer, oldLen: row.length, tableOff, changed: new Map(), cond: null });
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
    d[at] = tr.tableOff;
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
    const D = this.headDim;
    const at = (row: CacheRow, slot: number) => (row.pages[(slot / P) | 0] * P + (slot % P)) * D;
    for (const [row, tr] of this.rows) {
      const ops = this.ops[tr.layer];
      for (const [slot, id] of tr.changed) {
        if (slot >= row.length || id === slot) continue;
        if (id < 0) ops.push(at(row, slot), 1, -1 - id, tr.cond ? at(row, tr.cond.slot) : NONE, tr.cond ? tr.cond.dmsIndex : 0);
        else ops.push(at(row, slot), 0, (this.tables[tr.tableOff + ((id / P) | 0)] * P + (id % P)) * D, NONE, 0);
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
