// The pretraining loop: Adam with warmup + cosine lr and clipping, loss on solution tokens only,
// curriculum batches from the suite, per-step CSV with per-role accuracy, checkpoints and resume.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { problemSet, VALIDATION_SEED_START } from '../../tasks/index.js';
import type { ModelConfig } from '../model/config.js';
import { forwardDense } from '../model/llama.js';
import { disposeParams, initParams, type LlamaParams } from '../model/weights.js';
import { Adam, DEFAULT_ADAM, learningRate } from './adam.js';
import { loadCheckpoint, saveCheckpoint, toVariables, type TrainState } from './checkpoint.js';
import { CsvLog } from './csv-log.js';
import { DEFAULT_CURRICULUM, mixAt, type CurriculumConfig } from './curriculum.js';
import { maskedCrossEntropy, summarize, tokenStats } from './lm-loss.js';
import { SuiteBatcher, type Batch } from './suite-data.js';
import { teacherForced } from './teacher-forced.js';

export interface PretrainConfig {
  /** Checkpoint folder (HF-style) written every checkpointEvery steps and at exit. */
  outDir: string;
  /** Folder for train.csv / val.csv (created). */
  logDir: string;
  /** Run name used for the log file names. */
  name: string;
  /** Model shape for a fresh run (ignored on resume: the checkpoint's config wins). */
  model: ModelConfig;
  /** Stop after this many steps in total (resume continues up to it). */
  steps: number;
  /** Max padded tokens per batch (B * T). */
  tokenBudget: number;
  lr: number;
  warmupSteps: number;
  /** Step where the cosine decay starts (constant lr from warmup until then). */
  decayStart: number;
  /** Step where the cosine decay ends (lr = minLrRatio * lr from there); usually = steps. */
  decaySteps: number;
  minLrRatio: number;
  clipNorm: number;
  weightDecay: number;
  curriculum: CurriculumConfig;
  checkpointEvery: number;
  validateEvery: number;
  validationCount: number;
  initSeed: number;
  resume: boolean;
  /** Fresh run (step 0, new optimizer and curriculum) starting from this checkpoint's weights, or null. */
  initFrom: string | null;
  /** Stop (and checkpoint) after this many seconds of this process (0 = no limit). */
  timeLimitSec: number;
}

export const DEFAULT_PRETRAIN: Omit<PretrainConfig, 'outDir' | 'logDir' | 'name' | 'model'> = {
  steps: 20000,
  tokenBudget: 2048,
  lr: 1e-3,
  warmupSteps: 200,
  decayStart: 200,
  decaySteps: 20000,
  minLrRatio: 0.1,
  clipNorm: 1.0,
  weightDecay: 0.0,
  curriculum: DEFAULT_CURRICULUM,
  checkpointEvery: 250,
  validateEvery: 500,
  validationCount: 96,
  initSeed: 1,
  resume: false,
  initFrom: null,
  timeLimitSec: 0,
};

export interface StepResult {
  loss: number;
  gradNorm: number;
  pred: Int32Array;
}

/** One optimisation step on a batch; leaves no tensors behind. */
export function trainStep(params: LlamaParams, vars: Record<string, tf.Variable>, adam: Adam, batch: Batch, lr: number): StepResult {
  const { batchSize: B, seqLen: T } = batch;
  const ids = tf.tensor2d(batch.ids, [B, T], 'int32');
  const targets = tf.tensor2d(batch.targets, [B, T], 'int32');
  const mask = tf.tensor2d(batch.mask, [B, T]);
  let predT: tf.Tensor | null = null;
  const names = Object.keys(vars);
  const byVarName = new Map(names.map((n) => [vars[n].name, n]));
  const { value, grads } = tf.variableGrads(
    () => {
      const { logits } = forwardDense(params, ids); // [B, T, V]
      predT = tf.keep(tf.argMax(logits, -1)); // [B, T]
      return maskedCrossEntropy(logits, targets, mask);
    },
    names.map((n) => vars[n]),
  );
  const named: Record<string, tf.Tensor> = {};
  for (const [varName, g] of Object.entries(grads)) named[byVarName.get(varName) as string] = g;
  const gradNorm = adam.apply(named, lr);
  const loss = value.dataSync()[0];
  const pred = (predT as unknown as tf.Tensor).dataSync() as Int32Array;
  tf.dispose([value, ids, targets, mask, predT as unknown as tf.Tensor, ...Object.values(grads)]);
  return { loss, gradNorm, pred };
}

