// Reads for the Prometheus scrape: jobs and requests by status, the queue and its oldest job, and
// runners seen, each one grouped query; plus the compression method of written requests.
import { and, count, eq, gt, inArray, min } from 'drizzle-orm';
import type { SqlDb } from './sql-db.js';
import type { StoreConfig } from './store-config.js';

export type StoreSnapshot = {
  jobsByStatus: Record<string, number>;
  requestsByStatus: Record<string, number>;
  /** Jobs waiting for a claim, and the creation time (ms) of the oldest of them (null when none). */
  queuedJobs: number;
  oldestQueuedAt: number | null;
  runnersSeen: number;
};

export interface MetricsReads {
  /** Counts at this instant; `runnersWithinMs` bounds which runners count as seen. */
  metricsSnapshot(runnersWithinMs: number): Promise<StoreSnapshot>;
  /** custom_id -> compression method of the job's requests (from their resolved params). */
  requestMethods(jobId: string, customIds: string[]): Promise<Map<string, string>>;
}

export function createMetricsReads({ db, tables: { jobs, requests, runners }, maxBoundParams }: SqlDb, cfg: StoreConfig): MetricsReads {
  return {
    async metricsSnapshot(runnersWithinMs) {
      const jobRows = await db.select({ status: jobs.status, n: count() }).from(jobs).groupBy(jobs.status);
      const requestRows = await db.select({ status: requests.status, n: count() }).from(requests).groupBy(requests.status);
      const [queue] = await db
        .select({ n: count(), oldest: min(jobs.createdAt) })
        .from(jobs)
        .where(eq(jobs.status, 'queued'));
      const [seen] = await db
        .select({ n: count() })
        .from(runners)
        .where(gt(runners.lastSeenAt, cfg.clock() - runnersWithinMs));
      const byStatus = (rows: Array<{ status: string; n: number }>) => Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
      return {
        jobsByStatus: byStatus(jobRows),
        requestsByStatus: byStatus(requestRows),
        queuedJobs: Number(queue?.n ?? 0),
        oldestQueuedAt: queue?.oldest === null || queue?.oldest === undefined ? null : Number(queue.oldest),
        runnersSeen: Number(seen?.n ?? 0),
      };
    },

    async requestMethods(jobId, customIds) {
      const out = new Map<string, string>();
      for (let i = 0; i < customIds.length; i += maxBoundParams - 1) {
        const rows = await db
          .select({ customId: requests.customId, paramsJson: requests.paramsJson })
          .from(requests)
          .where(and(eq(requests.jobId, jobId), inArray(requests.customId, customIds.slice(i, i + maxBoundParams - 1))));
        for (const r of rows) {
          const params = JSON.parse(r.paramsJson) as { compression?: { method?: string } };
          out.set(r.customId, params.compression?.method ?? 'none');
        }
      }
      return out;
    },
  };
}
