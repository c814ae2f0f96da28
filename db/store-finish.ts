// Lease-fenced writes that finish work (results, complete, fail, release) and the client's cancel.
// Each is one atomic batch whose statements re-check the fence, so a stale runner changes nothing.
import { and, eq, exists, inArray, sql, type SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { RequestResultWrite } from '../protocol/index.js';
import { gradeAnswer } from '../protocol/result-values.js';
import type { CancelOutcome, Fenced, FinishStatus, WriteOutcome } from './job-store.js';
import { cancelPendingRequests } from './cancel-pending.js';
import type { SqlDb } from './sql-db.js';
import type { StoreConfig } from './store-config.js';
import { atLeast, leaseHeld as fence, msValue, NO_LEASE } from './store-lease.js';
import { usageWriteSet } from './usage-write.js';
import type { ReadOps } from './store-reads.js';

type PendingOutcome = { status: 'failed' | 'canceled'; code: string; message: string };

export function createFinishOps(sqlDb: SqlDb, cfg: StoreConfig, reads: ReadOps) {
  const { db } = sqlDb;
  const { jobs, requests } = sqlDb.tables;
  const leaseHeld = (jobId: string, token: string, now: number) => fence(jobs, jobId, token, now);
  const pricePerSecond = cfg.pricePerRunnerHour / 3600;
  const held = (jobId: string, token: string, now: number, extra?: SQL) =>
    exists(
      db
        .select({ one: sql`1` })
        .from(jobs)
        .where(and(leaseHeld(jobId, token, now), extra)),
    );

  /** Pending requests become canceled when the client asked for it, under the fence. */
  const cancelIfRequested = (jobId: string, token: string, now: number) =>
    cancelPendingRequests(sqlDb, now, and(eq(requests.jobId, jobId), held(jobId, token, now, eq(jobs.cancelRequested, true))));

  /** Requests still pending become canceled (cancel requested) or `ifNotCanceled`, under the fence. */
  function finishPending(jobId: string, token: string, now: number, ifNotCanceled: PendingOutcome): BatchItem<'sqlite'>[] {
    const pendingOf = (extra: SQL) => and(eq(requests.jobId, jobId), eq(requests.status, 'pending'), held(jobId, token, now, extra));
    return [
      cancelIfRequested(jobId, token, now),
      db
        .update(requests)
        .set({ status: ifNotCanceled.status, errorCode: ifNotCanceled.code, errorMessage: ifNotCanceled.message, finishedAt: now })
        .where(pendingOf(eq(jobs.cancelRequested, false))),
    ];
  }

  /** Runs the request updates, then the job update (RETURNING status); no row means a stale lease. */
  async function finish(jobId: string, token: string, now: number, pending: PendingOutcome, jobSet: Record<string, unknown>): Promise<Fenced<FinishStatus>> {
    const results = await sqlDb.batch([
      ...finishPending(jobId, token, now, pending),
      db
        .update(jobs)
        .set({ ...jobSet, ...NO_LEASE, updatedAt: now })
        .where(leaseHeld(jobId, token, now))
        .returning({ status: jobs.status }),
    ]);
    const [row] = results[results.length - 1] as Array<{ status: FinishStatus }>;
    return row ? { ok: true, value: row.status } : { ok: false, reason: 'stale_lease' };
  }

  const ifCanceled = (then: unknown, otherwise: unknown) => sql`case when ${jobs.cancelRequested} then ${then} else ${otherwise} end`;

  async function isHeld(jobId: string, token: string, now: number): Promise<boolean> {
    const rows = await db
      .select({ id: jobs.id })
      .from(jobs)
      .where(leaseHeld(jobId, token, now))
      .limit(1);
    return rows.length > 0;
  }

  return {
    async writeResults(jobId: string, token: string, results: RequestResultWrite[]): Promise<WriteOutcome> {
      const now = cfg.clock();
      if (!(await isHeld(jobId, token, now))) return { ok: false, reason: 'stale_lease' };
      const ids = results.map((r) => r.custom_id);
      // The same read that finds unknown ids brings each request's expected answer, for grading.
      const expected = new Map<string, string | null>();
      for (let i = 0; i < ids.length; i += sqlDb.maxBoundParams - 1) {
        const rows = await db
          .select({ customId: requests.customId, expectedAnswer: requests.expectedAnswer })
          .from(requests)
          .where(and(eq(requests.jobId, jobId), inArray(requests.customId, ids.slice(i, i + sqlDb.maxBoundParams - 1))));
        for (const r of rows) expected.set(r.customId, r.expectedAnswer);
      }
      const unknown = ids.filter((id) => !expected.has(id));
      if (unknown.length > 0) return { ok: false, reason: 'unknown_custom_id', customIds: unknown };
      const statements = results.map((r) =>
        db
          .update(requests)
          .set({
            status: r.status,
            answer: r.answer,
            threadsJson: JSON.stringify(r.threads),
            timingsJson: r.timings ? JSON.stringify(r.timings) : null,
            backend: r.backend ?? null,
            errorCode: r.error?.code ?? null,
            errorMessage: r.error?.message ?? null,
            ...usageWriteSet(r.usage, pricePerSecond),
            correct: gradeAnswer(r.status, r.answer, expected.get(r.custom_id) ?? null),
            attempt: sql`(select ${jobs.attempt} from ${jobs} where ${jobs.id} = ${jobId})`,
            finishedAt: now,
          })
          .where(and(eq(requests.jobId, jobId), eq(requests.customId, r.custom_id), eq(requests.status, 'pending'), held(jobId, token, now)))
          .returning({ customId: requests.customId }),
      );
      const out = (await sqlDb.batch(statements)) as Array<Array<{ customId: string }>>;
      const written = out.flatMap((rows) => rows.map((r) => r.customId));
      const writtenSet = new Set(written);
      const alreadyWritten = ids.filter((id) => !writtenSet.has(id));
      // Nothing written can also mean the lease was lost between the check above and the batch.
      if (written.length === 0 && !(await isHeld(jobId, token, now))) return { ok: false, reason: 'stale_lease' };
      return { ok: true, written, alreadyWritten };
    },

    async complete(jobId: string, token: string): Promise<Fenced<FinishStatus>> {
      const now = cfg.clock();
      return finish(
        jobId,
        token,
        now,
        { status: 'failed', code: 'not_executed', message: 'the runner completed the job without a result for this request' },
        {
          status: ifCanceled('canceled', 'completed'),
          completedAt: ifCanceled(null, msValue(now)),
          canceledAt: ifCanceled(msValue(now), null),
        },
      );
    },

    async fail(jobId: string, token: string, reason: string): Promise<Fenced<FinishStatus>> {
      const now = cfg.clock();
      return finish(
        jobId,
        token,
        now,
        { status: 'failed', code: 'runner_failed', message: reason },
        {
          status: ifCanceled('canceled', 'failed'),
          failedAt: ifCanceled(null, msValue(now)),
          canceledAt: ifCanceled(msValue(now), null),
          errorCode: ifCanceled(null, 'runner_failed'),
          errorMessage: ifCanceled(null, reason),
        },
      );
    },

    async release(jobId: string, token: string): Promise<Fenced<FinishStatus>> {
      const now = cfg.clock();
      // A released job goes back to the queue at once and the attempt is not counted against it.
      const [row] = (await sqlDb
        .batch([
          cancelIfRequested(jobId, token, now),
          db
            .update(jobs)
            .set({
              status: ifCanceled('canceled', 'queued'),
              canceledAt: ifCanceled(msValue(now), null),
              attempt: ifCanceled(jobs.attempt, atLeast(sql`${jobs.attempt} - 1`, 0)),
              notBefore: now,
              updatedAt: now,
              ...NO_LEASE,
            })
            .where(leaseHeld(jobId, token, now))
            .returning({ status: jobs.status }),
        ])
        .then((r) => r[1])) as Array<{ status: FinishStatus }>;
      return row ? { ok: true, value: row.status } : { ok: false, reason: 'stale_lease' };
    },

    async cancel(tenantId: string, jobId: string): Promise<CancelOutcome> {
      const before = await reads.viewJob(tenantId, jobId);
      if (!before) return { kind: 'not_found' };
      if (before.status === 'completed' || before.status === 'failed') return { kind: 'terminal', job: before };
      const now = cfg.clock();
      const mine = and(eq(jobs.id, jobId), eq(jobs.tenantId, tenantId));
      const queuedJob = exists(
        db
          .select({ one: sql`1` })
          .from(jobs)
          .where(and(mine, eq(jobs.status, 'queued'))),
      );
      const isQueued = (then: unknown, otherwise: unknown) => sql`case when ${jobs.status} = 'queued' then ${then} else ${otherwise} end`;
      await sqlDb.batch([
        cancelPendingRequests(sqlDb, now, and(eq(requests.jobId, jobId), queuedJob)),
        db
          .update(jobs)
          .set({
            status: isQueued('canceled', 'canceling'),
            canceledAt: isQueued(msValue(now), null),
            cancelRequested: true,
            cancelRequestedAt: now,
            updatedAt: now,
          })
          .where(and(mine, inArray(jobs.status, ['queued', 'running']))),
      ]);
      const after = await reads.viewJob(tenantId, jobId);
      if (!after) return { kind: 'not_found' };
      return after.status === 'completed' || after.status === 'failed' ? { kind: 'terminal', job: after } : { kind: 'ok', job: after };
    },
  };
}
