// TOVA (token omission via attention): when a row is over budget, evict the token with the lowest
// attention weight from the current query, averaged over the KV head's query group (one decision per row).
import type { CacheRow } from '../kv/paged-cache.js';
import { tokenBudget, type KvPolicy, type TokenKv } from './kv-policy.js';
import { checkBudget, checkPosition, type BudgetOptions } from './window.js';

export interface TovaOptions extends BudgetOptions {
  /** Most recent tokens never evicted, the current one included (default 1: only the current token). */
  recent?: number;
}

interface TovaRowState {
  /** Tokens seen so far (the next position expected). */
  seen: number;
}

export class TovaPolicy implements KvPolicy {
  readonly name = 'tova';
  readonly needsAttention = true;
  readonly needsKeyBounds = false;
  readonly ratio: number;
  readonly floor: number;
  readonly recent: number;

  constructor(opts: TovaOptions) {
    this.floor = checkBudget('tova', opts);
    this.ratio = opts.ratio;
    this.recent = opts.recent ?? 1;
    if (!(Number.isInteger(this.recent) && this.recent >= 1 && this.recent <= this.floor)) {
      throw new Error(`tova policy: recent must be an integer in 1..floor (${this.floor}), got ${this.recent}`);
    }
  }

  /** Tokens a row of `seen` tokens may hold once the step is done. */
  budget(seen: number): number {
    return tokenBudget(seen, this.ratio, this.floor);
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
    checkPosition('tova', row, tok, s.seen);
    // Observe trims each step back to the budget; a row still over it means observe was skipped.
    if (row.length > this.budget(s.seen)) throw new Error(`tova policy: row ${row.id} is over budget before position ${tok.position} (observe not called?)`);
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
