// Sampling from candidates (no device): wherever candidateNucleus decides, sampleCandidates equals
// sampleToken on the whole row for every seed, also with the sum estimate at either end of its error
// bound; it refuses top-k > c, pure temperature, nuclei past the candidates and top-p near a boundary.
import { describe, expect, it } from 'vitest';
import { type Candidates, candidateNucleus, candidatesMayDecide, sampleCandidates } from '../../engine/runtime/candidate-sampler.js';
import { Rng, type SamplingParams, sampleToken } from '../../engine/runtime/sampler.js';

function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A logits row: a few strong tokens over a noisy tail (scale sets how peaked), with ties. */
function makeRow(V: number, seed: number, scale: number): Float32Array {
  const u = uniform(seed);
  const row = Float32Array.from({ length: V }, () => (u() + u() + u() - 1.5) * scale);
  for (let i = 0; i < 4; i++) row[Math.floor(u() * V)] = scale * (2 + u());
  row[7] = row[3]; // a tie
  return row;
}

/** The host's exact candidates: top c in sampleToken's order, the float64 sum (scaled by `bias`), with relErr `eps`. */
function candidatesOf(row: Float32Array, c: number, T: number, bias: number, eps: number): Candidates {
  const ids = Array.from({ length: row.length }, (_, v) => v);
  ids.sort((a, b) => row[b] - row[a] || a - b);
  const max = row[ids[0]];
  let sum = 0;
  for (const v of ids) sum += Math.exp((row[v] - max) / T);
  const top = ids.slice(0, c);
  return { ids: Int32Array.from(top), logits: Float32Array.from(top.map((v) => row[v])), numVocab: row.length, sumExp: sum * bias, sumRelErr: eps };
}

/** Whether the candidates decide, and if so that every seed draws what sampleToken draws on the row. */
function checkEqual(row: Float32Array, cand: Candidates, p: SamplingParams, seeds = 64): boolean {
  if (candidateNucleus(cand, p) < 0) {
    expect(() => sampleCandidates(cand, p, new Rng(0))).toThrow(/do not decide/);
    return false;
  }
  for (let s = 0; s < seeds; s++) {
    const a = new Rng(s);
    const b = new Rng(s);
    expect(sampleCandidates(cand, p, a)).toBe(sampleToken(row, 0, row.length, p, b));
    expect(a.snapshot).toBe(b.snapshot); // one draw each
  }
  return true;
}

