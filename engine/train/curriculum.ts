// The easy-to-hard curriculum of pretraining: which suite mix each step draws from.
// Short problems first (the lookups form there), then the difficulty ceiling rises to the full mix.
import { STANDARD_MIX, type MixSpec } from '../../tasks/index.js';

export interface CurriculumConfig {
  /** Steps spent on difficulties 1..startMax only. */
  warmSteps: number;
  /** Step at which the ceiling reaches the standard mix's maximum. */
  fullSteps: number;
  /** Ceiling during the warm phase. */
  startMax: number;
}

export const DEFAULT_CURRICULUM: CurriculumConfig = { warmSteps: 600, fullSteps: 3000, startMax: 3 };

/** The mix used at a given step: the standard mix with a rising difficulty ceiling. */
export function mixAt(step: number, cfg: CurriculumConfig = DEFAULT_CURRICULUM): MixSpec {
  const top = STANDARD_MIX.maxDifficulty;
  let ceiling: number;
  if (step < cfg.warmSteps) ceiling = cfg.startMax;
  else if (step >= cfg.fullSteps) ceiling = top;
  else ceiling = cfg.startMax + Math.floor(((top - cfg.startMax + 1) * (step - cfg.warmSteps)) / (cfg.fullSteps - cfg.warmSteps));
  return { ...STANDARD_MIX, maxDifficulty: Math.min(top, ceiling) };
}

/** Parses "warm,full[,startMax]" (CLI form). */
export function parseCurriculum(text: string): CurriculumConfig {
  const [w, f, s] = text.split(',').map(Number);
  if (!(w >= 0 && f >= w)) throw new Error(`--curriculum expects warm,full[,startMax] with full >= warm, got '${text}'`);
  return { warmSteps: w, fullSteps: f, startMax: s || DEFAULT_CURRICULUM.startMax };
}
