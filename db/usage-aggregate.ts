// Job usage totals, derived from the usage-field table: one grouped query per page of jobs gives
// partial sums per (job, method, requested_ratio, window); combining partials applies each field's aggregation.
import { inArray, type SQL, sql } from 'drizzle-orm';
import type { CompressionTotals, UsageTotals } from '../protocol/index.js';
import { COMPRESSION_LABELS, USAGE_FIELDS, type UsageFieldSpec } from '../protocol/usage-fields.js';
import type { SqlDb, StoreTables } from './sql-db.js';

/** Counts by request status plus the usage partials of one (job, compression) group. */
type Partial = {
  labels: { method: string | null; requested_ratio: number | null; window: number | null };
  numResults: number;
  numGraded: number;
  numCorrect: number;
  /** Per field: sum or max, or for a weighted mean sum(x * w), sum(w) and, for rows written without w, sum(x) and count(x). */
  values: Record<string, { value: number; product: number; weight: number; plain: number; count: number }>;
};

export type StatusCounts = { pending: number; succeeded: number; failed: number; canceled: number };

const toNum = (v: unknown): number => Number(v ?? 0);
type Requests = StoreTables['requests'];
const column = (requests: Requests, engine: string) => requests[engine as keyof Requests['$inferSelect']] as unknown as SQL;

/** The aggregate columns of the grouped query, named `<wire>__<part>`. */
function aggregateSelect(requests: Requests): Record<string, SQL> {
  const out: Record<string, SQL> = {};
  for (const f of USAGE_FIELDS as readonly UsageFieldSpec[]) {
    const x = column(requests, f.engine);
    if (f.aggregation.kind === 'sum') out[`${f.wire}__value`] = sql`sum(${x})`;
    else if (f.aggregation.kind === 'max') out[`${f.wire}__value`] = sql`max(${x})`;
    else {
      const weight = USAGE_FIELDS.find((w) => w.wire === (f.aggregation as { weight: string }).weight)!;
      const w = column(requests, weight.engine);
      out[`${f.wire}__product`] = sql`sum(${x} * ${w})`;
      out[`${f.wire}__weight`] = sql`sum(case when ${x} is not null then ${w} end)`;
      out[`${f.wire}__plain`] = sql`sum(case when ${w} is null then ${x} end)`;
      out[`${f.wire}__count`] = sql`count(case when ${w} is null then ${x} end)`;
    }
  }
  return out;
}

/** Status counts per job, and the usage partials per (job, compression group), for a page of job ids. */
export async function aggregateRows({ db, tables: { requests }, maxBoundParams: maxParams }: SqlDb, jobIds: string[]) {
  const counts = new Map<string, StatusCounts>();
  const groups = new Map<string, Partial[]>();
  for (let i = 0; i < jobIds.length; i += maxParams - 1) {
    const ids = jobIds.slice(i, i + maxParams - 1);
    const labelCols = Object.fromEntries(COMPRESSION_LABELS.map((l) => [l.wire, column(requests, l.engine)]));
    const rows = (await db
      .select({
        jobId: requests.jobId,
        ...labelCols,
        pending: sql<number>`sum(case when ${requests.status} = 'pending' then 1 else 0 end)`,
        succeeded: sql<number>`sum(case when ${requests.status} = 'succeeded' then 1 else 0 end)`,
        failed: sql<number>`sum(case when ${requests.status} = 'failed' then 1 else 0 end)`,
        canceled: sql<number>`sum(case when ${requests.status} = 'canceled' then 1 else 0 end)`,
        numResults: sql<number>`count(${requests.promptTokens})`,
        numGraded: sql<number>`count(case when ${requests.promptTokens} is not null then ${requests.correct} end)`,
        numCorrect: sql<number>`sum(case when ${requests.promptTokens} is not null and ${requests.correct} then 1 else 0 end)`,
        ...aggregateSelect(requests),
      })
      .from(requests)
      .where(inArray(requests.jobId, ids))
      .groupBy(requests.jobId, ...Object.values(labelCols))) as Array<Record<string, unknown> & { jobId: string }>;
    for (const r of rows) {
      const c = counts.get(r.jobId) ?? { pending: 0, succeeded: 0, failed: 0, canceled: 0 };
      for (const k of ['pending', 'succeeded', 'failed', 'canceled'] as const) c[k] += toNum(r[k]);
      counts.set(r.jobId, c);
      if (toNum(r.numResults) === 0) continue;
      const values: Partial['values'] = {};
      for (const f of USAGE_FIELDS) {
        values[f.wire] = {
          value: toNum(r[`${f.wire}__value`]),
          product: toNum(r[`${f.wire}__product`]),
          weight: toNum(r[`${f.wire}__weight`]),
          plain: toNum(r[`${f.wire}__plain`]),
          count: toNum(r[`${f.wire}__count`]),
        };
      }
      const label = (k: string) => (r[k] === null || r[k] === undefined ? null : r[k]);
      const partial: Partial = {
        labels: {
          method: label('method') as string | null,
          requested_ratio: label('requested_ratio') as number | null,
          window: label('window') as number | null,
        },
        numResults: toNum(r.numResults),
        numGraded: toNum(r.numGraded),
        numCorrect: toNum(r.numCorrect),
        values,
      };
      groups.set(r.jobId, [...(groups.get(r.jobId) ?? []), partial]);
    }
  }
  return { counts, groups };
}

/** Partials combined as each field's aggregation says, with accuracy and the shared labels. */
function combine(parts: Partial[]): CompressionTotals {
  const same = <K extends keyof Partial['labels']>(k: K) => (parts.every((p) => p.labels[k] === parts[0].labels[k]) ? parts[0].labels[k] : null);
  const totals: Record<string, number> = {};
  for (const f of USAGE_FIELDS as readonly UsageFieldSpec[]) {
    const v = parts.map((p) => p.values[f.wire]);
    if (f.aggregation.kind === 'sum') totals[f.wire] = v.reduce((a, x) => a + x.value, 0);
    else if (f.aggregation.kind === 'max') totals[f.wire] = Math.max(...v.map((x) => x.value));
    else {
      const weight = v.reduce((a, x) => a + x.weight, 0);
      const count = v.reduce((a, x) => a + x.count, 0);
      // Rows without the weight (written by runners that predate it) can only be averaged plainly.
      totals[f.wire] = weight > 0 ? v.reduce((a, x) => a + x.product, 0) / weight : count > 0 ? v.reduce((a, x) => a + x.plain, 0) / count : 1;
    }
  }
  const numGraded = parts.reduce((a, p) => a + p.numGraded, 0);
  const numCorrect = parts.reduce((a, p) => a + p.numCorrect, 0);
  return {
    method: same('method'),
    requested_ratio: same('requested_ratio'),
    window: same('window'),
    num_results: parts.reduce((a, p) => a + p.numResults, 0),
    ...(totals as Record<(typeof USAGE_FIELDS)[number]['wire'], number>),
    num_graded: numGraded,
    num_correct: numCorrect,
    accuracy: numGraded > 0 ? numCorrect / numGraded : null,
  };
}

/** A job's usage totals from its groups; a breakdown per compression when it mixes several. */
export function usageTotals(parts: Partial[] | undefined): UsageTotals | null {
  if (!parts || parts.length === 0) return null;
  const whole = combine(parts);
  const { method, requested_ratio, window, num_results, num_graded, num_correct, accuracy, ...fields } = whole;
  return {
    num_results,
    ...fields,
    method,
    requested_ratio,
    window,
    num_graded,
    num_correct,
    accuracy,
    by_compression: parts.length > 1 ? parts.map((p) => combine([p])) : null,
  };
}
