// Greedy generation check for training runs (not the product's eval command): generates the
// solutions of validation problems with the engine and reports exact answers per family and difficulty.
// npx tsx engine/train/greedy-check.ts --model models/reasoner-base [--count 40] [--method dms --ratio 4]
import { parseArgs } from 'node:util';
import { generate, initBackend, loadModel } from '../index.js';
import { problemSet, STANDARD_MIX, VALIDATION_SEED_START, verifyAnswer } from '../../tasks/index.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'models/reasoner-base' },
      count: { type: 'string', default: '40' },
      'seed-start': { type: 'string', default: String(VALIDATION_SEED_START) },
      'max-tokens': { type: 'string', default: '700' },
      method: { type: 'string' },
      ratio: { type: 'string' },
    },
  });
  const seedStart = Number(values['seed-start']);
  if (seedStart < VALIDATION_SEED_START) throw new Error('greedy-check uses validation seeds (>= 1,000,000); evaluation seeds belong to the eval command');
  await initBackend();
  const model = loadModel(values.model as string);
  const problems = problemSet(seedStart, Number(values.count), STANDARD_MIX);
  const compression = values.method ? { method: values.method, ratio: Number(values.ratio ?? 1) } : undefined;
  const t0 = performance.now();
  const results = await generate(
    model,
    problems.map((p, i) => ({
      id: String(i),
      prompt: p.prompt,
      maxTokens: Number(values['max-tokens']),
      temperature: 0,
      ...(compression ? { compression: compression as never } : {}),
    })),
  );
  const groups = new Map<string, [number, number]>();
  let correct = 0;
  let exactText = 0;
  let seen = 0;
  let retained = 0;
  results.forEach((r, i) => {
    const p = problems[i];
    const text = r.threads[0].text;
    const ok = verifyAnswer(text, p.answer);
    if (ok) correct++;
    if (text === p.solution) exactText++;
    // Token-weighted as everywhere (dms.md section 6): ratio x retained is the tokens seen.
    seen += r.usage.achievedRatio * r.usage.kvTokensRetained;
    retained += r.usage.kvTokensRetained;
    for (const key of [p.family, `d${p.difficulty}`]) {
      const g = groups.get(key) ?? [0, 0];
      groups.set(key, [g[0] + (ok ? 1 : 0), g[1] + 1]);
    }
  });
  const sec = (performance.now() - t0) / 1000;
  const table = [...groups]
    .sort()
    .map(([k, [c, n]]) => `${k}:${c}/${n}`)
    .join(' ');
  console.log(table);
  console.log(
    JSON.stringify({
      accuracy: correct / problems.length,
      exact_solutions: exactText / problems.length,
      problems: problems.length,
      achieved_ratio: retained > 0 ? seen / retained : 1,
      seconds: Math.round(sec),
    }),
  );
  model.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
