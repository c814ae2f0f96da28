// The runner loop: poll with backoff, claim a job, heartbeat it on a timer, run the executor
// (results written one by one), then complete, fail or release it. A lost lease stops the job.
import type { ClaimResponse, RequestResultWrite } from '../protocol/index.js';
import type { Executor } from './executor.js';
import { type JobSource, StaleLeaseError } from './job-source.js';

export interface RunnerConfig {
  /** Identifies this runner in leases and /healthz. */
  runnerId: string;
  /** Only claim jobs for these models (all when absent). */
  models?: string[];
  /** First and longest wait between claims when the queue is empty (doubles in between). */
  pollMinMs: number;
  pollMaxMs: number;
  /** Heartbeat period; keep it well under the store's lease length. */
  heartbeatMs: number;
  log: (message: string) => void;
}

export const DEFAULT_RUNNER_CONFIG: Omit<RunnerConfig, 'runnerId'> = {
  pollMinMs: 500,
  pollMaxMs: 10_000,
  heartbeatMs: 10_000,
  log: (message) => console.log(`[runner] ${message}`),
};

/** What happened to one claimed job (or 'idle' when there was nothing to claim). */
export type JobOutcome = 'idle' | 'completed' | 'failed' | 'canceled' | 'released' | 'stale';

export class RunnerLoop {
  private readonly config: RunnerConfig;
  private stopping = false;
  private current: AbortController | null = null;
  private loopDone: Promise<void> | null = null;
  /** Aborted by wake() to cut the idle wait short; replaced for each wait. */
  private idleWait = new AbortController();
  /** A wake() that came while a claim was in flight: poll again at once instead of sleeping. */
  private woken = false;

  constructor(
    private readonly source: JobSource,
    private readonly executor: Executor,
    config: Partial<RunnerConfig> & { runnerId: string },
  ) {
    this.config = { ...DEFAULT_RUNNER_CONFIG, ...config };
  }

  /** Starts polling in the background until stop(). */
  start(): void {
    this.loopDone ??= this.loop();
  }

  /**
   * New work may be claimable (the gateway calls it on submit): an idle runner polls now, with its
   * backoff reset, instead of finishing a wait of up to pollMaxMs. A busy runner is not disturbed.
   */
  wake(): void {
    this.woken = true;
    this.idleWait.abort();
  }

  /**
   * Claims nothing new and lets the running job finish for up to `timeoutMs`; past that, aborts it
   * (its lease is released, the attempt not counted). Resolves true when the job finished in time.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    this.idleWait.abort();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const drained = await Promise.race([(this.loopDone ?? Promise.resolve()).then(() => true as const), timedOut]);
    clearTimeout(timer);
    if (!drained) await this.stop();
    return drained;
  }

  /** Aborts the running job (its lease is released), stops polling, and waits for the loop to end. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.idleWait.abort();
    this.current?.abort(new Error('runner shutting down'));
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    let delay = this.config.pollMinMs;
    while (!this.stopping) {
      let outcome: JobOutcome | 'error';
      this.woken = false;
      try {
        outcome = await this.runOnce();
      } catch (error) {
        this.config.log(`poll failed: ${(error as Error).message}`);
        outcome = 'error';
      }
      if (outcome === 'idle' && this.woken) {
        delay = this.config.pollMinMs;
      } else if (outcome === 'idle' || outcome === 'error') {
        if (this.stopping) break;
        // stop() and wake() both abort this controller (a fresh one per wait, so no listener piles up).
        this.idleWait = new AbortController();
        await sleep(delay, this.idleWait.signal);
        delay = this.woken ? this.config.pollMinMs : Math.min(delay * 2, this.config.pollMaxMs);
      } else {
        delay = this.config.pollMinMs;
      }
    }
  }

  /** Claims and runs at most one job. */
  async runOnce(): Promise<JobOutcome> {
    const claim = await this.source.claim({
      runnerId: this.config.runnerId,
      models: this.config.models,
      backend: this.executor.backend,
      methods: this.executor.capability?.methods,
    });
    if (!claim) return 'idle';
    return this.runJob(claim);
  }

  private async runJob({ job, lease, requests }: ClaimResponse): Promise<JobOutcome> {
    const { log } = this.config;
    const token = lease.lease_token;
    const controller = new AbortController();
    this.current = controller;
    if (this.stopping) controller.abort(new Error('runner shutting down'));
    let stale = false;
    let canceled = false;
    const loseLease = () => {
      stale = true;
      controller.abort(new StaleLeaseError(job.id));
    };
    let beating: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      beating = this.source.heartbeat(job.id, token).then(
        (beat) => {
          if (beat.cancel_requested && !canceled) {
            canceled = true;
            controller.abort(new Error('job canceled'));
          }
        },
        (error) => (error instanceof StaleLeaseError ? loseLease() : log(`heartbeat of ${job.id} failed: ${(error as Error).message}`)),
      );
    }, this.config.heartbeatMs);

    log(`claimed ${job.id} (attempt ${lease.attempt}, ${requests.length} pending requests)`);
    let failure: unknown = null;
    try {
      await this.executor.execute(job, requests, {
        signal: controller.signal,
        onResult: async (result: RequestResultWrite) => {
          if (stale) throw new StaleLeaseError(job.id);
          try {
            await this.source.writeResult(job.id, token, result);
          } catch (error) {
            if (error instanceof StaleLeaseError) loseLease();
            throw error;
          }
        },
      });
    } catch (error) {
      failure = error;
    } finally {
      clearInterval(timer);
      await beating;
      this.current = null;
    }

    try {
      if (stale || failure instanceof StaleLeaseError) {
        log(`lost the lease on ${job.id}; stopped working on it`);
        return 'stale';
      }
      // Released only when shutdown cut the job short; a job that finished while draining completes.
      if (this.stopping && controller.signal.aborted && !canceled) {
        await this.source.release(job.id, token);
        log(`released ${job.id} for another runner`);
        return 'released';
      }
      if (failure && !canceled) {
        const reason = failure instanceof Error ? failure.message : String(failure);
        log(`${job.id} failed: ${reason}`);
        return (await this.source.fail(job.id, token, reason)) === 'canceled' ? 'canceled' : 'failed';
      }
      const status = await this.source.complete(job.id, token);
      log(`${job.id} ${status}`);
      return status === 'canceled' ? 'canceled' : 'completed';
    } catch (error) {
      if (error instanceof StaleLeaseError) return 'stale';
      throw error;
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
