// The DMS retrofit loop (dms.md section 4): frozen teacher, KL distillation on real positions,
// Gumbel-sigmoid delayed-eviction bias, one-sided compression loss, ratio schedule, checkpoints.
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { problemSet, STANDARD_MIX, VALIDATION_SEED_START } from '../../tasks/index.js';
import { forwardDense, hardDmsBias } from '../model/llama.js';
import { disposeParams, saveModel, type LlamaParams } from '../model/weights.js';
import { buildByteLevelTokenizerConfig, buildByteLevelTokenizerJson } from '../model/tokenizer.js';
import { Adam, DEFAULT_ADAM } from './adam.js';
import { loadCheckpoint, saveCheckpoint, toVariables, type TrainState } from './checkpoint.js';
import { CsvLog } from './csv-log.js';
import { compressionLoss, decisionMaskOf, farMask, logisticNoise, nextDecisionLogits, softEvictionBias, straightThrough, targetFraction } from './dms-relax.js';
import { makeStudent } from './dms-student.js';
import { checkpointDue, ratioAt, scheduleSteps, type RatioSchedule } from './retrofit-schedule.js';
import { PAD_ID, SuiteBatcher, type Batch } from './suite-data.js';
import { rowLengths, teacherForced } from './teacher-forced.js';

export interface RetrofitConfig {
  /** Base (teacher) checkpoint folder. */
  teacherDir: string;
  /** Checkpoints go to `${outPrefix}-r${R}${suffix}`; suffix "-w<w>" when window != 16, "-neuron" in neuron mode. */
  outPrefix: string;
  logDir: string;
  name: string;
  mode: 'adapter' | 'neuron';
  window: number;
  tau: number;
  schedule: RatioSchedule;
  lr: number;
  tokenBudget: number;
  /** 'all' fine-tunes every weight (the paper); 'predictor' trains only the adapter (adapter mode). */
  train: 'all' | 'predictor';
  /** Validation problems evaluated (teacher-forced, hard mask) at each checkpoint. */
  validationCount: number;
  /** First training seed (>= 10,000,000); distinct from pretraining's range start is fine. */
  seedStart: number;
  /** Resume from the state folder written at each checkpoint. */
  resume: boolean;
  /**
   * How the KD loss averages positions: 'token' (dms.md: the mean over all real positions of the
   * batch, so long sequences dominate) or 'sequence' (each sequence's mean, then the mean over the
   * batch, so a short problem weighs as much as a long one) or 'mixed' (the mean of the two). The
   * last two are experiments, not the method's default.
   */
  kdWeighting: KdWeighting;
}

/** The KD averagings `--kd-weighting` accepts (see RetrofitConfig.kdWeighting). */
export const KD_WEIGHTINGS = ['token', 'sequence', 'mixed'] as const;
export type KdWeighting = (typeof KD_WEIGHTINGS)[number];

/**
 * KL per position [B, T] and real-position mask [B, T] -> the KD loss scalar under `weighting`.
 * No tidy of its own: it runs inside the retrofit step's gradient scope, which owns the intermediates.
 */
export function kdLoss(klPerPos: tf.Tensor2D, real: tf.Tensor2D, weighting: KdWeighting): tf.Scalar {
  const masked = tf.mul(klPerPos, real); // [B, T]
  const perToken = (): tf.Scalar => tf.div(tf.sum(masked), tf.maximum(tf.sum(real), 1)) as tf.Scalar;
  const perSequence = (): tf.Scalar => tf.mean(tf.div(tf.sum(masked, 1), tf.maximum(tf.sum(real, 1), 1))) as tf.Scalar; // mean over B of [B]
  if (weighting === 'token') return perToken();
  if (weighting === 'sequence') return perSequence();
  return tf.mul(0.5, tf.add(perToken(), perSequence())) as tf.Scalar;
}

export const DEFAULT_RETROFIT: Omit<RetrofitConfig, 'teacherDir' | 'outPrefix' | 'logDir' | 'name'> = {
  mode: 'adapter',
  window: 16,
  tau: 0.1,
  schedule: { finalRatio: 8, stepsPerRatio: 100, holdSteps: 0 },
  lr: 5e-4,
  tokenBudget: 2048,
  train: 'all',
  validationCount: 48,
  seedStart: 50_000_000,
  resume: false,
  kdWeighting: 'token',
};

export function outputSuffix(cfg: Pick<RetrofitConfig, 'window' | 'mode'>): string {
  return `${cfg.window !== 16 ? `-w${cfg.window}` : ''}${cfg.mode === 'neuron' ? '-neuron' : ''}`;
}

export interface RetrofitStepResult {
  loss: number;
  kd: number;
  cr: number;
  /** Mean straight-through (noisy) decision fraction over the batch. */
  noisyFraction: number;
  /** Noiseless (inference rule) eviction fraction per layer over real decision positions. */
  layerFractions: number[];
}

/** Optional knobs of one retrofit step. */
export interface RetrofitStepOptions {
  /** Makes the logistic noise reproducible (tests); unset, every step draws fresh noise. */
  noiseSeed?: number;
  /** KD averaging (default 'token', as dms.md). */
  kdWeighting?: KdWeighting;
}

