// Reads that turn rows into wire views: a job with its live request counts and usage totals
// (one aggregate query for any number of jobs), and a finished request as a result line.
import { and, inArray, sql } from 'drizzle-orm';
import type { Job, RequestCounts, RequestParams, RequestResult, UsageTotals } from '../protocol/index.js';
import type { JobRow, RequestRow } from './schema.js';
import type { SqlDb } from './sql-db.js';

export type JobAggregate = {
  pending: number;
  succeeded: number;
  failed: number;
  canceled: number;
  usage: UsageTotals | null;
};

const toNum = (v: unknown): number => Number(v ?? 0);
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Counts by status and usage totals for each job id, in one grouped query (chunked for D1). */
export async function aggregateJobs({ db, tables: { requests }, maxBoundParams: maxParams }: SqlDb, jobIds: string[]): Promise<Map<string, JobAggregate>> {
  const out = new Map<string, JobAggregate>();
  for (let i = 0; i < jobIds.length; i += maxParams - 1) {
    const ids = jobIds.slice(i, i + maxParams - 1);
    const rows = await db
      .select({
        jobId: requests.jobId,
        pending: sql<number>`sum(case when ${requests.status} = 'pending' then 1 else 0 end)`,
        succeeded: sql<number>`sum(case when ${requests.status} = 'succeeded' then 1 else 0 end)`,
        failed: sql<number>`sum(case when ${requests.status} = 'failed' then 1 else 0 end)`,
        canceled: sql<number>`sum(case when ${requests.status} = 'canceled' then 1 else 0 end)`,
        numResults: sql<number>`count(${requests.promptTokens})`,
        promptTokens: sql<number>`sum(${requests.promptTokens})`,
        completionTokens: sql<number>`sum(${requests.completionTokens})`,
        kvTokenReads: sql<number>`sum(${requests.kvTokenReads})`,
        kvTokenReadsPerHead: sql<number>`sum(${requests.kvTokenReadsPerHead})`,
        prefillKvTokenReads: sql<number>`sum(${requests.prefillKvTokenReads})`,
        peakKvTokens: sql<number>`max(${requests.peakKvTokens})`,
        peakKvTokensPerHead: sql<number>`max(${requests.peakKvTokensPerHead})`,
        peakKvBytes: sql<number>`max(${requests.peakKvBytes})`,
        achievedRatio: sql<number>`avg(${requests.achievedRatio})`,
        runnerSeconds: sql<number>`sum(${requests.runnerSeconds})`,
        cost: sql<number>`sum(${requests.cost})`,
      })
      .from(requests)
      .where(and(inArray(requests.jobId, ids)))
      .groupBy(requests.jobId);
    for (const r of rows) {
      const numResults = toNum(r.numResults);
      out.set(r.jobId, {
        pending: toNum(r.pending),
        succeeded: toNum(r.succeeded),
        failed: toNum(r.failed),
        canceled: toNum(r.canceled),
        usage:
          numResults === 0
            ? null
            : {
                num_results: numResults,
                prompt_tokens: toNum(r.promptTokens),
                completion_tokens: toNum(r.completionTokens),
                kv_token_reads: toNum(r.kvTokenReads),
                kv_token_reads_per_head: toNum(r.kvTokenReadsPerHead),
                prefill_kv_token_reads: toNum(r.prefillKvTokenReads),
                peak_kv_tokens: toNum(r.peakKvTokens),
                peak_kv_tokens_per_head: toNum(r.peakKvTokensPerHead),
                peak_kv_bytes: toNum(r.peakKvBytes),
                achieved_ratio: toNum(r.achievedRatio),
                runner_seconds: toNum(r.runnerSeconds),
                cost: toNum(r.cost),
              },
      });
    }
  }
  return out;
}

/** A job row plus its aggregate as the wire view; pending requests count as running while leased. */
export function jobView(row: JobRow, agg: JobAggregate | undefined): Job {
  const pending = agg?.pending ?? 0;
  const leased = row.status === 'running' || row.status === 'canceling';
  const counts: RequestCounts = {
    total: row.numRequests,
    queued: leased ? 0 : pending,
    running: leased ? pending : 0,
    succeeded: agg?.succeeded ?? 0,
    failed: agg?.failed ?? 0,
    canceled: agg?.canceled ?? 0,
  };
  return {
    id: row.id,
    object: 'job',
    model: row.model,
    status: row.status,
    created_at: iso(row.createdAt) as string,
    started_at: iso(row.startedAt),
    cancel_requested_at: iso(row.cancelRequestedAt),
    completed_at: iso(row.completedAt),
    failed_at: iso(row.failedAt),
    canceled_at: iso(row.canceledAt),
    attempt: row.attempt,
    max_attempts: row.maxAttempts,
    request_counts: counts,
    usage: agg?.usage ?? null,
    error: row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? '' } : null,
    defaults: row.defaultsJson ? (JSON.parse(row.defaultsJson) as RequestParams) : null,
    metadata: row.metadataJson ? (JSON.parse(row.metadataJson) as Record<string, string>) : null,
  };
}

/** A finished request row as one results line. */
export function resultView(row: RequestRow): RequestResult {
  return {
    custom_id: row.customId,
    status: row.status === 'pending' ? 'failed' : row.status,
    answer: row.answer,
    threads: row.threadsJson ? JSON.parse(row.threadsJson) : [],
    usage:
      row.promptTokens === null
        ? null
        : {
            prompt_tokens: row.promptTokens,
            completion_tokens: toNum(row.completionTokens),
            kv_token_reads: toNum(row.kvTokenReads),
            kv_token_reads_per_head: toNum(row.kvTokenReadsPerHead),
            prefill_kv_token_reads: toNum(row.prefillKvTokenReads),
            peak_kv_tokens: toNum(row.peakKvTokens),
            peak_kv_tokens_per_head: toNum(row.peakKvTokensPerHead),
            peak_kv_bytes: toNum(row.peakKvBytes),
            achieved_ratio: toNum(row.achievedRatio),
            runner_seconds: toNum(row.runnerSeconds),
            cost: toNum(row.cost),
          },
    timings: row.timingsJson ? JSON.parse(row.timingsJson) : null,
    backend: row.backend,
    error: row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? '' } : null,
  };
}
