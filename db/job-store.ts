// The job store: every read and write the gateway and runners make, as one async interface over
// an SqlDb (better-sqlite3, node:sqlite, D1 or PostgreSQL). Lease-fenced writes return a tagged outcome instead of throwing.
import type {
  ClaimResponse,
  CompressionMethod,
  HeartbeatResponse,
  Job,
  JobStatus,
  RequestParams,
  RequestResult,
  RequestResultWrite,
  ResolvedParams,
} from '../protocol/index.js';
import { createKeyStore, type KeyStore } from './store-keys.js';
import { createLeaseOps } from './store-lease.js';
import { createFinishOps } from './store-finish.js';
import { createReadOps } from './store-reads.js';
import { createOpenAiOps, type OpenAiStore } from './store-openai.js';
import { createSubmitOps } from './store-submit.js';
import { createMetricsReads, type MetricsReads } from './store-metrics.js';
import { createRequestReads, type RequestReads } from './store-requests.js';
import { resolveStoreConfig, type StoreConfig } from './store-config.js';
import type { SqlDb } from './sql-db.js';

export type NewJob = {
  tenantId: string;
  model: string;
  defaults: RequestParams | null;
  metadata: Record<string, string> | null;
  idempotencyKey: string | null;
  bodyHash: string | null;
  requests: Array<{ customId: string; prompt: string; params: ResolvedParams; expectedAnswer: string | null }>;
};

export type SubmitOutcome = { kind: 'created'; job: Job } | { kind: 'replayed'; job: Job } | { kind: 'conflict'; jobId: string };

export type CancelOutcome = { kind: 'not_found' } | { kind: 'terminal'; job: Job } | { kind: 'ok'; job: Job };

/**
 * A runner's claim: which runner, optionally only some models, its backend (for /healthz), and the
 * compression methods it serves: only jobs whose every request uses one of them (all when absent).
 */
export type ClaimInput = { runnerId: string; models?: string[]; backend?: string; methods?: readonly CompressionMethod[] };

/** Outcome of a lease-fenced call: `stale` means the lease is gone and the runner must stop. */
export type Fenced<T> = { ok: true; value: T } | { ok: false; reason: 'stale_lease' };

export type WriteOutcome =
  | { ok: true; written: string[]; alreadyWritten: string[] }
  | { ok: false; reason: 'stale_lease' }
  | { ok: false; reason: 'unknown_custom_id'; customIds: string[] };

export type FinishStatus = 'completed' | 'failed' | 'canceled' | 'queued';
export type SweepCounts = { requeued: number; failed: number; canceled: number };
export type RunnerSeen = { runner_id: string; backend: string | null; last_seen_at: string };

export interface JobStore extends KeyStore, OpenAiStore, MetricsReads, RequestReads {
  /** Stores a job and all its requests in one atomic batch, honouring the idempotency key. */
  submit(job: NewJob): Promise<SubmitOutcome>;
  getJob(tenantId: string, jobId: string): Promise<Job | null>;
  /** The tenant's jobs, newest first (only `status` ones when given); `after` is the id of the last job of the previous page. */
  listJobs(tenantId: string, opts: { limit: number; after?: string; status?: JobStatus[] }): Promise<{ jobs: Job[]; hasMore: boolean }>;
  /** Finished requests in submission order, `afterIdx` exclusive; null when the job is not the tenant's. */
  listResults(tenantId: string, jobId: string, afterIdx: number, limit: number): Promise<Array<{ idx: number; result: RequestResult }> | null>;
  cancel(tenantId: string, jobId: string): Promise<CancelOutcome>;
  /** Sweeps expired leases, then atomically leases the oldest claimable job; null when none. */
  claim(input: ClaimInput): Promise<ClaimResponse | null>;
  heartbeat(jobId: string, leaseToken: string): Promise<Fenced<HeartbeatResponse>>;
  /** Writes results; a request that already has one keeps it (idempotent per custom_id). */
  writeResults(jobId: string, leaseToken: string, results: RequestResultWrite[]): Promise<WriteOutcome>;
  complete(jobId: string, leaseToken: string): Promise<Fenced<FinishStatus>>;
  fail(jobId: string, leaseToken: string, reason: string): Promise<Fenced<FinishStatus>>;
  /** Gives the job back to the queue without counting the attempt (graceful runner shutdown). */
  release(jobId: string, leaseToken: string): Promise<Fenced<FinishStatus>>;
  /** Requeues (with backoff), fails (after max attempts) or cancels jobs whose lease expired. */
  sweep(): Promise<SweepCounts>;
  recentRunners(withinMs: number): Promise<RunnerSeen[]>;
  /** A trivial query: resolves when the database answers. */
  ping(): Promise<void>;
  readonly config: StoreConfig;
}

export function createJobStore(sqlDb: SqlDb, config: Partial<StoreConfig> = {}): JobStore {
  const cfg = resolveStoreConfig(config);
  const reads = createReadOps(sqlDb, cfg);
  const lease = createLeaseOps(sqlDb, cfg);
  return {
    config: cfg,
    ...createKeyStore(sqlDb, cfg),
    ...reads,
    ...createSubmitOps(sqlDb, cfg, reads),
    ...lease,
    ...createFinishOps(sqlDb, cfg, reads),
    ...createOpenAiOps(sqlDb, cfg),
    ...createMetricsReads(sqlDb, cfg),
    ...createRequestReads(sqlDb),
  };
}
