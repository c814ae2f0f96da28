// Runner faults: remote runners (gpu-runner/main.ts, the engine on a tiny random model, HTTP runner
// protocol) are SIGKILLed at random moments while they work through jobs; afterwards every request
// must have exactly one result and no job's usage may count a request twice.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, GatewayProcess, REPO_ROOT } from './gateway-process.js';
import { TINY_MODEL, writeTinyModel } from './tiny-model.js';
import { mulberry32 } from '../../tasks/rng.js';

export interface RunnerFaultConfig {
  numJobs: number;
  requestsPerJob: number;
  numRunners: number;
  /** Stop killing after this many kills (the run then drains). */
  maxKills: number;
  /** A kill happens every uniform(minGapMs, maxGapMs). */
  minGapMs: number;
  maxGapMs: number;
  /** Give up waiting for the queue to drain after this long. */
  deadlineMs: number;
  seed: number;
  /** Each request asks for uniform(maxTokens / 4, maxTokens) tokens (default 64). */
  maxTokens?: number;
}

export const DEFAULT_RUNNER_FAULT_CONFIG: RunnerFaultConfig = {
  numJobs: 120,
  requestsPerJob: 2,
  numRunners: 3,
  maxKills: 40,
  minGapMs: 200,
  maxGapMs: 1200,
  deadlineMs: 240_000,
  seed: 1,
};

