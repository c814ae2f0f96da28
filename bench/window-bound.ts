// The achieved-ratio ceiling that DMS's sliding window sets on short sequences.
//
// dms.md section 6 defines the achieved ratio as tokens seen / tokens retained, averaged over decode
// steps. With delayed eviction the w + 1 most recent tokens of every row are always held, so even a
// predictor that flags exactly 1 - 1/R of all tokens (what the retrofit trains for) retains
//   kept(n) = n                          for n <= w + 1
//   kept(n) = (w + 1) + (n - w - 1) / R  otherwise
// tokens after seeing n. On a few hundred tokens this is far above n / R. windowBoundRatio is the
// achieved ratio of that ideal predictor on the same sequences, measured the way the engine measures:
// a thread with prompt P and C generated tokens takes decode steps that have seen P + 1 .. P + C - 1
// tokens (the first token comes from the prefill, the last is never fed back).

/** Tokens an ideal DMS row at ratio R, window w, retains after seeing n tokens. */
export function idealKept(n: number, ratio: number, window: number): number {
  const always = window + 1;
  return n <= always ? n : always + (n - always) / ratio;
}

/**
 * Time-averaged seen / retained of an ideal predictor at `ratio` and `window` over the decode steps of
 * threads with `promptTokens` prompt tokens and the given generated lengths; 1 when they take no decode step.
 */
export function windowBoundRatio(sequences: Array<{ promptTokens: number; completionTokens: number[] }>, ratio: number, window: number): number {
  let seen = 0;
  let kept = 0;
  for (const s of sequences) {
    for (const c of s.completionTokens) {
      for (let n = s.promptTokens + 1; n <= s.promptTokens + c - 1; n++) {
        seen += n;
        kept += idealKept(n, ratio, window);
      }
    }
  }
  return kept > 0 ? seen / kept : 1;
}
