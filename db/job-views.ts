// Reads that turn rows into wire views: a job with its live request counts and usage totals
// (usage-aggregate.ts: one grouped query for any number of jobs), and a finished request as a result line.
import type { Job, RequestCounts, RequestParams, RequestResult, Usage, UsageTotals } from '../protocol/index.js';
import { COMPRESSION_LABELS, USAGE_FIELDS } from '../protocol/usage-fields.js';
import type { JobRow, RequestRow } from './schema.js';
import type { SqlDb } from './sql-db.js';
import { aggregateRows, usageTotals } from './usage-aggregate.js';

export type JobAggregate = {
  pending: number;
  succeeded: number;
  failed: number;
  canceled: number;
  usage: UsageTotals | null;
};

const toNum = (v: unknown): number => Number(v ?? 0);
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Counts by status and usage totals for each job id, in one grouped query per page (chunked for D1). */
export async function aggregateJobs(sqlDb: SqlDb, jobIds: string[]): Promise<Map<string, JobAggregate>> {
  const { counts, groups } = await aggregateRows(sqlDb, jobIds);
  const out = new Map<string, JobAggregate>();
  for (const [jobId, c] of counts) out.set(jobId, { ...c, usage: usageTotals(groups.get(jobId)) });
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
    usage: row.promptTokens === null ? null : usageView(row),
    timings: row.timingsJson ? JSON.parse(row.timingsJson) : null,
    backend: row.backend,
    error: row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? '' } : null,
    expected_answer: row.expectedAnswer,
    correct: row.correct,
  };
}

/** A result row's usage columns (one per field and label of usage-fields.ts) under their wire names. */
function usageView(row: RequestRow): Usage {
  const cell = (engine: string) => row[engine as keyof RequestRow];
  const fields = Object.fromEntries(USAGE_FIELDS.map((f) => [f.wire, toNum(cell(f.engine))]));
  const labels = Object.fromEntries(COMPRESSION_LABELS.map((l) => [l.wire, cell(l.engine) ?? null]));
  return { ...fields, ...labels } as Usage;
}
