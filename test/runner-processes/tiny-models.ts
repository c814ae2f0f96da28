// Tiny random-weight checkpoints in the real format (config.json, model.safetensors, byte-level
// tokenizer.json) for end-to-end tests: `tiny-base` and `tiny-dms-r4`, served as model "tiny".
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../engine/backend.js';
import { tinyConfig, writeRandomModel } from '../engine/helpers.js';

/** Writes the two checkpoints into a new temp folder (or `dir`) and returns it; use as DMS_MODELS_DIR. */
export async function writeTinyModels(dir = mkdtempSync(join(tmpdir(), 'dms-tiny-'))): Promise<string> {
  await initBackend();
  writeRandomModel(join(dir, 'tiny-base'), tinyConfig({ max_position_embeddings: 512 }), 3);
  writeRandomModel(join(dir, 'tiny-dms-r4'), tinyConfig({ max_position_embeddings: 512, dms: { mode: 'adapter', window: 2, offset: -2 } }), 4, 0.08);
  return dir;
}

// `tsx test/runner-processes/tiny-models.ts DIR` writes them from the command line.
if (import.meta.url === `file://${process.argv[1]}`) {
  writeTinyModels(process.argv[2]).then((dir) => console.log(dir));
}
