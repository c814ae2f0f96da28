// Submitting a job: the job row and all its request rows go in one atomic batch (multi-row
// inserts chunked under the driver's parameter limit), or in one statement where the driver has
// one (PostgreSQL's insertJob); an idempotency key replays or conflicts.
import { and, eq } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { methodBits } from '../protocol/index.js';
import { randomId } from './ids.js';
import { jobView } from './job-views.js';
import type { NewJob, SubmitOutcome } from './job-store.js';
import type { JobRow } from './schema.js';
import { chunkRows, isUniqueViolation, type SqlDb } from './sql-db.js';
import type { StoreConfig } from './store-config.js';
import type { ReadOps } from './store-reads.js';

/** Bound parameters per request row in the multi-row insert (jobId, idx, customId, prompt, params, status, expectedAnswer). */
const PARAMS_PER_REQUEST_ROW = 7;

export function createSubmitOps(sqlDb: SqlDb, cfg: StoreConfig, reads: ReadOps) {
  const { db } = sqlDb;
  const { jobs, requests } = sqlDb.tables;

  /** An existing job under the same idempotency key: replayed if the body matches, else a conflict. */
  async function existing(job: NewJob): Promise<SubmitOutcome | null> {
    if (!job.idempotencyKey) return null;
    const [row] = await db
      .select({ id: jobs.id, bodyHash: jobs.bodyHash })
      .from(jobs)
      .where(and(eq(jobs.tenantId, job.tenantId), eq(jobs.idempotencyKey, job.idempotencyKey)))
      .limit(1);
    if (!row) return null;
    if (row.bodyHash !== job.bodyHash) return { kind: 'conflict', jobId: row.id };
    const view = await reads.viewJob(job.tenantId, row.id);
    return view ? { kind: 'replayed', job: view } : null;
  }

  return {
    async submit(job: NewJob): Promise<SubmitOutcome> {
      const prior = await existing(job);
      if (prior) return prior;
      const now = cfg.clock();
      const id = randomId('job');
      const jobRow = {
        id,
        tenantId: job.tenantId,
        model: job.model,
        status: 'queued' as const,
        defaultsJson: job.defaults ? JSON.stringify(job.defaults) : null,
        metadataJson: job.metadata ? JSON.stringify(job.metadata) : null,
        idempotencyKey: job.idempotencyKey,
        bodyHash: job.bodyHash,
        numRequests: job.requests.length,
        // What a claim routes on: only a runner whose backend serves every one of these methods takes the job.
        methodBits: methodBits(job.requests.map((r) => r.params.compression.method)),
        maxAttempts: cfg.maxAttempts,
        notBefore: now,
        createdAt: now,
        updatedAt: now,
      };
      const rows = job.requests.map((r, idx) => ({
        jobId: id,
        idx,
        customId: r.customId,
        prompt: r.prompt,
        paramsJson: JSON.stringify(r.params),
        status: 'pending' as const,
        expectedAnswer: r.expectedAnswer,
      }));
      let row: JobRow | undefined;
      try {
        if (sqlDb.insertJob) {
          row = await sqlDb.insertJob(jobRow, rows);
        } else {
          const statements: BatchItem<'sqlite'>[] = [db.insert(jobs).values(jobRow).returning()];
          for (const chunk of chunkRows(rows, PARAMS_PER_REQUEST_ROW, sqlDb.maxBoundParams)) {
            statements.push(db.insert(requests).values(chunk));
          }
          const stored = await sqlDb.batch(statements);
          row = (stored[0] as JobRow[])[0];
        }
      } catch (error) {
        // A concurrent submission with the same idempotency key won the race: answer as it would.
        if (isUniqueViolation(error)) {
          const raced = await existing(job);
          if (raced) return raced;
        }
        throw error;
      }
      // The inserted row comes back from the same statement or batch and every request is pending: no re-read.
      if (!row) throw new Error(`job ${id} was not returned by its insert`);
      const fresh = { pending: job.requests.length, succeeded: 0, failed: 0, canceled: 0, usage: null };
      return { kind: 'created', job: jobView(row, fresh) };
    },
  };
}
