// The vanilla policy: every token is appended and kept; the baseline for reads and memory.
// It never evicts, so reads at step t are exactly t+1 tokens per row.
import type { CacheRow } from '../kv/paged-cache.js';
import type { KvPolicy, TokenKv } from './kv-policy.js';

export class NonePolicy implements KvPolicy {
  readonly name = 'none';
  readonly needsAttention = false;
  readonly needsKeyBounds = false;
  readonly window = null;

  initRow(row: CacheRow): void {
    row.policyState = null;
  }

  cloneState(): unknown {
    return null;
  }

  insert(row: CacheRow, tok: TokenKv): void {
    row.append(tok.k, tok.kOff, tok.v, tok.vOff, tok.position);
  }
}
