// The budget rule every training-free baseline is held to (dms.md section 7: max(floor, ceil(t / r))
// tokens per row at length t), its option checks, and a small base for the policies that follow it.
import type { CacheRow } from '../kv/paged-cache.js';
import { type TokenKv, tokenBudget } from './kv-policy.js';

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

/** Per-row state every budgeted policy keeps: the budget is a function of the tokens seen. */
export interface BudgetedRowState {
  /** Tokens seen so far (the next position expected). */
  seen: number;
}

/**
 * Shared state of the budgeted policies: the validated ratio and floor, the budget at a length, and
 * the two checks their insert() makes. The method name is passed in because subclass fields are not
 * set yet while this constructor runs.
 */
export abstract class BudgetedPolicy {
  readonly ratio: number;
  readonly floor: number;
  private readonly method: string;

  protected constructor(method: string, opts: BudgetOptions) {
    this.method = method;
    this.floor = checkBudget(method, opts);
    this.ratio = opts.ratio;
  }

  /** Tokens a row of `seen` tokens may hold once the step is done (for quest: may read). */
  budget(seen: number): number {
    return tokenBudget(seen, this.ratio, this.floor);
  }

  /** Throws unless `tok` is the row's next position. */
  protected checkPosition(row: CacheRow, tok: TokenKv, s: BudgetedRowState): void {
    checkPosition(this.method, row, tok, s.seen);
  }

  /** For policies that trim in observe(): a row still over budget at insert means observe was skipped. */
  protected checkTrimmed(row: CacheRow, tok: TokenKv, s: BudgetedRowState): void {
    if (row.length > this.budget(s.seen))
      throw new Error(`${this.method} policy: row ${row.id} is over budget before position ${tok.position} (observe not called?)`);
  }
}