/** One retrofit step; the teacher's log-probs are computed outside the tape. Leaves no tensors. */
export function retrofitStep(
  student: LlamaParams,
  vars: Record<string, tf.Variable>,
  adam: Adam,
  teacher: LlamaParams,
  batch: Batch,
  ratio: number,
  lr: number,
  tau: number,
  { noiseSeed, kdWeighting = 'token' }: RetrofitStepOptions = {},
): RetrofitStepResult {
  const { batchSize: B, seqLen: T } = batch;
  const K = student.config.numKvHeads;
  const window = student.config.dms!.window;
  const lengths = rowLengths(batch);
  const ids = tf.tensor2d(batch.ids, [B, T], 'int32');
  const real = tf.tensor2d(
    Float32Array.from(batch.ids, (v) => (v === PAD_ID ? 0 : 1)),
    [B, T],
  ); // [B, T]
  const decMask = decisionMaskOf(lengths, T); // [B, T]
  const far = farMask(T, window); // [T, T]
  const teacherLogp = tf.tidy(() => tf.logSoftmax(forwardDense(teacher, ids).logits)); // [B, T, V]
  const noise = student.layers.map((_, l) => logisticNoise([B, T, K], noiseSeed === undefined ? undefined : noiseSeed * 131 + l)); // per layer [B, T, K]
  const kept: tf.Tensor[] = [];
  const names = Object.keys(vars);
  const byVarName = new Map(names.map((n) => [vars[n].name, n]));
  const { value, grads } = tf.variableGrads(
    () => {
      const decisions: tf.Tensor3D[] = [];
      const { logits, dmsLogits } = forwardDense(student, ids, {
        attnBias: (layer, lg) => {
          const zNext = nextDecisionLogits(lg, noise[layer], tau); // [B, T, K]
          decisions.push(straightThrough(zNext));
          return softEvictionBias(zNext, far); // [B, K, T, T]
        },
      });
      const logp = tf.logSoftmax(logits); // [B, T, V]
      const klPerPos = tf.sum(tf.mul(tf.exp(logp), tf.sub(logp, teacherLogp)), -1) as tf.Tensor2D; // [B, T]
      const kd = kdLoss(klPerPos, real, kdWeighting);
      const { loss: cr, fraction } = compressionLoss(decisions, decMask, targetFraction(ratio));
      kept.push(tf.keep(kd), tf.keep(cr), tf.keep(tf.mean(fraction)));
      // Noiseless decisions (the inference rule) for the per-layer log.
      for (const lg of dmsLogits) {
        const evict = tf.cast(tf.greater(nextDecisionLogits(lg, null, 1), 0), 'float32'); // [B, T, K]
        kept.push(tf.keep(tf.div(tf.sum(tf.mul(tf.mean(evict, 2), decMask)), tf.maximum(tf.sum(decMask), 1))));
      }
      return tf.add(kd, cr) as tf.Scalar;
    },
    names.map((n) => vars[n]),
  );
  const named: Record<string, tf.Tensor> = {};
  for (const [varName, g] of Object.entries(grads)) named[byVarName.get(varName) as string] = g;
  adam.apply(named, lr);
  const [kd, cr, noisy, ...layers] = kept.map((t) => t.dataSync()[0]);
  const loss = value.dataSync()[0];
  tf.dispose([value, ids, real, decMask, far, teacherLogp, ...noise, ...kept, ...Object.values(grads)]);
  return { loss, kd, cr, noisyFraction: noisy, layerFractions: layers };
}

/** Teacher-forced evaluation with the hard inference mask, plus the noiseless eviction fraction. */
export function evaluateHard(student: LlamaParams, count: number): { exact: number; accAll: number; evictFraction: number; loss: number } {
  const problems = problemSet(VALIDATION_SEED_START, count, STANDARD_MIX);
  let evicted = 0; // decisions (averaged over KV heads) that evict, summed over layers and rows
  let decided = 0;
  const window = student.config.dms!.window;
  const res = teacherForced(student, problems, 4096, (batch) => {
    const lengths = rowLengths(batch);
    return {
      attnBias: (_layer, lg) => {
        tf.tidy(() => {
          const mask = decisionMaskOf(lengths, lg.shape[1]); // [B, T]
          const evict = tf.mean(tf.cast(tf.greater(nextDecisionLogits(lg, null, 1), 0), 'float32'), 2); // [B, T]
          evicted += tf.sum(tf.mul(evict, mask)).dataSync()[0];
          decided += tf.sum(mask).dataSync()[0];
        });
        return hardDmsBias(lg, window);
      },
    };
  });
  return { exact: res.overall.exact, accAll: res.overall.acc_all, evictFraction: decided ? evicted / decided : 0, loss: res.loss };
}

