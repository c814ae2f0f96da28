// Reads a job's submitted requests back (prompt, resolved params, status) page by page in
// submission order; tenant-scoped like every client read, so another tenant's job reads as absent.
import { and, asc, eq, gt } from 'drizzle-orm';
import type { JobRequestView, ResolvedParams } from '../protocol/index.js';
import type { SqlDb } from './sql-db.js';

export interface RequestReads {
  /** Requests with idx > afterIdx, at most `limit`; null when the job is not the tenant's. */
  listRequests(tenantId: string, jobId: string, afterIdx: number, limit: number): Promise<Array<{ idx: number; request: JobRequestView }> | null>;
}

export function createRequestReads({ db, tables: { jobs, requests } }: SqlDb): RequestReads {
  return {
    async listRequests(tenantId, jobId, afterIdx, limit) {
      const [job] = await db
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.id, jobId), eq(jobs.tenantId, tenantId)))
        .limit(1);
      if (!job) return null;
      const rows = await db
        .select({ idx: requests.idx, customId: requests.customId, prompt: requests.prompt, paramsJson: requests.paramsJson, status: requests.status })
        .from(requests)
        .where(and(eq(requests.jobId, jobId), gt(requests.idx, afterIdx)))
        .orderBy(asc(requests.idx))
        .limit(limit);
      return rows.map((r) => ({
        idx: r.idx,
        request: { custom_id: r.customId, prompt: r.prompt, params: JSON.parse(r.paramsJson) as ResolvedParams, status: r.status },
      }));
    },
  };
}
