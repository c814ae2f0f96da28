// The eviction-policy interface every KV policy implements (none, dms, and the training-free
// baselines window / tova / h2o / quest / dms-w0), so that all share the paged cache and the accounting.
import type { CacheRow } from '../kv/paged-cache.js';

/**
 * One new token's cache entry for one row (sequence, layer, KV head), handed to KvPolicy.insert.
 * Keys are stored after RoPE, so slot order never matters to attention.
 */
export interface TokenKv {
  /** Position t of the token in its sequence (0-based; equals the number of tokens seen before it). */
  position: number;
  /** Post-RoPE key: D floats at k[kOff..]. */
  k: Float32Array;
  kOff: number;
  /** Value: D floats at v[vOff..]. */
  v: Float32Array;
  vOff: number;
  /** The model's DMS eviction logit at t for this KV head (decides the fate of token t-1); NaN when the model has none. */
  dmsLogit: number;
}

/**
 * The contract, per row, in the order the engine calls it for every token (prefill and decode alike):
 *  1. insert(row, tok): place the new token (row.append or row.overwrite) and drop whatever the policy
 *     drops now (row.remove(slot) moves the last slot into `slot`: mirror that in your state).
 *  2. selectSlots (optional, Quest): choose which slots this token's queries read; reads are accounted
 *     per slot actually visited, so a policy that saves reads but not memory returns a subset here.
 *  3. attention of the token's query group over the chosen slots.
 *  4. observe (only when needsAttention, TOVA/H2O): the group-averaged attention weight of every
 *     slot read this step; evict here when over budget.
 * Budgeted baselines hold `tokenBudget(seen, ratio, floor)` tokens per row at every length.
 */
export interface KvPolicy {
  /** Method name as requests spell it (none, dms, window, tova, h2o, quest, dms-w0). */
  readonly name: string;
  /** The engine computes per-slot attention weights and calls observe() after each token. */
  readonly needsAttention: boolean;
  /** The cache keeps per-page element-wise key min/max (row.keyBounds) for selectSlots. */
  readonly needsKeyBounds: boolean;
  /**
   * Tokens before the current one that are never evicted: the DMS delay window w, or a tova/h2o recent
   * window; null for methods without a fixed one (reported beside the achieved ratio).
   */
  readonly window: number | null;
  /** Sets row.policyState for a fresh row. */
  initRow(row: CacheRow): void;
  /** Deep copy of a row state (when a prefilled prompt forks into threads). */
  cloneState(state: unknown): unknown;
  /** Places token t in the row (step 1 above). */
  insert(row: CacheRow, tok: TokenKv): void;
  /**
   * Quest-style read selection: writes the slot indices to read into `out` and returns the count,
   * or returns -1 to read every slot. queries: the group's G query vectors (G*D floats at qOff).
   */
  selectSlots?(row: CacheRow, queries: Float32Array, qOff: number, groupSize: number, out: Int32Array): number;
  /** Attention feedback: weights[i] for slots[i], i < n (slots null means slot i), averaged over the group. */
  observe?(row: CacheRow, weights: Float32Array, slots: Int32Array | null, n: number, position: number): void;
  /**
   * The split of insert for executors that learn a step's DMS logits only after the step (webgpu):
   * insert == recordLogit then place. place may use only logits recorded before, so a step may place
   * at most maxDeferred tokens of one row before recording theirs (0: the decision is needed in-step).
   */
  place?(row: CacheRow, tok: TokenKv): void;
  recordLogit?(row: CacheRow, position: number, logit: number): void;
  readonly maxDeferred?: number;
  /** maxDeferred 0 (dms-w0): the slot the token overwrites when its own logit flags its predecessor, else -1. */
  inStepTarget?(row: CacheRow): number;
}

/** What a request asks for; resolved against the model by createPolicy. */
export interface CompressionSpec {
  /** Policy name. */
  method: string;
  /** Requested compression ratio r (>= 1). */
  ratio: number;
  /** Window: DMS sliding window override (default the model's), or the recent-token window of a baseline. */
  window?: number;
}

/** The shared budget rule of the training-free baselines: max(floor, ceil(t / r)) tokens per row. */
export function tokenBudget(seen: number, ratio: number, floor: number): number {
  return Math.max(floor, Math.ceil(seen / ratio));
}
