// The sliding-window baseline (StreamingLLM): a few sink tokens plus the most recent tokens, held to the
// shared budget max(floor, ceil(t / r)); also home of the budget options every budgeted baseline shares.
import type { CacheRow } from '../kv/paged-cache.js';
import { tokenBudget, type KvPolicy, type TokenKv } from './kv-policy.js';

/** The budget rule of dms.md section 7, shared by window, tova, h2o and quest. */
export interface BudgetOptions {
  /** Requested compression ratio r (>= 1). */
  ratio: number;
  /** Fewest tokens a row may be cut to (default 16): the budget is max(floor, ceil(t / r)). */
  floor?: number;
}

/** Default floor of the budget rule. */
export const DEFAULT_FLOOR = 16;

/** Validates ratio and floor; returns the floor to use. */
export function checkBudget(method: string, opts: BudgetOptions): number {
  if (!(Number.isFinite(opts.ratio) && opts.ratio >= 1)) throw new Error(`${method} policy: ratio must be a number >= 1, got ${opts.ratio}`);
  const floor = opts.floor ?? DEFAULT_FLOOR;
  if (!(Number.isInteger(floor) && floor >= 1)) throw new Error(`${method} policy: floor must be an integer >= 1, got ${floor}`);
  return floor;
}

/** Throws unless the token arrives at the next position of its row (every token passes through insert). */
export function checkPosition(method: string, row: CacheRow, tok: TokenKv, seen: number): void {
  if (tok.position !== seen) throw new Error(`${method} policy: row ${row.id} expected position ${seen}, got ${tok.position}`);
}

export interface WindowOptions extends BudgetOptions {
  /** Sink tokens: the first positions, never evicted (default 4). */
  sinks?: number;
}

interface WindowRowState {
  /** Tokens seen so far (the next position expected). */
  seen: number;
}

export class WindowPolicy implements KvPolicy {
  readonly name = 'window';
  readonly needsAttention = false;
  readonly needsKeyBounds = false;
  readonly ratio: number;
  readonly floor: number;
  readonly sinks: number;

  constructor(opts: WindowOptions) {
    this.floor = checkBudget('window', opts);
    this.ratio = opts.ratio;
    this.sinks = opts.sinks ?? 4;
    if (!(Number.isInteger(this.sinks) && this.sinks >= 0)) throw new Error(`window policy: sinks must be an integer >= 0, got ${this.sinks}`);
    // The budget never drops below the floor, so floor > sinks leaves room for at least the current token.
    if (this.sinks >= this.floor) throw new Error(`window policy: sinks (${this.sinks}) must be below the floor (${this.floor})`);
  }

  /** Tokens a row of `seen` tokens may hold. */
  budget(seen: number): number {
    return tokenBudget(seen, this.ratio, this.floor);
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
    checkPosition('window', row, tok, s.seen);
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
