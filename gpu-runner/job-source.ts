// Where a runner gets work from and writes it back to: the store directly (in-process) or a
// gateway over HTTP. A lost lease surfaces as StaleLeaseError, on which the runner must stop the job.
import type { ClaimResponse, CompressionMethod, FinishResponse, HeartbeatResponse, RequestResultWrite } from '../protocol/index.js';

/** The lease is no longer held (expired and swept, or the job finished): stop working on the job. */
export class StaleLeaseError extends Error {
  constructor(jobId: string) {
    super(`lease on job ${jobId} is no longer held`);
    this.name = 'StaleLeaseError';
  }
}

/** Who claims, for which models, on which backend, serving which compression methods (absent: any job). */
export type ClaimRequest = { runnerId: string; models?: string[]; backend?: string; methods?: readonly CompressionMethod[] };
export type FinishStatus = FinishResponse['status'];

export interface JobSource {
  /** Leases the oldest claimable job with its pending requests; null when there is none. */
  claim(input: ClaimRequest): Promise<ClaimResponse | null>;
  heartbeat(jobId: string, leaseToken: string): Promise<HeartbeatResponse>;
  /** Stores one finished request; a request that already has a result keeps it. */
  writeResult(jobId: string, leaseToken: string, result: RequestResultWrite): Promise<void>;
  complete(jobId: string, leaseToken: string): Promise<FinishStatus>;
  fail(jobId: string, leaseToken: string, reason: string): Promise<FinishStatus>;
  /** Gives the job back to the queue (runner shutdown). */
  release(jobId: string, leaseToken: string): Promise<FinishStatus>;
}
