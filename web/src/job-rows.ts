// Joins a job's submitted requests (prompts, params) with its result lines by custom_id, and works
// out per-request method and ratio from whichever source has them (result first, then params, then defaults).
import type { Job, RequestView, ResultLine } from './types.js';

export type Row = { customId: string; prompt: string | null; status: string; method: string; requestedRatio: number | null; result: ResultLine | null };

export function joinRows(job: Job, requests: RequestView[], results: ResultLine[]): Row[] {
  const byId = new Map(results.map((r) => [r.custom_id, r]));
  const base = requests.length > 0 ? requests : results.map((r) => ({ custom_id: r.custom_id, prompt: null as string | null, status: r.status }));
  return base.map((req) => {
    const result = byId.get(req.custom_id) ?? null;
    const params = (req as RequestView).params;
    const method = result?.method ?? params?.compression?.method ?? job.defaults?.compression?.method ?? 'none';
    const ratio = result?.requested_ratio ?? params?.compression?.ratio ?? job.defaults?.compression?.ratio ?? (method === 'none' ? 1 : null);
    return { customId: req.custom_id, prompt: req.prompt, status: result?.status ?? req.status, method, requestedRatio: ratio, result };
  });
}

/** job.accuracy when the gateway reports it, else the share of results marked correct, else null. */
export function accuracy(job: Job, results: ResultLine[]): { value: number; graded: number } | null {
  const graded = results.filter((r) => typeof r.correct === 'boolean');
  if (typeof job.accuracy === 'number') return { value: job.accuracy, graded: graded.length };
  if (graded.length === 0) return null;
  return { value: graded.filter((r) => r.correct).length / graded.length, graded: graded.length };
}

/** The requested ratios across requests, as text ("4", or "2, 4" for a mixed job). */
export function requestedRatios(rows: Row[]): string {
  const ratios = [...new Set(rows.map((r) => r.requestedRatio).filter((r): r is number => r !== null))].sort((a, b) => a - b);
  return ratios.length ? ratios.join(', ') : '—';
}
