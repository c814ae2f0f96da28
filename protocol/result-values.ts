// Values the gateway computes for a result, without zod (db/ uses them and must not load it):
// a runner's usage completed for storage, and the grade of an answer against the expected one.
import type { RunnerUsage, Usage } from './results.js';

/** A runner's usage as stored and served: the gateway's cost, and null for what an older runner did not report. */
export function completeUsage(u: RunnerUsage, cost: number): Usage {
  return {
    ...u,
    kv_tokens_retained: u.kv_tokens_retained ?? 0,
    method: u.method ?? null,
    requested_ratio: u.requested_ratio ?? null,
    window: u.window ?? null,
    cost,
  };
}

/**
 * The grading rule (the eval's): a succeeded result is correct when its voted answer equals the
 * expected answer exactly; null when the request carried no expected answer or produced no result.
 */
export function gradeAnswer(status: 'succeeded' | 'failed' | 'canceled', answer: string | null, expected: string | null): boolean | null {
  if (expected === null || status !== 'succeeded') return null;
  return answer === expected;
}
