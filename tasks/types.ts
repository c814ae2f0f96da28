// Plain data types shared by the task families: a problem, its per-token roles, a family's interface.
// Roles label every solution character so training can report accuracy per kind of step.

/**
 * What a solution character asks of the model:
 * - label: a locally derivable marker (next label, round digit, uppercase of the last variable)
 * - copy: the token right after a marker earlier in the context (the single-hop lookup)
 * - value: a locally computed result (running sum mod 10)
 * - answer: the final answer digits after "A:"
 * - sep: punctuation fixed by the format
 */
export type Role = 'label' | 'copy' | 'value' | 'answer' | 'sep';
export const ROLES: readonly Role[] = ['label', 'copy', 'value', 'answer', 'sep'];

export type FamilyName = 'chain' | 'vars';

/** One generated problem: prompt for the model, worked solution (ending in "A:<answer>"), answer. */
export interface Problem {
  family: FamilyName;
  seed: number;
  difficulty: number;
  prompt: string;
  /** Worked solution the model should generate after the prompt, ending with "A:" + answer. */
  solution: string;
  answer: string;
  /** One role per solution character (same length as solution). */
  roles: Role[];
}

/** A procedural task family. */
export interface Family {
  name: FamilyName;
  /** Lowest and highest difficulty accepted by generate. */
  minDifficulty: number;
  maxDifficulty: number;
  /** Deterministic: the same (seed, difficulty) always gives the same problem. */
  generate(seed: number, difficulty: number): Problem;
}

export function checkDifficulty(family: Family, difficulty: number): void {
  if (!Number.isInteger(difficulty) || difficulty < family.minDifficulty || difficulty > family.maxDifficulty) {
    throw new Error(`${family.name}: difficulty must be an integer in ${family.minDifficulty}..${family.maxDifficulty}, got ${difficulty}`);
  }
}
