// The seam between the runner protocol and the engine: an Executor runs a claimed job's pending
// requests and reports each result as soon as it finishes. The engine executor implements it.
import type { ClaimedJob, PendingRequest, RequestResultWrite, RunnerCapability } from '../protocol/index.js';

export type { ClaimedJob, PendingRequest, RequestResultWrite };

export interface ExecutionContext {
  /** Aborted when the job is canceled, its lease is lost, or the runner shuts down: stop soon. */
  signal: AbortSignal;
  /** Persists one finished request (fenced by the lease); rejects with StaleLeaseError if the lease is gone. */
  onResult(result: RequestResultWrite): Promise<void>;
}

export interface Executor {
  /** TensorFlow.js backend this executor runs on, reported at claim time (shown in /healthz). */
  readonly backend?: string;
  /**
   * The engine backend and the compression methods it serves: the claim sends the methods, so the
   * runner is handed only jobs it can run. Absent: it claims any job (and fails what it cannot run).
   */
  readonly capability?: RunnerCapability;
  /**
   * Runs the requests (params fully resolved) and calls ctx.onResult once per finished request.
   * Resolves when all are done or the signal aborted; rejects when the job cannot be run at all.
   */
  execute(job: ClaimedJob, requests: PendingRequest[], ctx: ExecutionContext): Promise<void>;
}
