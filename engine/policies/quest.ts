// Quest (query-aware page selection): keeps every token (no memory saved) but each query reads only the
// top ceil(budget / P) pages by the key-bound score sum_i max(q_i*min_i, q_i*max_i), plus the current page.
import type { CacheRow } from '../kv/paged-cache.js';
import { type BudgetOptions, BudgetedPolicy, type BudgetedRowState } from './budget.js';
import type { KvPolicy, TokenKv } from './kv-policy.js';

export interface QuestOptions extends BudgetOptions {
  /** Tokens per page P (default 16); must equal the page size of the cache it runs on. */
  pageSize?: number;
}

type QuestRowState = BudgetedRowState;

export class QuestPolicy extends BudgetedPolicy implements KvPolicy {
  readonly name = 'quest';
  readonly needsAttention = false;
  readonly needsKeyBounds = true;
  readonly window = null;
  readonly pageSize: number;
  private pageScores = new Float64Array(64);
  private order = new Int32Array(64);

  constructor(opts: QuestOptions) {
    super('quest', opts);
    this.pageSize = opts.pageSize ?? 16;
    if (!(Number.isInteger(this.pageSize) && this.pageSize >= 1)) throw new Error(`quest policy: pageSize must be an integer >= 1, got ${this.pageSize}`);
  }

  /** Pages read besides the current one at `seen` tokens. */
  topPages(seen: number): number {
    return Math.ceil(this.budget(seen) / this.pageSize);
  }

  initRow(row: CacheRow): void {
    if (!row.keyBounds) throw new Error('quest policy: the cache must track key bounds (PagedCache trackKeyBounds = true)');
    const P = row.cache.pool.pageSize;
    if (P !== this.pageSize) throw new Error(`quest policy: page size ${this.pageSize} must equal the cache page size ${P}`);
    const state: QuestRowState = { seen: 0 };
    row.policyState = state;
  }

  cloneState(state: unknown): unknown {
    return { ...(state as QuestRowState) };
  }

  /** Appends every token: slot s holds position s, so page j holds positions jP..jP+P-1 with exact bounds. */
  insert(row: CacheRow, tok: TokenKv): void {
    const s = row.policyState as QuestRowState;
    this.checkPosition(row, tok, s);
    row.append(tok.k, tok.kOff, tok.v, tok.vOff, tok.position);
    s.seen = tok.position + 1;
  }

  /**
   * Upper bound of page j's score for the group: sum over the G queries and D dims of max(q*min, q*max).
   * Summing over the group bounds the group-mean score that the row's one shared read decision serves.
   */
  pageBound(row: CacheRow, page: number, queries: Float32Array, qOff: number, groupSize: number): number {
    const D = row.cache.pool.headDim;
    const kb = row.keyBounds!;
    const lo = page * 2 * D;
    const hi = lo + D;
    let score = 0;
    for (let g = 0, qo = qOff; g < groupSize; g++, qo += D) {
      for (let d = 0; d < D; d++) {
        const q = queries[qo + d];
        const a = q * kb[lo + d];
        const b = q * kb[hi + d];
        score += Math.max(a, b);
      }
    }
    return score;
  }

  /** Writes the slots of the top pages (in page order) then the current page; -1 when that would be every page. */
  selectSlots(row: CacheRow, queries: Float32Array, qOff: number, groupSize: number, out: Int32Array): number {
    const s = row.policyState as QuestRowState;
    const P = this.pageSize;
    const numPages = row.pages.length;
    const top = this.topPages(s.seen);
    const candidates = numPages - 1; // every page but the current (last) one
    if (candidates <= top) return -1;
    if (this.pageScores.length < candidates) {
      this.pageScores = new Float64Array(candidates * 2);
      this.order = new Int32Array(candidates * 2);
    }
    const scores = this.pageScores;
    const order = this.order.subarray(0, candidates);
    for (let j = 0; j < candidates; j++) {
      scores[j] = this.pageBound(row, j, queries, qOff, groupSize);
      order[j] = j;
    }
    // Highest bound first; ties go to the older page so the choice is deterministic.
    order.sort((a, b) => scores[b] - scores[a] || a - b);
    const chosen = order.subarray(0, top).sort();
    let n = 0;
    for (let c = 0; c < top; c++) {
      const base = chosen[c] * P;
      for (let i = 0; i < P; i++) out[n++] = base + i; // candidate pages are full
    }
    for (let slot = candidates * P; slot < row.length; slot++) out[n++] = slot;
    return n;
  }
}
