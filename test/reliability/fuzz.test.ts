// Property-based fuzzing of every endpoint, bounded for CI (a few seconds): no 5xx on any generated
// request, the SQLite integrity check passes afterwards, and a valid submission still works.
// `npm run bench:reliability` runs the same property with many more runs and records the counts.
import { describe, expect, it } from 'vitest';
import { DEFAULT_FUZZ_CONFIG, runFuzz } from '../../bench/reliability/fuzz.js';

const seed = Number(process.env.DMS_FUZZ_SEED ?? 8_675_309);

describe('fuzzing every endpoint (fast-check)', () => {
  it('answers every adversarial request below 500 and leaves an intact store', async () => {
    // 'assert' mode: the first 5xx fails the property and fast-check prints the shrunk request.
    const report = await runFuzz({ ...DEFAULT_FUZZ_CONFIG, numRuns: 600, seed }, 'assert');
    expect(report.requests).toBe(600);
    expect(report.server_errors).toBe(0);
    expect(report.integrity_ok).toBe(true);
    expect(report.healthy_after).toBe(true);
    // The generators reach past authentication and validation, not just the front door.
    expect(report.statuses['201'] ?? 0).toBeGreaterThan(10);
    expect(report.statuses['400'] ?? 0).toBeGreaterThan(100);
    expect(report.statuses['413'] ?? 0).toBeGreaterThan(5);
  });
});
