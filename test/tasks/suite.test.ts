// Tests of the reasoning suite: determinism, seed ranges, solution correctness, lengths, export.
import { describe, expect, it } from 'vitest';
import { JobRequestSchema } from '../../protocol/index.js';
import {
  assertTrainingSeed,
  chainFamily,
  customIdOf,
  extractAnswer,
  FAMILY_NAMES,
  generateProblem,
  majorityAnswer,
  parseCustomId,
  problemFromMix,
  problemOfCustomId,
  problemSet,
  seedRange,
  STANDARD_MIX,
  pickFromMix,
  toJsonl,
  verifyAnswer,
  varsFamily,
  type Problem,
} from '../../tasks/index.js';

/** Independent re-solver of a chain prompt (does not reuse the generator's code path). */
function solveChain(prompt: string): string {
  const m = /^C(\d):((?:[a-z][\d.])+)=$/.exec(prompt);
  if (!m) throw new Error(`bad chain prompt ${prompt}`);
  const items = m[2].match(/[a-z][\d.]/g)!;
  const terminators = items.filter((s) => s[1] === '.');
  if (terminators.length !== 1) throw new Error('one terminator expected');
  const digits = items.filter((s) => s[1] !== '.').map((s) => Number(s[1]));
  // labels must be exactly a.. up to the terminator
  const labels = items
    .map((s) => s[0])
    .sort()
    .join('');
  if (labels !== 'abcdefghijklmnopqrstuvwxyz'.slice(0, items.length) || terminators[0][0] !== labels[labels.length - 1]) throw new Error('labels');
  let v = 0;
  for (let r = 0; r < Number(m[1]); r++) for (const d of digits) v = (v + d) % 10;
  return String(v);
}

/** Independent re-solver of a vars prompt. */
function solveVars(prompt: string): string {
  const m = /^@:(.*) \?([A-Z])=$/.exec(prompt);
  if (!m) throw new Error(`bad vars prompt ${prompt}`);
  const table = new Map(m[1].split(' ').map((a) => [a[0], a[1]] as const));
  let cur = m[2];
  for (let i = 0; i < 30 && /[A-Z]/.test(cur); i++) cur = table.get(cur.toLowerCase())!;
  return cur;
}

describe('seed ranges', () => {
  it('classifies and guards seeds', () => {
    expect(seedRange(0)).toBe('evaluation');
    expect(seedRange(999_999)).toBe('evaluation');
    expect(seedRange(1_000_000)).toBe('validation');
    expect(seedRange(9_999_999)).toBe('validation');
    expect(seedRange(10_000_000)).toBe('training');
    expect(() => assertTrainingSeed(999_999)).toThrow(/evaluation/);
    expect(() => assertTrainingSeed(5_000_000)).toThrow(/validation/);
    expect(() => assertTrainingSeed(10_000_000)).not.toThrow();
    expect(() => seedRange(-1)).toThrow();
  });
});

