// DMS at inference (dms.md section 5): a ring buffer of the last w+1 tokens' (slot, evict flag) per
// row; token t's logit flags token t-1, and a flagged token leaving the window gives its slot to the newcomer.
import type { CacheRow } from '../kv/paged-cache.js';
import type { KvPolicy, TokenKv } from './kv-policy.js';

interface DmsRowState {
  /** Slot of the token at ring index t mod (w+1). */
  slots: Int32Array;
  /** Evict flag of that token (set by the next token's logit). */
  flags: Uint8Array;
  /** Tokens seen so far (the next position expected). */
  seen: number;
}

export class DmsPolicy implements KvPolicy {
  readonly needsAttention = false;
  readonly needsKeyBounds = false;

  /** window: w, the number of steps an evicted token stays visible (w+1 keys always visible). */
  constructor(
    readonly window: number,
    readonly name = 'dms',
  ) {
    if (!(Number.isInteger(window) && window >= 0)) throw new Error(`dms policy: window must be an integer >= 0, got ${window}`);
  }

  initRow(row: CacheRow): void {
    const state: DmsRowState = { slots: new Int32Array(this.window + 1).fill(-1), flags: new Uint8Array(this.window + 1), seen: 0 };
    row.policyState = state;
  }

  cloneState(state: unknown): unknown {
    const s = state as DmsRowState;
    return { slots: s.slots.slice(), flags: s.flags.slice(), seen: s.seen };
  }

  insert(row: CacheRow, tok: TokenKv): void {
    if (Number.isNaN(tok.dmsLogit)) throw new Error('dms policy: the model has no DMS predictor (config.json has no dms block)');
    // The newcomer's logit decides the fate of the previous token (the off-by-one of dms.md section 2).
    this.recordLogit(row, tok.position, tok.dmsLogit);
    this.place(row, tok);
  }

  /** Most tokens of one row a step may place before their logits are recorded: w (placement of t reads the flag of t-w-1). */
  get maxDeferred(): number {
    return this.window;
  }

  /**
   * With w = 0 the previous token's fate is decided by the new token's own logit, inside the step:
   * the slot the new token overwrites when that logit flags its predecessor (-1 when none).
   */
  inStepTarget(row: CacheRow): number {
    const s = row.policyState as DmsRowState;
    return this.window === 0 && s.seen >= 1 ? s.slots[0] : -1;
  }

  /** Token `position`'s logit sets the flag of the token before it (the first half of insert). */
  recordLogit(row: CacheRow, position: number, logit: number): void {
    const s = row.policyState as DmsRowState;
    if (position >= 1) s.flags[(position - 1) % (this.window + 1)] = logit > 0 ? 1 : 0;
  }

  /** Places token t using flags recorded before it only (the second half of insert). */
  place(row: CacheRow, tok: TokenKv): void {
    const s = row.policyState as DmsRowState;
    const t = s.seen;
    if (tok.position !== t) throw new Error(`dms policy: row ${row.id} expected position ${t}, got ${tok.position}`);
    const ring = this.window + 1;
    const leaving = t - ring; // the token now leaving the window of w+1
    const idx = t % ring; // ring index of `leaving` and of t
    if (leaving >= 0 && s.flags[idx] === 1) {
      row.overwrite(s.slots[idx], tok.k, tok.kOff, tok.v, tok.vOff, t);
    } else {
      s.slots[idx] = row.append(tok.k, tok.kOff, tok.v, tok.vOff, t);
    }
    s.flags[idx] = 0;
    s.seen = t + 1;
  }
}
