// TOVA (token omission via attention): when a row is over budget, evict the token with the lowest
// attention weight from the current query, averaged over the KV head's query group (one decision per row).
import type { CacheRow } from '../kv/paged-cache.js';
import { type BudgetOptions, BudgetedPolicy, type BudgetedRowState } from './budget.js';
import type { KvPolicy, TokenKv } from './kv-policy.js';

export interface TovaOptions extends BudgetOptions {
  /** Most recent tokens never evicted, the current one included (default 1: only the current token). */
  recent?: number;
}

type TovaRowState = BudgetedRowState;

export class TovaPolicy extends BudgetedPolicy implements KvPolicy {
  readonly name = 'tova';
  readonly needsAttention = true;
  readonly needsKeyBounds = false;
  readonly recent: number;
  readonly window: number;

  constructor(opts: TovaOptions) {
    super('tova', opts);
    this.recent = opts.recent ?? 1;
    if (!(Number.isInteger(this.recent) && this.recent >= 1 && this.recent <= this.floor)) {
      throw new Error(`tova policy: recent must be an integer in 1..floor (${this.floor}), got ${this.recent}`);
    }
    this.window = this.recent - 1;
  }

  initRow(row: CacheRow): void {
    const state: TovaRowState = { seen: 0 };
    row.policyState = state;
  }

  cloneState(state: unknown): unknown {
    return { ...(state as TovaRowState) };
  }

  /** Appends the token: the decision needs its query's weights over every candidate, itself included. */
  insert(row: CacheRow, tok: TokenKv): void {
    const s = row.policyState as TovaRowState;
    this.checkPosition(row, tok, s);
    // Observe trims each step back to the budget; a row still over it means observe was skipped.
    this.checkTrimmed(row, tok, s);
    row.append(tok.k, tok.kOff, tok.v, tok.vOff, tok.position);
    s.seen = tok.position + 1;
  }

  /**
   * weights[i]: the current query group's mean attention weight on slot (slots ? slots[i] : i).
   * Over budget, drops the read slot of lowest weight (ties: the older position) outside the protected recent tokens.
   */
  observe(row: CacheRow, weights: Float32Array, slots: Int32Array | null, n: number, position: number): void {
    const budget = this.budget(position + 1);
    if (row.length <= budget) return;
    const minKept = position - this.recent + 1; // positions >= minKept are protected
    const pos = row.positions;
    let victim = -1;
    let low = Infinity;
    let lowPos = Infinity;
    for (let i = 0; i < n; i++) {
      const slot = slots ? slots[i] : i;
      const p = pos[slot];
      if (p >= minKept) continue;
      const w = weights[i];
      if (w < low || (w === low && p < lowPos)) {
        low = w;
        lowPos = p;
        victim = slot;
      }
    }
    if (victim < 0) throw new Error(`tova policy: row ${row.id} over budget with no evictable token read`);
    row.remove(victim);
    if (row.length > budget) throw new Error(`tova policy: row ${row.id} holds ${row.length} tokens, budget ${budget} (more than one token arrived per step)`);
  }
}
