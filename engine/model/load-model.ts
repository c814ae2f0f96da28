// Loads a checkpoint folder strictly: every tensor the config needs, with its shape, and nothing the
// config does not consume; tensors read one at a time from disk and converted once to f32 (tfjs params).
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { indexCheckpoint, readTensor, type StoredTensor } from './checkpoint-reader.js';
import { type ModelConfig, parseModelConfig } from './config.js';
import { Tokenizer } from './tokenizer.js';
import { disposeParams, LAYER_ROLES, type LayerParams, type LlamaParams, type LoadedModel, layerTensorName, type Role } from './weights.js';

/** Buffers transformers recomputes and never loads (older Llama checkpoints carry them). */
const IGNORED_TENSOR = /\.rotary_emb\.inv_freq$/;

/** Every tensor name the config consumes, with the shape it needs (as stored: [out, in]) and its role layout. */
export function expectedTensors(cfg: ModelConfig, hasLmHead: boolean): Map<string, { shape: number[]; transposed: boolean }> {
  const out = new Map<string, { shape: number[]; transposed: boolean }>();
  out.set('model.embed_tokens.weight', { shape: [cfg.vocabSize, cfg.hiddenSize], transposed: false });
  for (let i = 0; i < cfg.numLayers; i++) {
    for (const spec of LAYER_ROLES) {
      if (!spec.present(cfg)) continue;
      const shape = spec.shape(cfg);
      out.set(layerTensorName(cfg, i, spec), { shape: spec.transposed ? [shape[1], shape[0]] : shape, transposed: spec.transposed });
    }
  }
  out.set('model.norm.weight', { shape: [cfg.hiddenSize], transposed: false });
  if (hasLmHead) out.set('lm_head.weight', { shape: [cfg.vocabSize, cfg.hiddenSize], transposed: true });
  return out;
}

/**
 * Strict loading, tensor side: every tensor the config needs is present with its shape, and every
 * tensor of the checkpoint is consumed (a stray one means the checkpoint computes something else).
 */
function checkTensorSet(cfg: ModelConfig, stored: Map<string, StoredTensor>): Map<string, { shape: number[]; transposed: boolean }> {
  if (!cfg.tieWordEmbeddings && !stored.has('lm_head.weight')) throw new Error('checkpoint: missing tensor "lm_head.weight" and tie_word_embeddings is false');
  const want = expectedTensors(cfg, !cfg.tieWordEmbeddings);
  for (const [name, { shape }] of want) {
    const t = stored.get(name);
    if (!t) throw new Error(`checkpoint: missing tensor "${name}" (expected shape [${shape}])`);
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))
      throw new Error(`checkpoint: tensor "${name}" has shape [${t.shape}] but the config needs [${shape}]`);
  }
  const stray = [...stored.keys()].filter((n) => !want.has(n) && !IGNORED_TENSOR.test(n) && !(n === 'lm_head.weight' && cfg.tieWordEmbeddings));
  if (stray.length > 0) {
    const shown = stray
      .slice(0, 5)
      .map((n) => `"${n}"`)
      .join(', ');
    throw new Error(
      `checkpoint: ${stray.length} tensor(s) the model does not consume (${shown}${stray.length > 5 ? ', ...' : ''}): not implemented by this config, refused rather than ignored`,
    );
  }
  return want;
}

/** A checkpoint folder after the strict checks, before any tensor data is read. */
export interface OpenedCheckpoint {
  config: ModelConfig;
  /** Every stored tensor by name (headers only). */
  stored: Map<string, StoredTensor>;
  /** Every tensor the config consumes, with its stored shape. */
  want: Map<string, { shape: number[]; transposed: boolean }>;
  tokenizer: Tokenizer;
}

/**
 * Reads config.json, the safetensors headers (one file or an index of shards) and tokenizer.json, and
 * runs every strict check: config values not implemented, missing / misshapen / unconsumed tensors,
 * a tied head that differs. No weight is read except for the tied-head comparison. `checkSize` runs
 * before that (a backend refusing a model too large for it).
 */
