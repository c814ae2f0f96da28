// The easy-to-hard curriculum of pretraining: which suite mix each step draws from.
// Short problems first (the lookups form there), then the difficulty ceiling rises to the full mix.
import { STANDARD_MIX, type FamilyName, type MixSpec } from '../../tasks/index.js';

export interface CurriculumConfig {
  /** Steps spent on difficulties 1..startMax only. */
  warmSteps: number;
  /** Step at which the ceiling reaches the standard mix's maximum. */
  fullSteps: number;
  /** Ceiling during the warm phase. */
  startMax: number;
  /** Training weight per family (the standard mix weighs them equally); vars problems are short, so
   * a higher vars weight adds lookup practice at little token cost. */
  familyWeights: Partial<Record<FamilyName, number>>;
}

export const DEFAULT_CURRICULUM: CurriculumConfig = { warmSteps: 600, fullSteps: 3000, startMax: 3, familyWeights: { chain: 1, vars: 3 } };

/** The mix used at a given step: the standard mix with a rising difficulty ceiling. */
export function mixAt(step: number, cfg: CurriculumConfig = DEFAULT_CURRICULUM): MixSpec {
  const top = STANDARD_MIX.maxDifficulty;
  let ceiling: number;
  if (step < cfg.warmSteps) ceiling = cfg.startMax;
  else if (step >= cfg.fullSteps) ceiling = top;
  else ceiling = cfg.startMax + Math.floor(((top - cfg.startMax + 1) * (step - cfg.warmSteps)) / (cfg.fullSteps - cfg.warmSteps));
  return { ...STANDARD_MIX, familyWeights: { ...cfg.familyWeights }, maxDifficulty: Math.min(top, ceiling) };
}

/** Parses "warm,full[,startMax]" and optional "chain=1,vars=3" family weights (CLI form). */
export function parseCurriculum(text: string, weights?: string): CurriculumConfig {
  const [w, f, s] = text.split(',').map(Number);
  if (!(w >= 0 && f >= w)) throw new Error(`--curriculum expects warm,full[,startMax] with full >= warm, got '${text}'`);
  const familyWeights: Partial<Record<FamilyName, number>> = { ...DEFAULT_CURRICULUM.familyWeights };
  for (const part of weights ? weights.split(',') : []) {
    const [name, value] = part.split('=');
    if (name !== 'chain' && name !== 'vars') throw new Error(`--family-weights: unknown family '${name}'`);
    familyWeights[name] = Number(value);
  }
  return { warmSteps: w, fullSteps: f, startMax: s || DEFAULT_CURRICULUM.startMax, familyWeights };
}
