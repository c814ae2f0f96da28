// The in-process job source: calls the job store directly (no HTTP), for the runner that
// `npm start` runs inside the gateway process. Same fencing as the HTTP API.
import type { Fenced, JobStore } from '../db/job-store.js';
import type { RequestResultWrite } from '../protocol/index.js';
import { type ClaimRequest, type FinishStatus, type JobSource, StaleLeaseError } from './job-source.js';

function unwrap<T>(jobId: string, outcome: Fenced<T>): T {
  if (!outcome.ok) throw new StaleLeaseError(jobId);
  return outcome.value;
}

export class LocalStoreSource implements JobSource {
  constructor(private readonly store: JobStore) {}

  claim(input: ClaimRequest) {
    return this.store.claim(input);
  }

  async heartbeat(jobId: string, leaseToken: string) {
    return unwrap(jobId, await this.store.heartbeat(jobId, leaseToken));
  }

  async writeResult(jobId: string, leaseToken: string, result: RequestResultWrite): Promise<void> {
    const outcome = await this.store.writeResults(jobId, leaseToken, [result]);
    if (outcome.ok) return;
    if (outcome.reason === 'stale_lease') throw new StaleLeaseError(jobId);
    throw new Error(`job ${jobId} has no request "${result.custom_id}"`);
  }

  async complete(jobId: string, leaseToken: string): Promise<FinishStatus> {
    return unwrap(jobId, await this.store.complete(jobId, leaseToken));
  }

  async fail(jobId: string, leaseToken: string, reason: string): Promise<FinishStatus> {
    return unwrap(jobId, await this.store.fail(jobId, leaseToken, reason));
  }

  async release(jobId: string, leaseToken: string): Promise<FinishStatus> {
    return unwrap(jobId, await this.store.release(jobId, leaseToken));
  }
}
