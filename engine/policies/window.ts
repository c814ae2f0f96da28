// The sliding-window baseline (StreamingLLM): a few sink tokens plus the most recent tokens, held to the
// shared budget max(floor, ceil(t / r)) of budget.ts.
import type { CacheRow } from '../kv/paged-cache.js';
import { type BudgetOptions, BudgetedPolicy, type BudgetedRowState } from './budget.js';
import type { KvPolicy, TokenKv } from './kv-policy.js';

export interface WindowOptions extends BudgetOptions {
  /** Sink tokens: the first positions, never evicted (default 4). */
  sinks?: number;
}

type WindowRowState = BudgetedRowState;

export class WindowPolicy extends BudgetedPolicy implements KvPolicy {
  readonly name = 'window';
  readonly needsAttention = false;
  readonly needsKeyBounds = false;
  /** Its recent part is the budget minus the sinks: it grows with the length, so no fixed window. */
  readonly window = null;
  readonly sinks: number;

  constructor(opts: WindowOptions) {
    super('window', opts);
    this.sinks = opts.sinks ?? 4;
    if (!(Number.isInteger(this.sinks) && this.sinks >= 0)) throw new Error(`window policy: sinks must be an integer >= 0, got ${this.sinks}`);
    // The budget never drops below the floor, so floor > sinks leaves room for at least the current token.
    if (this.sinks >= this.floor) throw new Error(`window policy: sinks (${this.sinks}) must be below the floor (${this.floor})`);
  }

  initRow(row: CacheRow): void {
    const state: WindowRowState = { seen: 0 };
    row.policyState = state;
  }

  cloneState(state: unknown): unknown {
    return { ...(state as WindowRowState) };
  }

  /** Appends the token, then drops the oldest non-sink tokens until the row fits its budget (before attention reads it). */
  insert(row: CacheRow, tok: TokenKv): void {
    const s = row.policyState as WindowRowState;
    this.checkPosition(row, tok, s);
    row.append(tok.k, tok.kOff, tok.v, tok.vOff, tok.position);
    s.seen = tok.position + 1;
    const budget = this.budget(s.seen);
    while (row.length > budget) row.remove(this.oldestNonSink(row));
  }

  /** Slot of the smallest position >= sinks (the budget exceeds the sinks, so one exists when over budget). */
  private oldestNonSink(row: CacheRow): number {
    let best = -1;
    let bestPos = Infinity;
    const pos = row.positions;
    for (let s = 0; s < row.length; s++) {
      const p = pos[s];
      if (p >= this.sinks && p < bestPos) {
        bestPos = p;
        best = s;
      }
    }
    if (best < 0) throw new Error(`window policy: row ${row.id} has no evictable token`);
    return best;
  }
}
