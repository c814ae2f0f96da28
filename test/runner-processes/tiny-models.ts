// Tiny random-weight checkpoints in the real format (config.json, model.safetensors, byte-level
// tokenizer.json) for end-to-end tests: `tiny-base` and `tiny-dms-r4`, served as model "tiny".
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../engine/backend.js';
import { buildByteLevelTokenizerConfig, buildByteLevelTokenizerJson } from '../../engine/model/tokenizer.js';
import { disposeParams, type LlamaParams, saveModel } from '../../engine/model/weights.js';
import { randomParams, tinyConfig } from '../engine/helpers.js';

function write(dir: string, name: string, params: LlamaParams): void {
  saveModel(join(dir, name), params, { tokenizerJson: buildByteLevelTokenizerJson(), tokenizerConfig: buildByteLevelTokenizerConfig() });
  disposeParams(params);
}

/** Writes the two checkpoints into a new temp folder (or `dir`) and returns it; use as DMS_MODELS_DIR. */
export async function writeTinyModels(dir = mkdtempSync(join(tmpdir(), 'dms-tiny-'))): Promise<string> {
  await initBackend();
  write(dir, 'tiny-base', randomParams(tinyConfig({ max_position_embeddings: 512 }), 3));
  write(dir, 'tiny-dms-r4', randomParams(tinyConfig({ max_position_embeddings: 512, dms: { mode: 'adapter', window: 2, offset: -2 } }), 4, 0.08));
  return dir;
}

// `tsx test/runner-processes/tiny-models.ts DIR` writes them from the command line.
if (import.meta.url === `file://${process.argv[1]}`) {
  writeTinyModels(process.argv[2]).then((dir) => console.log(dir));
}
