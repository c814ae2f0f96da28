// A thread whose very first sampled token ends the sequence finishes with empty text and reason stop
// through generate() (regression: decoding the empty id list used to throw).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, initBackend } from '../../engine/index.js';
import { loadModel, type LoadedModel } from '../../engine/model/weights.js';
import { tinyConfig, writeRandomModel } from './helpers.js';

let dir: string;
let model: LoadedModel;

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'gen-eos-'));
  writeRandomModel(dir, tinyConfig(), 31);
  model = loadModel(dir);
});

afterAll(() => {
  model.dispose();
  rmSync(dir, { recursive: true });
});

describe('generate: eos as the first token', () => {
  it('finishes the thread with empty text and reason stop', async () => {
    const req = { id: 'a', prompt: 'Q:1+2=', maxTokens: 4, temperature: 0 };
    const [probe] = await generate(model, [req]);
    const first = model.tokenizer.encode(probe.threads[0].text)[0]; // byte-level: the first greedy token
    expect(first).toBeGreaterThanOrEqual(0);
    // Declare that token end-of-sequence: greedy decoding now stops on its first token.
    model.params.config.eosTokenIds = [first];
    const [r] = await generate(model, [{ ...req, n: 2 }]);
    expect(r.threads.map((t) => [t.text, t.finishReason, t.completionTokens])).toEqual([
      ['', 'stop', 1],
      ['', 'stop', 1],
    ]);
    expect(r.answer).toBeNull();
  });
});
