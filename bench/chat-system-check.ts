// Does a chat system message change what the shipped model answers? Runs suite problems greedily on a
// checkpoint three ways: the bare prompt, chat messages with a system turn through the checkpoint's
// template, and the old join (system text + newline + prompt). npx tsx bench/chat-system-check.ts
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generate, type GenerateRequest, initBackend, loadModel } from '../engine/index.js';
import { extractAnswer, problemSet } from '../tasks/index.js';

const SYSTEM = 'You are a helpful assistant.';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'models/reasoner-base' },
      seed: { type: 'string', default: '0' },
      count: { type: 'string', default: '100' },
      out: { type: 'string', default: 'bench/results/chat-system.json' },
    },
  });
  const backend = await initBackend();
  const model = loadModel(values.model!);
  const problems = problemSet(Number(values.seed), Number(values.count));
  const context = model.config.maxPositionEmbeddings;
  const variants: Record<string, (prompt: string) => Pick<GenerateRequest, 'prompt' | 'messages'>> = {
    prompt: (prompt) => ({ prompt }),
    chat_with_system: (prompt) => ({
      prompt,
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: prompt },
      ],
    }),
    old_join_with_system: (prompt) => ({ prompt: `${SYSTEM}\n${prompt}` }),
  };
  const rows: Record<string, { correct: number; problems: number; accuracy: number }> = {};
  for (const [name, make] of Object.entries(variants)) {
    const requests: GenerateRequest[] = problems.map((p, i) => {
      const r = make(p.prompt);
      const used = r.messages ? model.tokenizer.encodeChat(r.messages).length : model.tokenizer.encodePrompt(r.prompt).length;
      return { id: String(i), ...r, maxTokens: context - used, temperature: 0 };
    });
    const results = await generate(model, requests, { maxBatch: 64 });
    const correct = results.filter((r, i) => (r.answer ?? extractAnswer(r.threads[0].text)) === problems[i].answer).length;
    rows[name] = { correct, problems: problems.length, accuracy: correct / problems.length };
    console.log(name, rows[name]);
  }
  const doc = { date: new Date().toISOString(), model: values.model, backend, seeds: `${values.seed}..+${Number(values.count) - 1}`, system: SYSTEM, rows };
  writeFileSync(values.out!, `${JSON.stringify(doc, null, 2)}\n`);
  model.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