describe('candidate sampler', () => {
  const V = 1000;
  const c = 64;

  it('before the step: greedy, pure temperature and top-k > c cannot use candidates; top-k <= c and top-p alone may', () => {
    expect(candidatesMayDecide({ temperature: 0, topK: 5, topP: 1 }, V, c)).toBe(false);
    expect(candidatesMayDecide({ temperature: 1, topK: 0, topP: 1 }, V, c)).toBe(false);
    expect(candidatesMayDecide({ temperature: 1, topK: V, topP: 1 }, V, c)).toBe(false);
    expect(candidatesMayDecide({ temperature: 1, topK: c + 1, topP: 0.9 }, V, c)).toBe(false);
    expect(candidatesMayDecide({ temperature: 1, topK: c, topP: 1 }, V, c)).toBe(true);
    expect(candidatesMayDecide({ temperature: 1, topK: 0, topP: 0.9 }, V, c)).toBe(true);
    expect(candidatesMayDecide({ temperature: 1, topK: 2 * V, topP: 0.9 }, V, c)).toBe(true);
    expect(candidatesMayDecide({ temperature: 1, topK: 5, topP: 1 }, c, c)).toBe(false); // c >= V: nothing to save
  });

  it('top-k <= c (with or without top-p): decided exactly, any sum estimate', () => {
    for (let seed = 0; seed < 30; seed++) {
      const row = makeRow(V, seed, 1 + (seed % 4));
      for (const p of [
        { temperature: 0.7, topK: 40, topP: 1 },
        { temperature: 1.3, topK: c, topP: 0.9 },
        { temperature: 1, topK: 1, topP: 0.5 },
        { temperature: 5, topK: 20, topP: 0.999 },
      ]) {
        // The sum estimate is not used when top-k <= c: even a wrong one decides.
        expect(checkEqual(row, candidatesOf(row, c, p.temperature, 0, Number.NaN), p)).toBe(true);
      }
    }
  });

  it('top-p alone: whenever it decides it equals sampleToken, with the estimate anywhere in its bound; flat rows refuse', () => {
    let decided = 0;
    let refused = 0;
    for (let seed = 0; seed < 60; seed++) {
      const row = makeRow(V, 100 + seed, [0.3, 1, 3, 6][seed % 4]);
      for (const T of [0.6, 1, 2]) {
        for (const topP of [0.5, 0.9, 0.95, 0.99]) {
          const p = { temperature: T, topK: 0, topP };
          for (const [bias, eps] of [
            [1, 0],
            [1 + 9e-5, 1e-4],
            [1 - 9e-5, 1e-4],
            [1 + 0.009, 0.01],
            [1 - 0.009, 0.01],
          ]) {
            if (checkEqual(row, candidatesOf(row, c, T, bias, eps), p, 16)) decided++;
            else refused++;
          }
        }
      }
    }
    expect(decided).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(50);
  });

  it('top-p at a boundary: refused (the host cannot know the float64 sum to the last bit); a hair inside, decided only with a near-exact estimate', () => {
    for (let seed = 0; seed < 20; seed++) {
      const row = makeRow(V, 300 + seed, 2);
      const T = 1;
      const exact = candidatesOf(row, c, T, 1, 0);
      // topP equal to sampleToken's own acc after 3 tokens: the cut is at 3 only by a rounding hair.
      const max = exact.logits[0];
      let acc = 0;
      for (let i = 0; i < 3; i++) acc += Math.exp((exact.logits[i] - max) / T) / exact.sumExp;
      expect(candidateNucleus(exact, { temperature: T, topK: 0, topP: acc })).toBe(-1);
      const p = { temperature: T, topK: 0, topP: acc * (1 - 1e-9) };
      expect(candidateNucleus(exact, p)).toBe(3);
      expect(checkEqual(row, exact, p)).toBe(true);
      expect(candidateNucleus(candidatesOf(row, c, T, 1, 1e-6), p)).toBe(-1);
    }
  });

  it('refuses: top-k past the candidates, a nucleus past them, no estimate, a non-finite max', () => {
    const row = makeRow(V, 7, 0.2); // nearly flat: the 0.95 nucleus holds hundreds of tokens
    expect(candidateNucleus(candidatesOf(row, c, 1, 1, 0), { temperature: 1, topK: 0, topP: 0.95 })).toBe(-1);
    expect(candidateNucleus(candidatesOf(row, c, 1, 1, 0), { temperature: 1, topK: c + 1, topP: 1 })).toBe(-1);
    expect(candidateNucleus(candidatesOf(row, c, 1, 1, 0), { temperature: 1, topK: 0, topP: 1 })).toBe(-1);
    const peaked = makeRow(V, 8, 6);
    expect(candidateNucleus(candidatesOf(peaked, c, 1, 1, 0), { temperature: 1, topK: 0, topP: 0.5 })).toBeGreaterThan(0);
    // Zeros (a device pass that did not run) and a sum below the candidates' own are refused.
    expect(candidateNucleus(candidatesOf(peaked, c, 1, 0, 1e-4), { temperature: 1, topK: 0, topP: 0.5 })).toBe(-1);
    expect(candidateNucleus(candidatesOf(peaked, c, 1, 1e-3, 1e-4), { temperature: 1, topK: 0, topP: 0.5 })).toBe(-1);
    const inf = candidatesOf(peaked, c, 1, 1, 0);
    inf.logits[0] = Number.POSITIVE_INFINITY;
    expect(candidateNucleus(inf, { temperature: 1, topK: 10, topP: 1 })).toBe(-1);
  });
});
