// Sampling from a row's top candidates instead of its V logits: the same draw as sampleToken on the
// whole row, or a refusal (-1) where the candidates cannot prove it, so that the executor reads the row.
import { drawFrom, nucleusSize, type Rng, type SamplingParams } from './sampler.js';

/** The top c of one logits row in sampleToken's order, plus what the host needs to decide top-p. */
export interface Candidates {
  /** [c] ids, logit descending, then id ascending (sampleToken's sort). */
  ids: Int32Array;
  /** [c] their logits, as in the row. */
  logits: Float32Array;
  /** V of the row: the V - c ids not listed are its tail. */
  numVocab: number;
  /** The executor's estimate of sum over the whole row of exp((l - max) / T) at the row's temperature. */
  sumExp: number;
  /** A bound on sumExp's relative error against the exact sum (the executor's own arithmetic). */
  sumRelErr: number;
}

/** Rounding of sampleToken's own float64 sum (V additions, exp within 1 ulp, (l - max) / T), with slack for the bound's arithmetic. */
const hostRelErr = (V: number) => (V + 1024) * 2 ** -52;

const topKOn = (p: SamplingParams, V: number) => p.topK > 0 && p.topK < V;
const topPOn = (p: SamplingParams) => p.topP > 0 && p.topP < 1;

/**
 * Before the step: whether c candidates can decide the row's draw at all. Greedy rows (an id) and
 * pure temperature rows (sampleFull needs every logit) cannot; top-k needs k <= c; top-p alone
 * may (decided after the step by candidateNucleus).
 */
export function candidatesMayDecide(p: SamplingParams, V: number, c: number): boolean {
  if (!(p.temperature > 0) || c >= V) return false;
  if (topKOn(p, V)) return p.topK <= c;
  return topPOn(p);
}

/**
 * How many leading candidates sampleToken keeps for this row, or -1 when the candidates cannot prove
 * it. With k = top-k <= c the top-k sum is known exactly, so the result is sampleToken's. With top-p
 * alone the sum runs over all V: it lies in [lo, hi] (at least the candidates' own sum, at most that
 * plus V - c times the smallest candidate, and within sumRelErr of the executor's estimate); the
 * nucleus size is non-decreasing in the sum, so when it is the same at lo and at hi and inside the
 * candidates, it is the one sampleToken finds with the exact sum.
 */
export function candidateNucleus(cand: Candidates, p: SamplingParams): number {
  const V = cand.numVocab;
  const n = cand.ids.length;
  if (!(p.temperature > 0) || n === 0 || (!topKOn(p, V) && !topPOn(p))) return -1;
  const k = p.topK > 0 ? Math.min(p.topK, V) : V;
  if (k > n && k < V) return -1; // the top-k set's sum runs past the candidates
  const max = cand.logits[0];
  if (!Number.isFinite(max)) return -1;
  const m = Math.min(k, n);
  const probs = new Float64Array(m);
  let head = 0;
  for (let i = 0; i < m; i++) {
    probs[i] = Math.exp((cand.logits[i] - max) / p.temperature);
    head += probs[i];
  }
  if (k <= n) {
    // The same probs and the same sum, in the same order, as sampleToken.
    const cut = topPOn(p) ? nucleusSize(probs, k, head, p.topP) : -1;
    return cut > 0 ? cut : k;
  }
  if (!topPOn(p)) return -1;
  const eh = hostRelErr(V);
  const ed = cand.sumRelErr;
  if (!(cand.sumExp > 0) || !(ed >= 0 && ed < 0.5)) return -1; // no estimate (or zeros from a pass that did not run)
  const lo = Math.max(head, ((cand.sumExp * (1 - eh)) / (1 + ed)) * (1 - eh));
  const hi = Math.min((head + (V - n) * probs[n - 1]) * (1 + eh), ((cand.sumExp * (1 + eh)) / (1 - ed)) * (1 + eh));
  if (!(lo <= hi)) return -1;
  const atHi = nucleusSize(probs, n, hi, p.topP);
  return atHi > 0 && nucleusSize(probs, n, lo, p.topP) === atHi ? atHi : -1;
}

/** sampleToken's draw for a row from its candidates; throws where candidateNucleus refuses (the executor must have read the row instead). */
export function sampleCandidates(cand: Candidates, p: SamplingParams, rng: Rng): number {
  const keep = candidateNucleus(cand, p);
  if (keep < 0) throw new Error('sampleCandidates: these candidates do not decide the draw; the row needs its logits');
  const max = cand.logits[0];
  const probs = new Float64Array(keep);
  for (let i = 0; i < keep; i++) probs[i] = Math.exp((cand.logits[i] - max) / p.temperature);
  return drawFrom(cand.ids, probs, keep, rng);
}
