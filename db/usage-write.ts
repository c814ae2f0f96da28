// The usage columns a result write sets, derived from the usage-field table: each field and label
// under its engine (Drizzle) name; the gateway computes cost from runner_seconds, nothing else.
import type { RunnerUsage } from '../protocol/index.js';
import { completeUsage } from '../protocol/result-values.js';
import { COMPRESSION_LABELS, USAGE_FIELDS } from '../protocol/usage-fields.js';

/** Column values for a written result's usage (all null when it carried none). */
export function usageWriteSet(usage: RunnerUsage | null, pricePerSecond: number): Record<string, number | string | null> {
  const stored = usage ? completeUsage(usage, usage.runner_seconds * pricePerSecond) : null;
  const out: Record<string, number | string | null> = {};
  for (const f of USAGE_FIELDS) out[f.engine] = stored ? stored[f.wire] : null;
  // A label the runner did not report stays null, as does kv_tokens_retained (the job then averages plainly).
  for (const l of COMPRESSION_LABELS) out[l.engine] = stored ? stored[l.wire] : null;
  if (usage && usage.kv_tokens_retained === undefined) out.kvTokensRetained = null;
  return out;
}
