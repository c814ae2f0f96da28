// Training checkpoints: the HF-style model folder (config.json, model.safetensors, tokenizer.json)
// plus optimizer.safetensors (Adam moments) and train-state.json, enough for --resume.
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../model/safetensors.js';
import { buildByteLevelTokenizerConfig, buildByteLevelTokenizerJson } from '../model/tokenizer.js';
import { loadModel, mapParams, saveModel, type LlamaParams, type LoadedModel } from '../model/weights.js';
import type { Adam } from './adam.js';

/** Progress counters stored in train-state.json. */
export interface TrainState {
  step: number;
  /** Next training seed the batcher will draw (>= 10,000,000). */
  nextSeed: number;
  /** Non-padding tokens and scored (solution) tokens seen so far. */
  tokensSeen: number;
  targetsSeen: number;
  /** Wall-clock seconds of training so far (across resumes). */
  elapsedSec: number;
  /** Free-form run settings (for the record; resume takes settings from the command line). */
  settings: Record<string, unknown>;
}

const STATE_FILE = 'train-state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';

/** Writes model + optimizer + state; files go through a temp name so a crash never leaves half a file. */
export function saveCheckpoint(dir: string, params: LlamaParams, adam: Adam | null, state: TrainState): void {
  saveModel(dir, params, { tokenizerJson: buildByteLevelTokenizerJson(), tokenizerConfig: buildByteLevelTokenizerConfig(), dtype: 'F32' });
  if (adam) {
    const { tensors, step } = adam.exportState();
    const bytes = writeSafetensors(new Map(Object.entries(tensors)), 'F32');
    writeFileSync(join(dir, `${OPTIMIZER_FILE}.tmp`), bytes);
    renameSync(join(dir, `${OPTIMIZER_FILE}.tmp`), join(dir, OPTIMIZER_FILE));
    state = { ...state, settings: { ...state.settings, adamStep: step } };
  }
  writeFileSync(join(dir, `${STATE_FILE}.tmp`), `${JSON.stringify(state, null, 2)}\n`);
  renameSync(join(dir, `${STATE_FILE}.tmp`), join(dir, STATE_FILE));
}

export interface LoadedCheckpoint {
  model: LoadedModel;
  state: TrainState | null;
  /** Adam moments by name ("m/<param>", "v/<param>") and the Adam step, when saved. */
  optimizer: { tensors: Record<string, { shape: number[]; data: Float32Array }>; step: number } | null;
}

export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const model = loadModel(dir);
  const statePath = join(dir, STATE_FILE);
  const state = existsSync(statePath) ? (JSON.parse(readFileSync(statePath, 'utf8')) as TrainState) : null;
  const optPath = join(dir, OPTIMIZER_FILE);
  let optimizer: LoadedCheckpoint['optimizer'] = null;
  if (existsSync(optPath)) {
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, v] of readSafetensors(readFileSync(optPath))) tensors[k] = { shape: v.shape, data: v.data };
    optimizer = { tensors, step: Number(state?.settings?.adamStep ?? 0) };
  }
  return { model, state, optimizer };
}

let variableSet = 0;

/** Trainable copies of params: the same structure with every tensor a tf.Variable, keyed by HF name. */
export function toVariables(
  params: LlamaParams,
  trainable: (name: string) => boolean = () => true,
): {
  params: LlamaParams;
  vars: Record<string, tf.Variable>;
} {
  const vars: Record<string, tf.Variable> = {};
  const prefix = `p${variableSet++}`; // tfjs variable names are global: one prefix per trainable copy
  const out = mapParams(params, (t, name) => {
    const v = tf.variable(t, trainable(name), `${prefix}/${name}`);
    if (trainable(name)) vars[name] = v;
    return v;
  });
  return { params: out, vars };
}