export interface RunnerFaultReport extends JobAudit {
  runner_kills: number;
  /** Kills that landed while the runner held a claimed job (from its log). */
  kills_mid_job: number;
  jobs: number;
  requests: number;
  executor: string;
  seconds: number;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Runner = { id: string; child: ChildProcess; log: string };

/** Starts gpu-runner/main.ts against `gatewayUrl` (its output kept in `log`, for isMidJob). */
export function spawnRemoteRunner(gatewayUrl: string, runnerToken: string, id: string, modelsDir: string): Runner {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'gpu-runner/main.ts', '--gateway', gatewayUrl, '--token', runnerToken, '--runner-id', id, '--heartbeat-ms', '500'],
    { cwd: REPO_ROOT, env: { ...process.env, DMS_MODELS_DIR: modelsDir }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const runner: Runner = { id, child, log: '' };
  const append = (c: Buffer) => {
    runner.log += c.toString();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  return runner;
}

/** SIGKILLs a process and resolves once it is gone. */
export function killNow(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export type JobAudit = {
  requests_without_exactly_one_result: number;
  jobs_not_finished: number;
  jobs_completed: number;
  jobs_failed: number;
  /** Jobs that needed more than one claim (a kill or an expired lease cost them an attempt). */
  jobs_reclaimed: number;
  /** Jobs whose usage totals differ from the sum over their result lines (double counting). */
  usage_mismatches: number;
  /** Jobs the gateway does not know (404): accepted but lost. */
  jobs_missing: number;
};

/** Checks through the client API: one result line per request, usage equal to the lines' sum. */
export async function auditJobs(baseUrl: string, apiKey: string, jobs: Array<{ id: string; customIds: string[] }>): Promise<JobAudit> {
  const headers = { authorization: `Bearer ${apiKey}` };
  const audit: JobAudit = {
    requests_without_exactly_one_result: 0,
    jobs_not_finished: 0,
    jobs_completed: 0,
    jobs_failed: 0,
    jobs_reclaimed: 0,
    usage_mismatches: 0,
    jobs_missing: 0,
  };
  for (const { id, customIds } of jobs) {
    const res = await fetch(`${baseUrl}/v1/jobs/${id}`, { headers });
    if (res.status === 404) {
      audit.jobs_missing++;
      audit.requests_without_exactly_one_result += customIds.length;
      continue;
    }
    const job = (await res.json()) as { status: string; attempt: number; usage: { num_results: number; completion_tokens: number } | null };
    if (job.status === 'completed') audit.jobs_completed++;
    else if (job.status === 'failed') audit.jobs_failed++;
    else audit.jobs_not_finished++;
    if (job.attempt > 1) audit.jobs_reclaimed++;
    const text = await (await fetch(`${baseUrl}/v1/jobs/${id}/results`, { headers })).text();
    const lines = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { custom_id: string; usage: { completion_tokens: number } | null });
    const perId = new Map<string, number>();
    for (const line of lines) perId.set(line.custom_id, (perId.get(line.custom_id) ?? 0) + 1);
    for (const customId of customIds) if (perId.get(customId) !== 1) audit.requests_without_exactly_one_result++;
    const sumTokens = lines.reduce((s, l) => s + (l.usage?.completion_tokens ?? 0), 0);
    const withUsage = lines.filter((l) => l.usage).length;
    if (job.usage && (job.usage.num_results !== withUsage || job.usage.completion_tokens !== sumTokens)) audit.usage_mismatches++;
  }
  return audit;
}

/** A runner is mid-job when its last claim has no completion, failure or lost-lease line after it. */
export function isMidJob(runner: Runner): boolean {
  const at = runner.log.lastIndexOf('claimed ');
  if (at < 0) return false;
  const id = /claimed (\S+)/.exec(runner.log.slice(at))?.[1];
  if (!id) return false;
  return !new RegExp(`${id} (completed|failed|canceled)|lost the lease on ${id}|released ${id}`).test(runner.log.slice(at));
}

export async function runRunnerFaults(
  config: RunnerFaultConfig = DEFAULT_RUNNER_FAULT_CONFIG,
  log: (m: string) => void = console.log,
): Promise<RunnerFaultReport> {
  const started = Date.now();
  const random = mulberry32(config.seed); // reproducible kill schedule
  const dir = mkdtempSync(join(tmpdir(), 'dms-runner-faults-'));
  const modelsDir = join(dir, 'models');
  await writeTinyModel(modelsDir);
  const apiKey = `dms_faults_${crypto.randomUUID()}`;
  const runnerToken = `runner_${crypto.randomUUID()}`;
  // Short leases so that a killed runner's job comes back quickly; many attempts so it can finish.
  const gateway = new GatewayProcess({
    dataDir: join(dir, 'data'),
    modelsDir,
    port: await freePort(),
    apiKey,
    runnerToken,
    env: { DMS_LEASE_SECONDS: '2', DMS_SWEEP_SECONDS: '0.5', DMS_MAX_ATTEMPTS: '20' },
  });
  const runners: Runner[] = [];
  const spawnRunner = (id: string): Runner => spawnRemoteRunner(gateway.url, runnerToken, id, modelsDir);
  const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };

  try {
    await gateway.start();
    const jobIds: string[] = [];
    const maxTokens = config.maxTokens ?? 64;
    for (let j = 0; j < config.numJobs; j++) {
      const requests = Array.from({ length: config.requestsPerJob }, (_, i) => ({
        custom_id: `j${j}r${i}`,
        prompt: `Q:${j}+${i}=`,
        params: { max_tokens: Math.floor(maxTokens / 4) + Math.floor(random() * ((maxTokens * 3) / 4)), temperature: 0, seed: j },
      }));
      const res = await fetch(`${gateway.url}/v1/jobs`, { method: 'POST', headers: auth, body: JSON.stringify({ model: TINY_MODEL, requests }) });
      if (res.status !== 201) throw new Error(`submission answered ${res.status}: ${await res.text()}`);
      jobIds.push(((await res.json()) as { id: string }).id);
    }
    log(`runner faults: ${jobIds.length} jobs queued; starting ${config.numRunners} runners on the engine (tiny random model)`);
    for (let i = 0; i < config.numRunners; i++) runners.push(spawnRunner(`r${i}-0`));

    let kills = 0;
    let killsMidJob = 0;
    let generation = 0;
    const unfinished = async () => {
      const res = await fetch(`${gateway.url}/v1/jobs?limit=100`, { headers: auth });
      let open = 0;
      let after: string | null = null;
      let page = (await res.json()) as { data: Array<{ status: string }>; has_more: boolean; next_after: string | null };
      for (;;) {
        open += page.data.filter((j) => !['completed', 'failed', 'canceled'].includes(j.status)).length;
        if (!page.has_more) break;
        after = page.next_after;
        page = (await (await fetch(`${gateway.url}/v1/jobs?limit=100&after=${after}`, { headers: auth })).json()) as typeof page;
      }
      return open;
    };
    while (Date.now() - started < config.deadlineMs) {
      // Until the first kill, watch closely for a runner in the middle of a job: on a fast machine the
      // whole queue can drain between two regular kill gaps, and a run without a kill proves nothing.
      await sleep(kills === 0 ? 15 : config.minGapMs + random() * (config.maxGapMs - config.minGapMs));
      const open = await unfinished();
      if (open === 0) break;
      if (kills >= config.maxKills) continue;
      // Mostly a runner in the middle of a job; sometimes any runner (starting, idle or polling).
      const busy = runners.filter(isMidJob);
      if (busy.length === 0 && (kills === 0 || random() < 0.85)) continue;
      const pool = busy.length > 0 && random() < 0.85 ? busy : runners;
      const victim = pool[Math.floor(random() * pool.length)];
      const midJob = isMidJob(victim);
      await killNow(victim.child);
      kills++;
      if (midJob) killsMidJob++;
      runners[runners.indexOf(victim)] = spawnRunner(`${victim.id.split('-')[0]}-${++generation}`);
      if (kills % 10 === 0) log(`runner faults: ${kills} kills (${killsMidJob} mid-job), ${open} jobs open`);
    }

    const audit = await auditJobs(
      gateway.url,
      apiKey,
      jobIds.map((id, j) => ({ id, customIds: Array.from({ length: config.requestsPerJob }, (_, i) => `j${j}r${i}`) })),
    );
    const withoutOne = audit.requests_without_exactly_one_result;
    const {
      jobs_completed: completed,
      jobs_failed: failed,
      jobs_not_finished: notFinished,
      jobs_reclaimed: reclaimed,
      usage_mismatches: usageMismatches,
    } = audit;
    const report: RunnerFaultReport = {
      runner_kills: kills,
      kills_mid_job: killsMidJob,
      jobs: jobIds.length,
      requests: jobIds.length * config.requestsPerJob,
      ...audit,
      executor: `engine (gpu-runner/executor-factory.ts) on a random-weight ${TINY_MODEL} model: 2 layers, width 32, byte-level tokenizer`,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
    log(
      `runner faults: ${kills} kills (${killsMidJob} mid-job) over ${report.jobs} jobs: ${withoutOne} requests without exactly one result, ` +
        `${completed} completed, ${failed} failed, ${notFinished} unfinished, ${reclaimed} reclaimed, ${usageMismatches} usage mismatches`,
    );
    return report;
  } finally {
    for (const r of runners) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const numJobs = Number(process.argv[2] ?? DEFAULT_RUNNER_FAULT_CONFIG.numJobs);
  runRunnerFaults({ ...DEFAULT_RUNNER_FAULT_CONFIG, numJobs }).then((r) => console.log(JSON.stringify(r, null, 2)));
}