export function openCheckpoint(dir: string, checkSize: (want: OpenedCheckpoint['want']) => void = () => {}): OpenedCheckpoint {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new Error(`loadModel: ${cfgPath} not found`);
  const config = parseModelConfig(JSON.parse(readFileSync(cfgPath, 'utf8')));
  const stored = indexCheckpoint(dir);
  const want = checkTensorSet(config, stored);
  checkSize(want);
  const tokenizer = Tokenizer.fromDir(dir);
  if (config.tieWordEmbeddings && stored.has('lm_head.weight')) checkTiedHead(stored);
  return { config, stored, want, tokenizer };
}

/**
 * Loads config.json + model.safetensors (or a sharded index) + tokenizer.json from a folder into tfjs
 * params. Tensors are read one at a time and converted once to float32 in the layout the engine uses
 * (tfjs has no f16 tensors), so peak memory is the model plus one tensor. The webgpu backend loads to
 * the device instead (loadModelForBackend).
 */
export function loadModel(dir: string): LoadedModel {
  const { config, stored, want, tokenizer } = openCheckpoint(dir, checkBackendFits);
  const made: tf.Tensor[] = [];
  const take = (name: string): tf.Tensor => {
    const spec = want.get(name)!;
    const t = stored.get(name)!;
    const shape = spec.transposed ? [spec.shape[1], spec.shape[0]] : spec.shape;
    const out = tf.tensor(readTensor(t, spec.transposed), shape, 'float32');
    made.push(out);
    return out;
  };
  try {
    const layers = Array.from({ length: config.numLayers }, (_, i) => {
      const layer = {} as Record<Role, tf.Tensor | null>;
      for (const spec of LAYER_ROLES) layer[spec.role] = spec.present(config) ? take(layerTensorName(config, i, spec)) : null;
      return layer as unknown as LayerParams;
    });
    const params: LlamaParams = {
      config,
      embed: take('model.embed_tokens.weight') as tf.Tensor2D,
      layers,
      finalNorm: take('model.norm.weight') as tf.Tensor1D,
      lmHead: config.tieWordEmbeddings ? null : (take('lm_head.weight') as tf.Tensor2D),
    };
    return { dir, config, params, weights: params, tokenizer, dispose: () => disposeParams(params) };
  } catch (err) {
    for (const t of made) t.dispose();
    throw err;
  }
}

/** The most bytes of tensors the wasm backend can hold: its WebAssembly memory is 32-bit (4 GiB minus 64 KiB). */
const WASM_HEAP_MAX = 4294901760;

/**
 * Refuses up front a model the wasm backend can not hold, rather than failing half-loaded: serving
 * needs the f32 weights plus about as much again for the runner's fused copies.
 */
function checkBackendFits(want: Map<string, { shape: number[] }>): void {
  if (tf.getBackend() !== 'wasm') return;
  const bytes = 4 * [...want.values()].reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
  if (2 * bytes > WASM_HEAP_MAX)
    throw new Error(
      `loadModel: ${(bytes / 2 ** 30).toFixed(2)} GiB of f32 weights (about twice that while serving) do not fit the wasm backend's 4 GiB memory; use DMS_BACKEND=cpu or tensorflow`,
    );
}

/** A tied checkpoint that also stores lm_head.weight must store the embedding there, else it is not tied. */
function checkTiedHead(stored: Map<string, StoredTensor>): void {
  const head = stored.get('lm_head.weight')!;
  const embed = stored.get('model.embed_tokens.weight')!;
  const same = head.shape.length === embed.shape.length && head.shape.every((s, i) => s === embed.shape[i]);
  const a = same ? readTensor(head) : null;
  const b = same ? readTensor(embed) : null;
  if (!a || !b || a.some((v, i) => v !== b[i]))
    throw new Error('checkpoint: tie_word_embeddings is true but lm_head.weight differs from model.embed_tokens.weight; refused (which one would be meant?)');
}
