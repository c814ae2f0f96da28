// Next-token sampling: greedy at temperature 0, else temperature + top-k + top-p over a softmax,
// drawn from a seeded per-thread PRNG so that the same seed gives the same output.

/** Sampling knobs of one request. */
export interface SamplingParams {
  /** <= 0 means greedy (argmax, ties to the lowest id). */
  temperature: number;
  /** Keep the k most likely tokens (0 or >= V: all). */
  topK: number;
  /** Keep the smallest set whose probability reaches p (1: all). */
  topP: number;
}

/** splitmix32-style PRNG: small, fast, deterministic across platforms. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  }

  /** The generator state (to snapshot a thread). */
  get snapshot(): number {
    return this.state;
  }
}

/** The seed of thread i of a request: distinct, deterministic streams per thread. */
export function threadSeed(requestSeed: number, thread: number): number {
  let h = (Math.floor(requestSeed) * 0x27d4eb2d + thread * 0x165667b1 + 0x3c6ef372) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return (h ^ (h >>> 12)) >>> 0;
}

/** Index of the largest logit in row [off, off+V) (ties to the lowest id). */
export function argmax(logits: Float32Array, off: number, V: number): number {
  let best = 0;
  let max = -Infinity;
  for (let v = 0; v < V; v++) {
    if (logits[off + v] > max) {
      max = logits[off + v];
      best = v;
    }
  }
  return best;
}

/** Samples one token id from logits[off .. off+V). */
export function sampleToken(logits: Float32Array, off: number, V: number, p: SamplingParams, rng: Rng): number {
  if (!(p.temperature > 0)) return argmax(logits, off, V);
  if (!(p.topK > 0 && p.topK < V) && !(p.topP > 0 && p.topP < 1)) return sampleFull(logits, off, V, p.temperature, rng);
  // Candidates sorted by logit (descending, ties to the lower id), cut by top-k.
  const ids = Array.from({ length: V }, (_, v) => v);
  ids.sort((a, b) => logits[off + b] - logits[off + a] || a - b);
  const k = p.topK > 0 ? Math.min(p.topK, V) : V;
  const max = logits[off + ids[0]];
  const probs = new Float64Array(k);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    probs[i] = Math.exp((logits[off + ids[i]] - max) / p.temperature);
    sum += probs[i];
  }
  const cut = p.topP > 0 && p.topP < 1 ? nucleusSize(probs, k, sum, p.topP) : -1;
  return drawFrom(ids, probs, cut > 0 ? cut : k, rng);
}

/**
 * Top-p: the smallest prefix of probs[0 .. n) (sorted, unnormalised, total `sum`) whose mass reaches
 * topP, or -1 when the first n do not reach it. Non-decreasing in `sum` (each rounded step of acc is).
 */
export function nucleusSize(probs: Float64Array, n: number, sum: number, topP: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += probs[i] / sum;
    if (acc >= topP) return i + 1;
  }
  return -1;
}

/** One draw from ids[0 .. keep) weighted by probs: the sampler's single use of the Rng. */
export function drawFrom(ids: ArrayLike<number>, probs: Float64Array, keep: number, rng: Rng): number {
  let mass = 0;
  for (let i = 0; i < keep; i++) mass += probs[i];
  let u = rng.next() * mass;
  for (let i = 0; i < keep; i++) {
    u -= probs[i];
    if (u < 0) return ids[i];
  }
  return ids[keep - 1];
}

/** Plain temperature sampling over the whole vocabulary (no sort needed). */
function sampleFull(logits: Float32Array, off: number, V: number, temperature: number, rng: Rng): number {
  let max = -Infinity;
  for (let v = 0; v < V; v++) if (logits[off + v] > max) max = logits[off + v];
  const probs = new Float64Array(V);
  let sum = 0;
  for (let v = 0; v < V; v++) {
    probs[v] = Math.exp((logits[off + v] - max) / temperature);
    sum += probs[v];
  }
  let u = rng.next() * sum;
  for (let v = 0; v < V; v++) {
    u -= probs[v];
    if (u < 0) return v;
  }
  return V - 1;
}
