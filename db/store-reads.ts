// Read paths of the job store: one job, a tenant's jobs page by page (newest first), finished
// results in submission order, runners seen recently, and a liveness ping.
import { and, asc, desc, eq, gt, inArray, lt, ne, sql } from 'drizzle-orm';
import type { Job, JobStatus, RequestResult } from '../protocol/index.js';
import { aggregateJobs, jobView, resultView } from './job-views.js';
import type { RunnerSeen } from './job-store.js';
import type { JobRow } from './schema.js';
import type { SqlDb } from './sql-db.js';
import type { StoreConfig } from './store-config.js';

export type ReadOps = ReturnType<typeof createReadOps>;

export function createReadOps(sqlDb: SqlDb, cfg: StoreConfig) {
  const { db } = sqlDb;
  const { jobs, requests, runners } = sqlDb.tables;
  async function views(rows: JobRow[]): Promise<Job[]> {
    const aggs = await aggregateJobs(
      sqlDb,
      rows.map((r) => r.id),
    );
    return rows.map((r) => jobView(r, aggs.get(r.id)));
  }

  async function jobRow(tenantId: string | null, jobId: string): Promise<JobRow | undefined> {
    const where = tenantId === null ? eq(jobs.id, jobId) : and(eq(jobs.id, jobId), eq(jobs.tenantId, tenantId));
    const [row] = await db.select().from(jobs).where(where).limit(1);
    return row;
  }

  /** The view of any job (tenantId null, internal use) or of a tenant's job. */
  async function viewJob(tenantId: string | null, jobId: string): Promise<Job | null> {
    const row = await jobRow(tenantId, jobId);
    return row ? (await views([row]))[0] : null;
  }

  return {
    viewJob,
    getJob: (tenantId: string, jobId: string) => viewJob(tenantId, jobId),

    async listJobs(tenantId: string, opts: { limit: number; after?: string; status?: JobStatus[] }): Promise<{ jobs: Job[]; hasMore: boolean }> {
      let beforeSeq: number | undefined;
      if (opts.after) {
        const cursor = await jobRow(tenantId, opts.after);
        if (!cursor) return { jobs: [], hasMore: false };
        beforeSeq = cursor.seq;
      }
      const where = and(
        eq(jobs.tenantId, tenantId),
        beforeSeq === undefined ? undefined : lt(jobs.seq, beforeSeq),
        opts.status?.length ? inArray(jobs.status, opts.status) : undefined,
      );
      const rows = await db
        .select()
        .from(jobs)
        .where(where)
        .orderBy(desc(jobs.seq))
        .limit(opts.limit + 1);
      return { jobs: await views(rows.slice(0, opts.limit)), hasMore: rows.length > opts.limit };
    },

    async listResults(tenantId: string, jobId: string, afterIdx: number, limit: number): Promise<Array<{ idx: number; result: RequestResult }> | null> {
      if (!(await jobRow(tenantId, jobId))) return null;
      const rows = await db
        .select()
        .from(requests)
        .where(and(eq(requests.jobId, jobId), ne(requests.status, 'pending'), gt(requests.idx, afterIdx)))
        .orderBy(asc(requests.idx))
        .limit(limit);
      return rows.map((r) => ({ idx: r.idx, result: resultView(r) }));
    },

    async recentRunners(withinMs: number): Promise<RunnerSeen[]> {
      const rows = await db
        .select()
        .from(runners)
        .where(gt(runners.lastSeenAt, cfg.clock() - withinMs))
        .orderBy(desc(runners.lastSeenAt));
      return rows.map((r) => ({ runner_id: r.id, backend: r.backend, last_seen_at: new Date(r.lastSeenAt).toISOString() }));
    },

    async ping(): Promise<void> {
      await db.select({ one: sql<number>`1` }).from(jobs).limit(1);
    },
  };
}
