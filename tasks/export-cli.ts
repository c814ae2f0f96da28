// Command line: write a problem set as JSONL API jobs to stdout (or --out FILE).
// npx tsx tasks/export-cli.ts --seed-start 0 --count 100 [--family chain --difficulty 7] [--max-tokens 768]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateProblem, problemSet } from './mix.js';
import { toJsonl } from './export.js';
import type { FamilyName, Problem } from './types.js';

const { values } = parseArgs({
  options: {
    'seed-start': { type: 'string', default: '0' },
    count: { type: 'string', default: '100' },
    family: { type: 'string' },
    difficulty: { type: 'string' },
    'max-tokens': { type: 'string', default: '768' },
    n: { type: 'string', default: '1' },
    temperature: { type: 'string', default: '0' },
    out: { type: 'string' },
  },
});

const start = Number(values['seed-start']);
const count = Number(values.count);
let problems: Problem[];
if (values.family) {
  if (!values.difficulty) throw new Error('--family needs --difficulty');
  const family = values.family as FamilyName;
  const d = Number(values.difficulty);
  problems = Array.from({ length: count }, (_, i) => generateProblem(family, start + i, d));
} else {
  problems = problemSet(start, count);
}
const text = toJsonl(problems, {
  max_tokens: Number(values['max-tokens']),
  n: Number(values.n),
  temperature: Number(values.temperature),
});
if (values.out) writeFileSync(values.out, text);
else process.stdout.write(text);
