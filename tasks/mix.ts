// The suite's families and its "standard difficulty mix": seed -> (family, difficulty) -> problem.
// Evaluation, validation and training all draw problems through here, each from its own seed range.
import { chainFamily } from './chain.js';
import { varsFamily } from './vars.js';
import { makeRng } from './rng.js';
import type { Family, FamilyName, Problem } from './types.js';

export const FAMILIES: Readonly<Record<FamilyName, Family>> = { chain: chainFamily, vars: varsFamily };
export const FAMILY_NAMES: readonly FamilyName[] = ['chain', 'vars'];

/** A distribution over (family, difficulty): weights per family and an inclusive difficulty range. */
export interface MixSpec {
  /** Relative weight of each family (missing = 0). */
  familyWeights: Partial<Record<FamilyName, number>>;
  /** Inclusive difficulty range drawn uniformly (clamped to each family's range). */
  minDifficulty: number;
  maxDifficulty: number;
}

/**
 * The standard mix: both families equally, every difficulty 1..10 equally likely, so the mix spans
 * one-step lookups up to chain problems with 500+ solution tokens.
 */
export const STANDARD_MIX: MixSpec = { familyWeights: { chain: 1, vars: 1 }, minDifficulty: 1, maxDifficulty: 10 };

const MIX_SALT = 0x5eed;

export function generateProblem(family: FamilyName, seed: number, difficulty: number): Problem {
  const f = FAMILIES[family];
  if (!f) throw new Error(`unknown task family '${family}'`);
  return f.generate(seed, difficulty);
}

/** The (family, difficulty) a seed gets under a mix; deterministic. */
export function pickFromMix(seed: number, mix: MixSpec = STANDARD_MIX): { family: FamilyName; difficulty: number } {
  const rng = makeRng(seed, MIX_SALT);
  const entries = FAMILY_NAMES.map((n) => [n, mix.familyWeights[n] ?? 0] as const).filter(([, w]) => w > 0);
  if (entries.length === 0) throw new Error('mix has no family with positive weight');
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let u = rng.next() * total;
  let family = entries[entries.length - 1][0];
  for (const [n, w] of entries) {
    if (u < w) {
      family = n;
      break;
    }
    u -= w;
  }
  const f = FAMILIES[family];
  const lo = Math.max(f.minDifficulty, mix.minDifficulty);
  const hi = Math.min(f.maxDifficulty, mix.maxDifficulty);
  if (lo > hi) throw new Error(`mix difficulty ${mix.minDifficulty}..${mix.maxDifficulty} is empty for ${family}`);
  return { family, difficulty: rng.int(lo, hi) };
}

/** The problem a seed gets under a mix (the standard mix by default). */
export function problemFromMix(seed: number, mix: MixSpec = STANDARD_MIX): Problem {
  const { family, difficulty } = pickFromMix(seed, mix);
  return generateProblem(family, seed, difficulty);
}

/** Problems for seeds start..start+count-1 under a mix. */
export function problemSet(seedStart: number, count: number, mix: MixSpec = STANDARD_MIX): Problem[] {
  return Array.from({ length: count }, (_, i) => problemFromMix(seedStart + i, mix));
}
