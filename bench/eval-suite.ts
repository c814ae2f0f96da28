// Runs a problem set from the reasoning suite through the engine with one configuration (method,
// ratio, W threads, L max tokens) and scores it: accuracy by majority vote, KV reads, peak KV, speed.
import { generate, type GenerateRequest, type GenerateResult, type GenerateStats, type LoadedModel } from '../engine/index.js';
import { extractAnswer, type Problem } from '../tasks/index.js';
import { windowBoundRatio } from './window-bound.js';

export interface EvalConfig {
  /** KV policy: none, dms, dms-w0, window, tova, h2o, quest. */
  method: string;
  /** Requested compression ratio (ignored by none; dms runs what its checkpoint learned). */
  ratio: number;
  /** Window override (DMS sliding window, or a baseline's recent window). */
  window?: number;
  /** W: threads per problem, answer by majority vote. */
  n: number;
  /** L: most generated tokens per thread; default the rest of the model's context. */
  maxTokens?: number;
  /** Sampling temperature; 0 is greedy. */
  temperature: number;
  /** Base sampling seed (problem i uses seed + i). */
  seed: number;
  /** KV memory budget of the run in cached tokens (the scheduler admits while it fits). */
  kvBudgetTokens?: number;
  /** Most threads decoding together. */
  maxBatch?: number;
}

export interface ProblemOutcome {
  seed: number;
  family: string;
  difficulty: number;
  expected: string;
  answer: string | null;
  correct: boolean;
  completionTokens: number;
  kvTokenReads: number;
  peakKvTokens: number;
  achievedRatio: number;
  /** The weight of achievedRatio: tokens retained summed over decode steps (the ratio's denominator). */
  kvTokensRetained: number;
  promptTokens: number;
  /** Generated tokens of each thread. */
  threadTokens: number[];
}

export interface EvalSummary {
  accuracy: number;
  problems: number;
  correct: number;
  /** Tokens seen / tokens retained over every decode step of every problem (dms.md section 6): token-weighted, as a job's usage. */
  achieved_ratio: number;
  /** What ran beside it: the method, the ratio asked for, and the policy's window (null without a fixed one). */
  method: string;
  requested_ratio: number;
  window: number | null;
  /**
   * DMS only: the achieved ratio a predictor flagging exactly 1 - 1/R of tokens would reach on these
   * same sequences, given that the w + 1 most recent tokens are always held (bench/window-bound.ts).
   */
  window_bound_ratio?: number;
  /** Mean decode-time KV token reads per problem (all W threads, layers and KV heads). */
  kv_reads_per_problem: number;
  /** Mean over problems of the peak KV tokens held at once by its W threads (all layers and heads). */
  peak_kv_tokens_per_problem: number;
  completion_tokens_per_problem: number;
  problems_per_s: number;
  tokens_per_s: number;
  wall_s: number;
  /** Most threads decoded together in one step (the batch the KV budget and maxBatch allowed). */
  max_batch: number;
  /** Mean threads per decode step. */
  mean_batch: number;
  /** Threads preempted (and recomputed) because the KV budget ran out. */
  preemptions: number;
}

/** Majority vote over threads is the engine's; the suite's verifier is exact match on the extracted answer. */
export function outcome(p: Problem, r: GenerateResult): ProblemOutcome {
  const answer = r.answer ?? extractAnswer(r.threads[0]?.text ?? '');
  return {
    seed: p.seed,
    family: p.family,
    difficulty: p.difficulty,
    expected: p.answer,
    answer,
    correct: answer === p.answer,
    completionTokens: r.usage.completionTokens,
    kvTokenReads: r.usage.kvTokenReads,
    peakKvTokens: r.usage.peakKvTokens,
    achievedRatio: r.usage.achievedRatio,
    kvTokensRetained: r.usage.kvTokensRetained,
    promptTokens: r.usage.promptTokens,
    threadTokens: r.threads.map((t) => t.completionTokens),
  };
}

const NO_STATS: GenerateStats = { maxBatch: 0, meanBatch: 0, numPreemptions: 0 };

/** The learned eviction a DMS run uses: the checkpoint's target ratio and window (null for other methods). */
export interface DmsTarget {
  ratio: number;
  window: number;
}

/** What ran: the configuration's method and ratio, and the window the policy used. */
export interface RanCompression {
  method: string;
  requested_ratio: number;
  window: number | null;
}