describe('families', () => {
  it('are deterministic and differ across seeds', () => {
    for (const f of FAMILY_NAMES) {
      expect(generateProblem(f, 42, 5)).toEqual(generateProblem(f, 42, 5));
      expect(generateProblem(f, 42, 5).prompt).not.toBe(generateProblem(f, 43, 5).prompt);
    }
  });

  it('produce solutions that end in the answer, with one role per character and correct answers', () => {
    for (const family of [chainFamily, varsFamily]) {
      for (let d = family.minDifficulty; d <= family.maxDifficulty; d++) {
        for (let seed = 100; seed < 130; seed++) {
          const p = family.generate(seed, d);
          expect(p.roles.length).toBe(p.solution.length);
          expect(p.solution.endsWith(`A:${p.answer}`)).toBe(true);
          expect(extractAnswer(p.solution)).toBe(p.answer);
          expect(p.answer).toBe(family.name === 'chain' ? solveChain(p.prompt) : solveVars(p.prompt));
          expect(/^[\x20-\x7e]*$/.test(p.prompt + p.solution)).toBe(true);
        }
      }
    }
  });

  it('grow with difficulty up to 500+ solution tokens', () => {
    const mean = (d: number) => {
      const ps = Array.from({ length: 20 }, (_, i) => generateProblem('chain', 1000 + i, d));
      return ps.reduce((s, p) => s + p.solution.length, 0) / ps.length;
    };
    for (let d = 2; d <= 10; d++) expect(mean(d)).toBeGreaterThan(mean(d - 1));
    expect(mean(1)).toBeLessThan(40);
    expect(mean(10)).toBeGreaterThan(550);
    for (let i = 0; i < 20; i++) expect(generateProblem('chain', 2000 + i, 10).solution.length).toBeGreaterThanOrEqual(500);
    expect(generateProblem('vars', 7, 10).solution.length).toBeGreaterThan(generateProblem('vars', 7, 1).solution.length);
  });

  it('chain copies are single-hop: each payload follows its label in the prompt, in shuffled order', () => {
    const p = generateProblem('chain', 77, 6);
    const sortedPrompts = Array.from({ length: 20 }, (_, i) => generateProblem('chain', 300 + i, 5).prompt).filter((q) => {
      const l = q.slice(3, -1).match(/[a-z]/g)!.join('');
      return l === [...l].sort().join('');
    });
    expect(sortedPrompts.length).toBeLessThan(2); // positions do not give the labels away
    const steps = p.solution.split(';').filter((s) => /^\d[a-z]/.test(s));
    for (const s of steps) expect(p.prompt.includes(s[1] + s[2])).toBe(true);
  });

  it('vars assignments are unique per variable and the chain follows them', () => {
    const p = generateProblem('vars', 99, 9);
    const lhs = p.prompt
      .slice(2)
      .split(' ')
      .slice(0, -1)
      .map((a) => a[0]);
    expect(new Set(lhs).size).toBe(lhs.length);
    expect(lhs.every((c) => /[b-z]/.test(c))).toBe(true);
    // each lowercase letter occurs exactly once in the prompt: the lookup key is unique
    for (const c of lhs) expect(p.prompt.split(c).length - 1).toBe(1);
    for (const step of p.solution.split(' ').slice(0, -1)) expect(p.prompt).toContain(step);
  });

  it('rejects bad difficulties', () => {
    expect(() => generateProblem('chain', 1, 0)).toThrow();
    expect(() => generateProblem('vars', 1, 11)).toThrow();
  });
});

describe('answers', () => {
  it('extracts the text after the last A:', () => {
    expect(extractAnswer('1a3:3;A:7')).toBe('7');
    expect(extractAnswer('A:1 then A: 42 trailing')).toBe('42');
    expect(extractAnswer('no marker')).toBeNull();
    expect(verifyAnswer('xx A:5', '5')).toBe(true);
    expect(verifyAnswer('xx A:56', '5')).toBe(false);
    expect(majorityAnswer(['A:1', 'A:2', 'A:2', 'junk'])).toBe('2');
    expect(majorityAnswer(['junk'])).toBeNull();
  });
});

describe('mix and export', () => {
  it('covers both families and all difficulties', () => {
    const seen = new Set<string>();
    for (let s = 0; s < 400; s++) {
      const { family, difficulty } = pickFromMix(s, STANDARD_MIX);
      seen.add(`${family}-${difficulty}`);
    }
    expect(seen.size).toBe(20);
  });

  it('round-trips problems through JSONL custom ids', () => {
    const set: Problem[] = problemSet(500, 5);
    expect(set[0]).toEqual(problemFromMix(500));
    const lines = toJsonl(set, { max_tokens: 900 })
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBe(5);
    for (let i = 0; i < 5; i++) {
      expect(lines[i].prompt).toBe(set[i].prompt);
      expect(lines[i].params.max_tokens).toBe(900);
      expect(problemOfCustomId(lines[i].custom_id)).toEqual(set[i]);
      expect(lines[i].expected_answer).toBe(set[i].answer);
      // Each exported line is a valid job request as the API takes it, expected answer included.
      expect(JobRequestSchema.parse(lines[i]).expected_answer).toBe(set[i].answer);
    }
    expect(parseCustomId(customIdOf(set[0])).seed).toBe(500);
    expect(() => parseCustomId('nope')).toThrow();
  });
});