/** Runs (or resumes) pretraining; returns the final state. */
export async function pretrain(cfg: PretrainConfig): Promise<TrainState> {
  let base: LlamaParams;
  let state: TrainState = { step: 0, nextSeed: 10_000_000, tokensSeen: 0, targetsSeen: 0, elapsedSec: 0, settings: {} };
  let optState: ReturnType<typeof loadCheckpoint>['optimizer'] = null;
  if (cfg.resume) {
    const ck = loadCheckpoint(cfg.outDir);
    base = ck.model.params;
    if (ck.state) state = ck.state;
    optState = ck.optimizer;
    console.log(`resumed ${cfg.outDir} at step ${state.step} (${state.tokensSeen} tokens)`);
  } else if (cfg.initFrom) {
    base = loadCheckpoint(cfg.initFrom).model.params;
    console.log(`fresh run from the weights of ${cfg.initFrom}`);
  } else {
    base = initParams(cfg.model, cfg.initSeed);
  }
  const { params, vars } = toVariables(base);
  disposeParams(base); // the variables hold their own references to the data
  const adam = new Adam(vars, { ...DEFAULT_ADAM, clipNorm: cfg.clipNorm, weightDecay: cfg.weightDecay });
  if (optState) adam.importState(optState.tensors, optState.step);

  const settings = { ...cfg, model: undefined };
  const log = new CsvLog(join(cfg.logDir, `${cfg.name}-train.csv`), cfg.resume);
  const valLog = new CsvLog(join(cfg.logDir, `${cfg.name}-val.csv`), cfg.resume);
  const batcher = new SuiteBatcher(state.nextSeed, cfg.tokenBudget);
  const validation = problemSet(VALIDATION_SEED_START, cfg.validationCount);
  let stop = false;
  const onSignal = () => (stop = true);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  const save = () => saveCheckpoint(cfg.outDir, params, adam, { ...state, nextSeed: batcher.nextSeed, settings });

  while (state.step < cfg.steps && !stop) {
    await new Promise((resolve) => setImmediate(resolve)); // lets SIGINT/SIGTERM handlers run
    if (cfg.timeLimitSec > 0 && (Date.now() - started) / 1000 > cfg.timeLimitSec) break;
    const mix = mixAt(state.step, cfg.curriculum);
    const batch = batcher.next(mix);
    const lr = learningRate(state.step, cfg.lr, cfg.warmupSteps, cfg.decaySteps, cfg.minLrRatio, cfg.decayStart);
    const t0 = performance.now();
    const r = trainStep(params, vars, adam, batch, lr);
    const sec = (performance.now() - t0) / 1000;
    state.step += 1;
    state.tokensSeen += batch.numTokens;
    state.targetsSeen += batch.numTargets;
    state.elapsedSec += sec;
    const acc = summarize(tokenStats(r.pred, batch));
    log.write({
      step: state.step,
      lr,
      loss: r.loss,
      grad_norm: r.gradNorm,
      max_difficulty: mix.maxDifficulty,
      batch: batch.batchSize,
      seq_len: batch.seqLen,
      tokens: state.tokensSeen,
      tokens_per_s: batch.numTokens / sec,
      padded_tokens_per_s: (batch.batchSize * batch.seqLen) / sec,
      elapsed_s: state.elapsedSec,
      ...acc,
    });
    if (state.step % 25 === 0) {
      console.log(
        `step ${state.step} loss ${r.loss.toFixed(4)} copy ${acc.acc_copy?.toFixed(3)} value ${acc.acc_value?.toFixed(3)} exact ${acc.exact.toFixed(2)} tok/s ${(batch.numTokens / sec).toFixed(0)} dmax ${mix.maxDifficulty} tensors ${tf.memory().numTensors}`,
      );
    }
    if (state.step % cfg.validateEvery === 0 || state.step === cfg.steps) {
      const v = teacherForced(params, validation);
      const row: Record<string, number> = { step: state.step, tokens: state.tokensSeen, val_loss: v.loss, ...v.overall };
      for (const key of ['chain', 'vars', ...Array.from({ length: 10 }, (_, i) => `d${i + 1}`)]) row[`exact_${key}`] = v.groups[key]?.exact ?? NaN;
      valLog.write(row);
      console.log(`validation step ${state.step}: loss ${v.loss.toFixed(4)} exact ${v.overall.exact.toFixed(3)} copy ${v.overall.acc_copy.toFixed(3)}`);
    }
    if (state.step % cfg.checkpointEvery === 0) save();
  }
  save();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  adam.dispose();
  tf.dispose(Object.values(vars));
  return { ...state, nextSeed: batcher.nextSeed };
}
