// Several gateways, one PostgreSQL, in CI: two gateway processes (each with its in-process runner)
// and two remote runners; jobs go to both gateways while runners and one gateway are SIGKILLed.
import { describe, expect, it } from 'vitest';
import { runClusterFaults } from '../../bench/reliability/cluster-faults.js';
import { postgresAvailable } from '../db/store-drivers.js';

describe.skipIf(!postgresAvailable())('cluster on PostgreSQL', () => {
  it('every accepted job is kept and every request ends with exactly one result, usage counted once', async () => {
    const report = await runClusterFaults(
      {
        numJobs: 100,
        requestsPerJob: 1,
        clients: 4,
        submitGapMs: 250,
        maxRunnerKills: 4,
        maxGatewayKills: 1,
        minGapMs: 300,
        maxGapMs: 900,
        deadlineMs: 150_000,
        seed: 11,
        maxTokens: 16,
      },
      () => {},
    );
    expect(report.gateway_kills).toBe(1);
    expect(report.runner_kills).toBeGreaterThanOrEqual(1);
    expect(report.accepted_jobs).toBe(100);
    // Both gateways took submissions (A before its kill and after its restart).
    expect(report.accepted_per_gateway.a).toBeGreaterThan(0);
    expect(report.accepted_per_gateway.b).toBeGreaterThan(0);
    expect(report.jobs_missing).toBe(0);
    expect(report.unaccounted_jobs).toBe(0);
    expect(report.jobs_not_finished).toBe(0);
    expect(report.requests_without_exactly_one_result).toBe(0);
    expect(report.usage_mismatches).toBe(0);
  }, 200_000);
});