/** The token-weighted achieved ratio of several requests: sum(ratio x retained) / sum(retained) = sum(seen) / sum(retained). */
export function weightedAchievedRatio(parts: ReadonlyArray<{ achievedRatio: number; kvTokensRetained: number }>): number {
  const weight = parts.reduce((s, p) => s + p.kvTokensRetained, 0);
  return weight > 0 ? parts.reduce((s, p) => s + p.achievedRatio * p.kvTokensRetained, 0) / weight : 1;
}

export function summarize(
  outcomes: ProblemOutcome[],
  wallS: number,
  stats: GenerateStats = NO_STATS,
  dms: DmsTarget | null = null,
  ran: RanCompression = { method: 'none', requested_ratio: 1, window: null },
): EvalSummary {
  const n = outcomes.length;
  const sum = (f: (o: ProblemOutcome) => number) => outcomes.reduce((s, o) => s + f(o), 0);
  const tokens = sum((o) => o.completionTokens);
  const correct = outcomes.filter((o) => o.correct).length;
  return {
    accuracy: n ? correct / n : 0,
    problems: n,
    correct,
    achieved_ratio: weightedAchievedRatio(outcomes),
    ...ran,
    ...(dms
      ? {
          window_bound_ratio: windowBoundRatio(
            outcomes.map((o) => ({ promptTokens: o.promptTokens, completionTokens: o.threadTokens })),
            dms.ratio,
            dms.window,
          ),
        }
      : {}),
    kv_reads_per_problem: n ? sum((o) => o.kvTokenReads) / n : 0,
    peak_kv_tokens_per_problem: n ? sum((o) => o.peakKvTokens) / n : 0,
    completion_tokens_per_problem: n ? tokens / n : 0,
    problems_per_s: wallS > 0 ? n / wallS : 0,
    tokens_per_s: wallS > 0 ? tokens / wallS : 0,
    wall_s: wallS,
    max_batch: stats.maxBatch,
    mean_batch: stats.meanBatch,
    preemptions: stats.numPreemptions,
  };
}

export function toRequests(model: LoadedModel, problems: Problem[], cfg: EvalConfig): GenerateRequest[] {
  const context = model.config.maxPositionEmbeddings;
  return problems.map((p, i) => {
    const room = context - model.tokenizer.encodePrompt(p.prompt).length;
    return {
      id: String(i),
      prompt: p.prompt,
      maxTokens: Math.max(1, Math.min(cfg.maxTokens ?? room, room)),
      temperature: cfg.temperature,
      seed: cfg.seed + i,
      n: cfg.n,
      compression: { method: cfg.method, ratio: cfg.ratio, ...(cfg.window === undefined ? {} : { window: cfg.window }) },
    };
  });
}

function dmsTarget(model: LoadedModel, cfg: EvalConfig): DmsTarget | null {
  const dms = model.config.dms;
  if (!dms || (cfg.method !== 'dms' && cfg.method !== 'dms-w0')) return null;
  const window = cfg.method === 'dms-w0' ? 0 : (cfg.window ?? dms.window);
  return { ratio: dms.ratio > 1 ? dms.ratio : cfg.ratio, window };
}

/** Evaluates problems under one configuration; onProgress(done, total) after each finished problem. */
export async function evaluate(
  model: LoadedModel,
  problems: Problem[],
  cfg: EvalConfig,
  onProgress?: (done: number, total: number) => void,
): Promise<{ summary: EvalSummary; outcomes: ProblemOutcome[] }> {
  const t0 = performance.now();
  let done = 0;
  const stats: GenerateStats = { ...NO_STATS };
  const results = await generate(model, toRequests(model, problems, cfg), {
    kvBudgetTokens: cfg.kvBudgetTokens,
    maxBatch: cfg.maxBatch,
    stats,
    onResult: () => onProgress?.(++done, problems.length),
  });
  const wallS = (performance.now() - t0) / 1000;
  const outcomes = results.map((r, i) => outcome(problems[i], r));
  const first = results[0]?.compression;
  const ran = { method: first?.method ?? cfg.method, requested_ratio: cfg.ratio, window: first?.window ?? null };
  return { summary: summarize(outcomes, wallS, stats, dmsTarget(model, cfg), ran), outcomes };
}
