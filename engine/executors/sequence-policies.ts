// Which KV policy governs each cache sequence, kept beside the paged cache: add (init every row's
// policy state), fork (copy rows and state), free. Both executors share this bookkeeping.
import type { PagedCache } from '../kv/paged-cache.js';
import type { KvPolicy } from '../policies/kv-policy.js';

export class SequencePolicies {
  private readonly bySeq = new Map<number, KvPolicy>();

  /** `owner` names the executor in errors. */
  constructor(
    private readonly cache: PagedCache,
    private readonly owner: string,
  ) {}

  /** A new empty sequence governed by `policy`. */
  add(policy: KvPolicy): number {
    const seq = this.cache.addSequence();
    for (const row of this.cache.rows(seq)) policy.initRow(row);
    this.bySeq.set(seq, policy);
    return seq;
  }

  /** A copy of a sequence's cache and policy state (threads of one prompt). */
  fork(seq: number): number {
    const policy = this.of(seq);
    const id = this.cache.fork(seq, (s) => policy.cloneState(s));
    this.bySeq.set(id, policy);
    return id;
  }

  /** Frees a sequence's pages and forgets its policy. */
  free(seq: number): void {
    this.cache.freeSequence(seq);
    this.bySeq.delete(seq);
  }

  of(seq: number): KvPolicy {
    const p = this.bySeq.get(seq);
    if (!p) throw new Error(`${this.owner}: unknown sequence ${seq}`);
    return p;
  }

  /** Every live sequence id. */
  seqs(): number[] {
    return [...this.bySeq.keys()];
  }
}