/** Runs the retrofit; returns the list of checkpoint folders written. */
export async function retrofit(cfg: RetrofitConfig): Promise<string[]> {
  const suffix = outputSuffix(cfg);
  const stateDir = `${cfg.outPrefix}${suffix}-state`;
  const teacher = loadCheckpoint(cfg.teacherDir).model;
  let state: TrainState = { step: 0, nextSeed: cfg.seedStart, tokensSeen: 0, targetsSeen: 0, elapsedSec: 0, settings: {} };
  let startParams: LlamaParams;
  let optState: ReturnType<typeof loadCheckpoint>['optimizer'] = null;
  if (cfg.resume) {
    if (!existsSync(join(stateDir, 'train-state.json'))) throw new Error(`--resume: no state in ${stateDir}`);
    const ck = loadCheckpoint(stateDir);
    startParams = ck.model.params;
    state = ck.state ?? state;
    optState = ck.optimizer;
  } else {
    startParams = makeStudent(teacher.params, { mode: cfg.mode, window: cfg.window, ratio: 1 });
  }
  const trainable = (name: string) => cfg.train === 'all' || name.includes('dms_');
  const { params: student, vars } = toVariables(startParams, trainable);
  disposeParams(startParams); // the variables hold their own references
  const adam = new Adam(vars, { ...DEFAULT_ADAM, clipNorm: 1.0 });
  if (optState) adam.importState(optState.tensors, optState.step);
  const totalSteps = scheduleSteps(cfg.schedule);
  const log = new CsvLog(join(cfg.logDir, `${cfg.name}-train.csv`), cfg.resume);
  const valLog = new CsvLog(join(cfg.logDir, `${cfg.name}-val.csv`), cfg.resume);
  const batcher = new SuiteBatcher(state.nextSeed, cfg.tokenBudget);
  const written: string[] = [];

  if (!cfg.resume) {
    const v = evaluateHard(student, cfg.validationCount);
    valLog.write({ step: 0, ratio: 1, exact: v.exact, acc_all: v.accAll, evict_fraction: v.evictFraction, val_loss: v.loss });
  }
  let stop = false;
  const onSignal = () => (stop = true);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  while (state.step < totalSteps && !stop) {
    await new Promise((resolve) => setImmediate(resolve)); // lets SIGINT/SIGTERM handlers run
    const ratio = ratioAt(state.step, cfg.schedule);
    const batch = batcher.next(STANDARD_MIX);
    const t0 = performance.now();
    const r = retrofitStep(student, vars, adam, teacher.params, batch, ratio, cfg.lr, cfg.tau, { kdWeighting: cfg.kdWeighting });
    const sec = (performance.now() - t0) / 1000;
    state.step += 1;
    state.tokensSeen += batch.numTokens;
    state.elapsedSec += sec;
    const row: Record<string, number> = {
      step: state.step,
      ratio,
      target_fraction: targetFraction(ratio),
      lr: cfg.lr,
      loss: r.loss,
      kd: r.kd,
      cr: r.cr,
      noisy_fraction: r.noisyFraction,
      evict_fraction: r.layerFractions.reduce((a, b) => a + b, 0) / r.layerFractions.length,
      batch: batch.batchSize,
      seq_len: batch.seqLen,
      tokens_per_s: batch.numTokens / sec,
      elapsed_s: state.elapsedSec,
    };
    for (const [l, f] of r.layerFractions.entries()) row[`evict_l${l}`] = f;
    log.write(row);
    if (state.step % 10 === 0) {
      console.log(
        `step ${state.step} cr ${ratio.toFixed(2)} kd ${r.kd.toFixed(4)} lcr ${r.cr.toFixed(3)} evict ${row.evict_fraction.toFixed(3)} (target ${row.target_fraction.toFixed(3)}) tok/s ${row.tokens_per_s.toFixed(0)} tensors ${tf.memory().numTensors}`,
      );
    }
    const due = checkpointDue(state.step, cfg.schedule);
    if (due !== null) {
      const dir = `${cfg.outPrefix}-r${due}${suffix}`;
      student.config = { ...student.config, dms: { ...student.config.dms!, ratio: due } };
      saveModel(dir, student, { tokenizerJson: buildByteLevelTokenizerJson(), tokenizerConfig: buildByteLevelTokenizerConfig(), dtype: 'F32' });
      saveCheckpoint(stateDir, student, adam, { ...state, nextSeed: batcher.nextSeed, settings: { ...cfg } });
      written.push(dir);
      const v = evaluateHard(student, cfg.validationCount);
      valLog.write({ step: state.step, ratio: due, exact: v.exact, acc_all: v.accAll, evict_fraction: v.evictFraction, val_loss: v.loss });
      console.log(`checkpoint ${dir}: teacher-forced exact ${v.exact.toFixed(3)}, token acc ${v.accAll.toFixed(4)}, eviction ${v.evictFraction.toFixed(3)}`);
    }
  }
  if (stop) {
    saveCheckpoint(stateDir, student, adam, { ...state, nextSeed: batcher.nextSeed, settings: { ...cfg } });
    console.log(`stopped at step ${state.step}; resume with --resume (state in ${stateDir})`);
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  adam.dispose();
  tf.dispose(Object.values(vars));
  teacher.dispose();
  return written;
}
