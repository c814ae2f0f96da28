// Training data from the reasoning suite: seeded problems -> token ids, loss mask and per-token roles,
// grouped into padded batches by a token budget with length bucketing. Only training seeds are drawn.
import { BYTE_BOS_ID, BYTE_EOS_ID, BYTE_PAD_ID } from '../model/tokenizer.js';
import { assertTrainingSeed, problemFromMix, ROLES, TRAINING_SEED_START, type MixSpec, type Problem, type Role } from '../../tasks/index.js';

/** Special ids of the shipped byte-level tokenizer (token id = byte value for ASCII). */
export const BOS_ID = BYTE_BOS_ID;
export const EOS_ID = BYTE_EOS_ID;
export const PAD_ID = BYTE_PAD_ID;

/** Role index of each target position; -1 = not scored (prompt, padding). */
export const ROLE_INDEX: Readonly<Record<Role, number>> = Object.fromEntries(ROLES.map((r, i) => [r, i])) as Record<Role, number>;

/** One tokenised example: input ids, next-token targets, which targets count and their roles. */
export interface Example {
  ids: number[];
  targets: number[];
  /** 1 where the target is a solution token or the final eos. */
  mask: number[];
  /** ROLE_INDEX of each target (eos counts as 'sep'); -1 where mask is 0. */
  roles: number[];
  problem: Problem;
}

/** A padded batch as plain arrays (row-major [B, T]). */
export interface Batch {
  batchSize: number;
  seqLen: number;
  ids: Int32Array;
  targets: Int32Array;
  mask: Float32Array;
  roles: Int32Array;
  /** Number of scored (solution) tokens. */
  numTargets: number;
  /** Total non-padding tokens. */
  numTokens: number;
}

export function encodeAscii(text: string): number[] {
  const out = new Array<number>(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) throw new Error(`non-ASCII character in task text: ${JSON.stringify(text[i])}`);
    out[i] = c;
  }
  return out;
}

/** bos + prompt + solution + eos, shifted into (ids, targets); loss only on solution and eos. */
export function toExample(problem: Problem): Example {
  const prompt = encodeAscii(problem.prompt);
  const solution = encodeAscii(problem.solution);
  const seq = [BOS_ID, ...prompt, ...solution, EOS_ID];
  const n = seq.length - 1;
  const firstScored = prompt.length; // target index of solution[0] (ids[prompt.length] is the last prompt char)
  const mask = new Array<number>(n).fill(0);
  const roles = new Array<number>(n).fill(-1);
  for (let t = firstScored; t < n; t++) {
    mask[t] = 1;
    const i = t - firstScored;
    roles[t] = i < problem.roles.length ? ROLE_INDEX[problem.roles[i]] : ROLE_INDEX.sep;
  }
  return { ids: seq.slice(0, n), targets: seq.slice(1), mask, roles, problem };
}

/** Pads examples into one batch; seqLen is rounded up to a multiple of `align`. */
export function collate(examples: readonly Example[], align = 8): Batch {
  const longest = Math.max(...examples.map((e) => e.ids.length));
  const seqLen = Math.ceil(longest / align) * align;
  const b = examples.length;
  const ids = new Int32Array(b * seqLen).fill(PAD_ID);
  const targets = new Int32Array(b * seqLen).fill(PAD_ID);
  const mask = new Float32Array(b * seqLen);
  const roles = new Int32Array(b * seqLen).fill(-1);
  let numTargets = 0;
  let numTokens = 0;
  examples.forEach((e, r) => {
    ids.set(e.ids, r * seqLen);
    targets.set(e.targets, r * seqLen);
    mask.set(e.mask, r * seqLen);
    roles.set(e.roles, r * seqLen);
    numTokens += e.ids.length;
    for (const m of e.mask) numTargets += m;
  });
  return { batchSize: b, seqLen, ids, targets, mask, roles, numTargets, numTokens };
}

/** Greedy bucketing: sort by length, cut into batches with batchSize * seqLen <= tokenBudget. */
export function bucketize(examples: readonly Example[], tokenBudget: number, maxBatch = 64): Example[][] {
  const sorted = [...examples].sort((a, b) => a.ids.length - b.ids.length);
  const out: Example[][] = [];
  let cur: Example[] = [];
  for (const e of sorted) {
    const len = Math.ceil(e.ids.length / 8) * 8;
    if (cur.length > 0 && ((cur.length + 1) * len > tokenBudget || cur.length >= maxBatch)) {
      out.push(cur);
      cur = [];
    }
    cur.push(e);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Endless stream of training batches. Seeds advance sequentially from `nextSeed` (>= 10,000,000,
 * enforced), so a resumed run continues with fresh problems; the mix may change per pool (curriculum).
 */
export class SuiteBatcher {
  private queue: Example[][] = [];
  constructor(
    public nextSeed: number,
    private readonly tokenBudget: number,
    private readonly poolSize = 128,
  ) {
    if (nextSeed < TRAINING_SEED_START) throw new Error(`training seeds start at ${TRAINING_SEED_START}, got ${nextSeed}`);
  }

  next(mix: MixSpec): Batch {
    if (this.queue.length === 0) this.refill(mix);
    return collate(this.queue.shift() as Example[]);
  }

  private refill(mix: MixSpec): void {
    const pool: Example[] = [];
    for (let i = 0; i < this.poolSize; i++) {
      const seed = this.nextSeed++;
      assertTrainingSeed(seed);
      pool.push(toExample(problemFromMix(seed, mix)));
    }
    const batches = bucketize(pool, this.tokenBudget);
    // Deterministic shuffle of batch order (by the pool's first seed), so lengths interleave.
    let s = this.nextSeed >>> 0;
    for (let i = batches.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const j = s % (i + 1);
      [batches[i], batches[j]] = [batches[j], batches[i]];
    }
    this.queue = batches;
  }
}
