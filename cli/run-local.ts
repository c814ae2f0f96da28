// `dms run FILE.jsonl`: a batch executed on this machine with the engine executor and the local
// checkpoints, no gateway and no database; result lines (as GET /v1/jobs/:id/results writes them) stream out.
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { resolveLimits } from '../gateway/limits.js';
import { loadModelCatalog } from '../gateway/model-catalog.js';
import { validateJob } from '../gateway/validate-job.js';
import { createDefaultExecutor } from '../gpu-runner/executor-factory.js';
import {
  type ClaimedJob,
  completeUsage,
  gradeAnswer,
  type PendingRequest,
  type RequestCounts,
  type RequestResult,
  type RequestResultWrite,
  type SubmitJob,
} from '../protocol/index.js';
import { CliError, EXIT, type ExitCode, usageError } from './errors.js';
import { groupProblems, issueProblem, listed } from './problems.js';
import { fittedProgress, type Observation, rates, renderProgress } from './progress.js';

export type RunLocalOptions = {
  /** Checkpoint folders (DMS_MODELS_DIR, default ./models). */
  modelsDir: string;
  defaultModel?: string;
  /** USD per runner-hour, for each result's cost (DMS_PRICE_PER_RUNNER_HOUR, default 2.0). */
  pricePerRunnerHour: number;
  output: Writable;
  progress: NodeJS.WriteStream;
  signal: AbortSignal;
};

/** The stored form of a runner's write: cost from runner_seconds and the grade, as the gateway computes them. */
function asResult(write: RequestResultWrite, pricePerHour: number, expected: string | null): RequestResult {
  const usage = write.usage ? completeUsage(write.usage, (write.usage.runner_seconds * pricePerHour) / 3600) : null;
  return {
    custom_id: write.custom_id,
    status: write.status,
    answer: write.answer,
    threads: write.threads,
    usage,
    timings: write.timings,
    backend: write.backend ?? null,
    error: write.error,
    expected_answer: expected,
    correct: gradeAnswer(write.status, write.answer, expected),
  };
}

export async function runLocal(submission: SubmitJob, opts: RunLocalOptions): Promise<ExitCode> {
  const catalog = await loadModelCatalog(resolve(opts.modelsDir), opts.defaultModel);
  if (catalog.models.length === 0)
    throw usageError(
      `no checkpoints in ${resolve(opts.modelsDir)}: set DMS_MODELS_DIR to a folder of checkpoint folders (each with a config.json; see README, Models)`,
    );
  const checked = validateJob(submission, catalog, resolveLimits());
  if (!checked.ok) throw usageError(`invalid batch:${listed(groupProblems(checked.issues.map(issueProblem), 'request'))}`);

  const executor = await createDefaultExecutor({ ...process.env, DMS_MODELS_DIR: opts.modelsDir });
  const job: ClaimedJob = {
    id: 'local',
    model: checked.job.model,
    num_requests: checked.job.requests.length,
    defaults: checked.job.defaults,
    metadata: checked.job.metadata,
  };
  const expected = new Map(checked.job.requests.map((r) => [r.customId, r.expectedAnswer]));
  const requests: PendingRequest[] = checked.job.requests.map((r) => ({ custom_id: r.customId, prompt: r.prompt, params: r.params }));
  const counts: RequestCounts = { total: requests.length, queued: 0, running: requests.length, succeeded: 0, failed: 0, canceled: 0 };
  const done = new Set<string>();
  const start: Observation = { atMs: Date.now(), finished: 0, completionTokens: 0 };
  let tokens = 0;
  const draw = (status: 'running' | 'completed' | 'canceled') => {
    const now: Observation = { atMs: Date.now(), finished: done.size, completionTokens: tokens };
    const job = { request_counts: counts, status };
    const r = rates(start, now, counts.total);
    const tty = opts.progress.isTTY === true;
    if (tty) opts.progress.write(`\r\x1b[2K${fittedProgress(job, r, opts.progress.columns || 80)}${status === 'running' ? '' : '\n'}`);
    else opts.progress.write(`${renderProgress(job, r)}\n`);
  };
  const write = (result: RequestResult) => {
    done.add(result.custom_id);
    counts.running -= 1;
    counts[result.status] += 1;
    tokens += result.usage?.completion_tokens ?? 0;
    opts.output.write(`${JSON.stringify(result)}\n`);
    draw('running');
  };

  opts.progress.write(`running ${requests.length} requests of model ${job.model} locally (backend ${executor.backend ?? 'unknown'})\n`);
  let failure: unknown = null;
  try {
    await executor.execute(job, requests, {
      signal: opts.signal,
      onResult: async (r) => write(asResult(r, opts.pricePerRunnerHour, expected.get(r.custom_id) ?? null)),
    });
  } catch (error) {
    failure = error;
  }
  if (opts.signal.aborted) {
    draw('canceled');
    throw new CliError(EXIT.interrupted, `interrupted: ${done.size} of ${requests.length} results written`);
  }
  for (const r of requests.filter((q) => !done.has(q.custom_id))) {
    const message = failure ? `the run failed: ${(failure as Error).message}` : 'the executor returned without a result for this request';
    write({
      custom_id: r.custom_id,
      status: 'failed',
      answer: null,
      threads: [],
      usage: null,
      timings: null,
      backend: executor.backend ?? null,
      error: { code: failure ? 'runner_failed' : 'not_executed', message },
      expected_answer: expected.get(r.custom_id) ?? null,
      correct: null,
    });
  }
  draw('completed');
  return counts.succeeded === counts.total ? EXIT.ok : EXIT.incomplete;
}
