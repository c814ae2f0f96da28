// Fixed seed ranges of the reasoning suite: training, validation and the reserved evaluation range.
// Every sampler that feeds training calls assertTrainingSeed so evaluation seeds can never leak in.

/** Seeds below this are reserved for evaluation and never trained or tuned on. */
export const VALIDATION_SEED_START = 1_000_000;
/** Seeds from here on are the only ones the training sampler may use. */
export const TRAINING_SEED_START = 10_000_000;
/** Exclusive upper end of the validation range. */
export const VALIDATION_SEED_END = TRAINING_SEED_START;

export type SeedRange = 'evaluation' | 'validation' | 'training';

/** Which range a seed belongs to; throws on a seed that is not a non-negative safe integer. */
export function seedRange(seed: number): SeedRange {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  if (seed < VALIDATION_SEED_START) return 'evaluation';
  if (seed < VALIDATION_SEED_END) return 'validation';
  return 'training';
}

/** Refuses any seed outside the training range (the guard of every training sampler). */
export function assertTrainingSeed(seed: number): void {
  const range = seedRange(seed);
  if (range !== 'training') {
    throw new Error(`seed ${seed} is in the ${range} range; training uses only seeds >= ${TRAINING_SEED_START}`);
  }
}

/** Refuses any seed outside the validation range. */
export function assertValidationSeed(seed: number): void {
  const range = seedRange(seed);
  if (range !== 'validation') {
    throw new Error(`seed ${seed} is in the ${range} range; validation uses ${VALIDATION_SEED_START}..${VALIDATION_SEED_END - 1}`);
  }
}
