// H2O (heavy-hitter oracle): the budget is split between the most recent tokens and the heavy hitters,
// the older tokens with the largest attention accumulated over every query so far (group-averaged per step).
import type { CacheRow } from '../kv/paged-cache.js';
import { type BudgetOptions, BudgetedPolicy, type BudgetedRowState } from './budget.js';
import type { KvPolicy, TokenKv } from './kv-policy.js';

export interface H2oOptions extends BudgetOptions {
  /** Share of the budget given to heavy hitters, the rest to recent tokens (default 0.5: 50/50). */
  heavyFraction?: number;
  /** A fixed count of recent tokens instead of the share (clamped to 1..budget). */
  recent?: number;
}

interface H2oRowState extends BudgetedRowState {
  /** Accumulated attention per slot (mirrors row slot moves). */
  scores: Float64Array;
}

export class H2oPolicy extends BudgetedPolicy implements KvPolicy {
  readonly name = 'h2o';
  readonly needsAttention = true;
  readonly needsKeyBounds = false;
  readonly heavyFraction: number;
  readonly fixedRecent: number | null;
  readonly window: number | null;

  constructor(opts: H2oOptions) {
    super('h2o', opts);
    this.heavyFraction = opts.heavyFraction ?? 0.5;
    if (!(this.heavyFraction >= 0 && this.heavyFraction < 1)) throw new Error(`h2o policy: heavyFraction must be in [0, 1), got ${this.heavyFraction}`);
    this.fixedRecent = opts.recent ?? null;
    if (this.fixedRecent !== null && !(Number.isInteger(this.fixedRecent) && this.fixedRecent >= 1)) {
      throw new Error(`h2o policy: recent must be an integer >= 1, got ${this.fixedRecent}`);
    }
    // Without a fixed recent count the protected part is a share of the budget: no fixed window.
    this.window = this.fixedRecent === null ? null : this.fixedRecent - 1;
  }

  /** Recent tokens protected at this budget (at least the current token). */
  numRecent(budget: number): number {
    if (this.fixedRecent !== null) return Math.min(this.fixedRecent, budget);
    return Math.max(1, budget - Math.floor(budget * this.heavyFraction));
  }

  initRow(row: CacheRow): void {
    const state: H2oRowState = { seen: 0, scores: new Float64Array(32) };
    row.policyState = state;
  }

  cloneState(state: unknown): unknown {
    const s = state as H2oRowState;
    return { seen: s.seen, scores: s.scores.slice() };
  }

  /** Appends the token with a zero score; eviction waits for its query's weights (observe). */
  insert(row: CacheRow, tok: TokenKv): void {
    const s = row.policyState as H2oRowState;
    this.checkPosition(row, tok, s);
    this.checkTrimmed(row, tok, s);
    const slot = row.append(tok.k, tok.kOff, tok.v, tok.vOff, tok.position);
    if (slot >= s.scores.length) {
      const next = new Float64Array(s.scores.length * 2);
      next.set(s.scores);
      s.scores = next;
    }
    s.scores[slot] = 0;
    s.seen = tok.position + 1;
  }

  /** Accumulates this query's weights, then over budget drops the lowest-scoring token outside the recent ones. */
  observe(row: CacheRow, weights: Float32Array, slots: Int32Array | null, n: number, position: number): void {
    const s = row.policyState as H2oRowState;
    for (let i = 0; i < n; i++) s.scores[slots ? slots[i] : i] += weights[i];
    const budget = this.budget(position + 1);
    if (row.length <= budget) return;
    const minRecent = position - this.numRecent(budget) + 1; // positions >= minRecent are protected
    const pos = row.positions;
    let victim = -1;
    let low = Infinity;
    let lowPos = Infinity;
    for (let slot = 0; slot < row.length; slot++) {
      const p = pos[slot];
      if (p >= minRecent) continue;
      const sc = s.scores[slot];
      if (sc < low || (sc === low && p < lowPos)) {
        low = sc;
        lowPos = p;
        victim = slot;
      }
    }
    if (victim < 0) throw new Error(`h2o policy: row ${row.id} over budget with no evictable token`);
    const moved = row.remove(victim); // the last slot now lives in `victim`
    s.scores[victim] = s.scores[moved];
    s.scores[moved] = 0;
    if (row.length > budget) throw new Error(`h2o policy: row ${row.id} holds ${row.length} tokens, budget ${budget} (more than one token arrived per step)`);
  }
}
