// The remote runner: `npm run runner -- --gateway URL --token T` polls a gateway's runner API and
// runs claimed jobs with the default executor. SIGTERM drains (finish the job, else release it); SIGINT releases.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { ClaimResponse } from '../protocol/index.js';
import { createDefaultExecutor } from './executor-factory.js';
import { HttpJobSource } from './http-source.js';
import type { ClaimRequest, JobSource } from './job-source.js';
import { DEFAULT_RUNNER_CONFIG, RunnerLoop } from './runner-loop.js';

const USAGE = `usage: npm run runner -- --gateway URL --token TOKEN [--runner-id ID] [--models a,b] [--heartbeat-ms N] [--drain-seconds S] [--poll-max-ms N]
  (or DMS_GATEWAY_URL / DMS_RUNNER_TOKEN / DMS_RUNNER_ID / DMS_DRAIN_SECONDS / DMS_POLL_MAX_MS in the environment)
  An idle runner polls after 0.5 s, doubling the wait up to --poll-max-ms (default ${DEFAULT_RUNNER_CONFIG.pollMaxMs}): the longest a new job waits for it.
  SIGTERM: stop claiming, finish the current job within --drain-seconds (default 30), else release it; then exit 0.
  SIGINT: release the current job to the queue at once (also while draining) and exit 0.
  Signal this process (or its process group): npm does not forward signals to the scripts it runs.`;

/**
 * A JobSource that stops handing out work once draining. The loop only claims again after it has
 * finished its previous job (completed, failed, released or lost it), so that claim marks "drained".
 */
class DrainingSource implements JobSource {
  private draining = false;
  private busy = false;
  private onDrained: (() => void) | null = null;

  constructor(private readonly inner: JobSource) {}

  /** Resolves once no job is running (at once when idle). */
  drain(): Promise<void> {
    this.draining = true;
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => (this.onDrained = resolve));
  }

  async claim(input: ClaimRequest): Promise<ClaimResponse | null> {
    this.busy = false;
    if (this.draining) {
      this.onDrained?.();
      return null;
    }
    const claim = await this.inner.claim(input);
    this.busy = claim !== null;
    return claim;
  }

  heartbeat = (jobId: string, token: string) => this.inner.heartbeat(jobId, token);
  writeResult: JobSource['writeResult'] = (jobId, token, result) => this.inner.writeResult(jobId, token, result);
  complete = (jobId: string, token: string) => this.inner.complete(jobId, token);
  fail = (jobId: string, token: string, reason: string) => this.inner.fail(jobId, token, reason);
  release = (jobId: string, token: string) => this.inner.release(jobId, token);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      gateway: { type: 'string' },
      token: { type: 'string' },
      'runner-id': { type: 'string' },
      models: { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'drain-seconds': { type: 'string' },
      'poll-max-ms': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const baseUrl = values.gateway ?? process.env.DMS_GATEWAY_URL;
  const token = values.token ?? process.env.DMS_RUNNER_TOKEN;
  const drainSeconds = Number(values['drain-seconds'] ?? process.env.DMS_DRAIN_SECONDS ?? 30);
  const pollMaxMs = Number(values['poll-max-ms'] ?? process.env.DMS_POLL_MAX_MS ?? DEFAULT_RUNNER_CONFIG.pollMaxMs);
  const validPoll = Number.isFinite(pollMaxMs) && pollMaxMs >= DEFAULT_RUNNER_CONFIG.pollMinMs;
  if (!baseUrl || !token || !Number.isFinite(drainSeconds) || drainSeconds < 0 || !validPoll) {
    if (!validPoll) console.error(`--poll-max-ms must be a number >= ${DEFAULT_RUNNER_CONFIG.pollMinMs}`);
    console.error(USAGE);
    return 2;
  }
  const executor = await createDefaultExecutor();
  const runnerId = values['runner-id'] ?? process.env.DMS_RUNNER_ID ?? `${hostname()}-${process.pid}`;
  const source = new DrainingSource(new HttpJobSource({ baseUrl, token }));
  const loop = new RunnerLoop(source, executor, {
    runnerId,
    models: values.models?.split(',').filter(Boolean),
    heartbeatMs: values['heartbeat-ms'] ? Number(values['heartbeat-ms']) : DEFAULT_RUNNER_CONFIG.heartbeatMs,
    pollMaxMs,
  });
  const methods = executor.capability ? executor.capability.methods.join(', ') : 'any';
  console.log(
    `runner ${runnerId} polling ${baseUrl} (backend ${executor.backend ?? 'unknown'}, claims jobs of methods ${methods}; idle backoff up to ${pollMaxMs} ms)`,
  );
  loop.start();

  await new Promise<void>((resolve) => {
    let stopping = false;
    let draining = false;
    const stopNow = (why: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`runner ${runnerId}: ${why}`);
      void loop.stop().then(resolve);
    };
    // Handlers stay installed (a repeated signal must not fall back to the default action and kill us).
    process.on('SIGINT', () => stopNow('SIGINT; releasing any running job'));
    process.on('SIGTERM', () => {
      if (draining || stopping) return;
      draining = true;
      console.log(`runner ${runnerId}: SIGTERM, draining (up to ${drainSeconds} s; claiming nothing new)`);
      const timer = setTimeout(() => stopNow(`drain time of ${drainSeconds} s is over; releasing the running job`), drainSeconds * 1000);
      void source.drain().then(() => {
        clearTimeout(timer);
        stopNow('drained, no job running');
      });
    });
  });
  console.log(`runner ${runnerId} stopped`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
