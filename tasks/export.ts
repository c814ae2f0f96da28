// Export of a problem set as JSONL jobs for the API ({custom_id, prompt, params, expected_answer} per
// line, so the service grades them), and the inverse: custom_id -> the problem, to verify results offline.
import { generateProblem } from './mix.js';
import type { FamilyName, Problem } from './types.js';

/** Generation parameters attached to every exported request. */
export interface JobParams {
  max_tokens: number;
  temperature: number;
  n: number;
}

export interface JobLine {
  custom_id: string;
  prompt: string;
  params: JobParams;
  /** The problem's answer: the service grades the result (`correct`) and the job's accuracy against it. */
  expected_answer: string;
}

export const DEFAULT_JOB_PARAMS: JobParams = { max_tokens: 768, temperature: 0, n: 1 };

/** "chain-d7-s123": family, difficulty and seed, enough to regenerate the problem. */
export function customIdOf(p: Pick<Problem, 'family' | 'difficulty' | 'seed'>): string {
  return `${p.family}-d${p.difficulty}-s${p.seed}`;
}

export function parseCustomId(id: string): { family: FamilyName; difficulty: number; seed: number } {
  const m = /^(chain|vars)-d(\d+)-s(\d+)$/.exec(id);
  if (!m) throw new Error(`not a suite custom_id: '${id}'`);
  return { family: m[1] as FamilyName, difficulty: Number(m[2]), seed: Number(m[3]) };
}

/** The problem behind a custom_id (regenerated deterministically). */
export function problemOfCustomId(id: string): Problem {
  const { family, difficulty, seed } = parseCustomId(id);
  return generateProblem(family, seed, difficulty);
}

export function toJobLine(p: Problem, params: Partial<JobParams> = {}): JobLine {
  return { custom_id: customIdOf(p), prompt: p.prompt, params: { ...DEFAULT_JOB_PARAMS, ...params }, expected_answer: p.answer };
}

/** JSONL text, one job per line, newline-terminated. */
export function toJsonl(problems: readonly Problem[], params: Partial<JobParams> = {}): string {
  return problems.map((p) => `${JSON.stringify(toJobLine(p, params))}\n`).join('');
}
