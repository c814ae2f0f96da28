// Per-request accounting exactly as dms.md section 6: KV token reads (decode, and prefill apart),
// peak KV tokens and bytes over all of the request's threads, achieved ratio, tokens and timings.

/** Plain-data usage of one request (summed over its threads). */
export interface Usage {
  /** Prompt tokens (counted once, not per thread). */
  promptTokens: number;
  /** Generated tokens over all threads. */
  completionTokens: number;
  /** Decode KV token reads: tokens read from the cache over all decode steps, summed over layers and KV heads. */
  kvTokenReads: number;
  /** kvTokenReads / (layers x KV heads). */
  kvTokenReadsPerHead: number;
  /** Prefill KV token reads (including the re-prefill of preempted threads), reported apart. */
  prefillKvTokenReads: number;
  /** Most cached tokens held at once by the request (all threads, layers and heads). */
  peakKvTokens: number;
  /** peakKvTokens / (layers x KV heads). */
  peakKvTokensPerHead: number;
  /** Bytes of those tokens (key + value, as stored). */
  peakKvBytes: number;
  /** Tokens retained in the cache summed over the decode steps of all threads, layers and KV heads. */
  kvTokensRetained: number;
  /**
   * Tokens seen / tokens retained over the decode steps of all threads (dms.md section 6; 1 = no
   * compression). Both are sums over steps, so the ratio is token-weighted: combining requests means
   * weighting each ratio by its kvTokensRetained, which gives sum(seen) / sum(retained) again.
   */
  achievedRatio: number;
}

/** Plain-data timings of one request, in milliseconds. */
export interface Timings {
  /** From the request's arrival (generate call) to its first sampled token. */
  ttftMs: number;
  /** Wall time of the request's prefill runs (and re-prefills). */
  prefillMs: number;
  /** Wall time of the decode steps the request took part in. */
  decodeMs: number;
  /** From arrival to the last thread's finish. */
  totalMs: number;
  /** The request's share of engine compute (prefills + its threads' share of each decode step): runner time billed. */
  computeMs: number;
}

export class RequestAccounting {
  promptTokens = 0;
  completionTokens = 0;
  decodeReads = 0;
  prefillReads = 0;
  peakTokens = 0;
  private seenSum = 0;
  private retainedSum = 0;
  prefillMs = 0;
  decodeMs = 0;
  /** The request's share of engine compute: its prefills plus, per decode step, step time x its threads / batch size. */
  computeMs = 0;
  firstTokenAt: number | null = null;
  finishedAt: number | null = null;

  /** rowsPerSequence: layers x KV heads; bytesPerToken: bytes per cached token slot. */
  constructor(
    readonly arrivedAt: number,
    readonly rowsPerSequence: number,
    readonly bytesPerToken: number,
  ) {}

  /** Records the cache held by all live sequences of the request right now. */
  observeHeld(tokensHeld: number): void {
    if (tokensHeld > this.peakTokens) this.peakTokens = tokensHeld;
  }

  /** One decode step of one thread: tokens seen by each row and the tokens it retains (summed over rows). */
  observeDecodeStep(reads: number, seenPerRow: number, retainedAllRows: number): void {
    this.decodeReads += reads;
    this.seenSum += seenPerRow * this.rowsPerSequence;
    this.retainedSum += retainedAllRows;
  }

  firstToken(now: number): void {
    this.firstTokenAt ??= now;
  }

  usage(): Usage {
    const rows = this.rowsPerSequence;
    return {
      promptTokens: this.promptTokens,
      completionTokens: this.completionTokens,
      kvTokenReads: this.decodeReads,
      kvTokenReadsPerHead: this.decodeReads / rows,
      prefillKvTokenReads: this.prefillReads,
      peakKvTokens: this.peakTokens,
      peakKvTokensPerHead: this.peakTokens / rows,
      peakKvBytes: this.peakTokens * this.bytesPerToken,
      kvTokensRetained: this.retainedSum,
      achievedRatio: this.retainedSum > 0 ? this.seenSum / this.retainedSum : 1,
    };
  }

  timings(): Timings {
    const end = this.finishedAt ?? this.arrivedAt;
    return {
      ttftMs: (this.firstTokenAt ?? end) - this.arrivedAt,
      prefillMs: this.prefillMs,
      decodeMs: this.decodeMs,
      totalMs: end - this.arrivedAt,
      computeMs: this.computeMs,
    };
  }
}
