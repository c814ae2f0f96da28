// The gateway's metric names (dms_*) over any MetricsRegistry: counters moved by store events and
// HTTP traffic, and gauges read from the store at scrape time so they agree across processes.
import type { JobStore } from '../../db/job-store.js';
import type { RunnerUsage } from '../../protocol/index.js';
import { JOB_STATUSES } from '../../protocol/index.js';
import type { MetricsRegistry } from './registry.js';

/** Request row statuses as the store keeps them ('pending' is queued or running work). */
const REQUEST_STATUSES = ['pending', 'succeeded', 'failed', 'canceled'] as const;

/** Runners whose last claim or heartbeat is older than this no longer count as seen (as in /healthz). */
export const RUNNERS_SEEN_WITHIN_MS = 5 * 60_000;

/** Achieved compression spans 1 (nothing evicted) to a bit past the largest trained ratio. */
const RATIO_BUCKETS = [1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 12, 16];
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;

export function createServiceMetrics(registry: MetricsRegistry, clock: () => number = () => Date.now()) {
  const jobs = registry.gauge({ name: 'dms_jobs', help: 'Jobs by status (read from the store at scrape time)', labelNames: ['status'] });
  const requests = registry.gauge({ name: 'dms_requests', help: 'Requests by status (read from the store at scrape time)', labelNames: ['status'] });
  const queueDepth = registry.gauge({ name: 'dms_queue_depth', help: 'Jobs waiting to be claimed', labelNames: [] });
  const oldestAge = registry.gauge({ name: 'dms_queue_oldest_age_seconds', help: 'Age of the oldest queued job (0 when none)', labelNames: [] });
  const runnersSeen = registry.gauge({ name: 'dms_runners_seen', help: 'Runners that claimed or heartbeat in the last 5 minutes', labelNames: [] });
  const results = registry.counter({ name: 'dms_results_written_total', help: 'Request results written by runners', labelNames: ['status', 'method'] });
  const completionTokens = registry.counter({
    name: 'dms_completion_tokens_total',
    help: 'Tokens generated (all threads), by compression method',
    labelNames: ['method'],
  });
  const promptTokens = registry.counter({ name: 'dms_prompt_tokens_total', help: 'Prompt tokens prefilled, by compression method', labelNames: ['method'] });
  const kvReads = registry.counter({
    name: 'dms_kv_token_reads_total',
    help: 'Decode-time KV tokens read (all layers and KV heads), by compression method',
    labelNames: ['method'],
  });
  const ratio = registry.histogram({
    name: 'dms_achieved_ratio',
    help: 'Achieved KV compression ratio per request, by method',
    labelNames: ['method'],
    buckets: RATIO_BUCKETS,
  });
  const runnerSeconds = registry.counter({ name: 'dms_runner_seconds_total', help: 'Runner compute seconds of written results', labelNames: ['method'] });
  const claims = registry.counter({ name: 'dms_lease_claims_total', help: 'Jobs leased to a runner', labelNames: [] });
  const expiries = registry.counter({
    name: 'dms_lease_expiries_total',
    help: 'Expired leases taken back by the sweep, by what became of the job',
    labelNames: ['outcome'],
  });
  const staleWrites = registry.counter({
    name: 'dms_stale_writes_total',
    help: 'Runner calls refused because the lease was gone (409 stale_lease), by call',
    labelNames: ['op'],
  });
  const httpRequests = registry.counter({
    name: 'dms_http_requests_total',
    help: 'HTTP requests by route pattern, method and status',
    labelNames: ['route', 'method', 'status'],
  });
  const httpLatency = registry.histogram({
    name: 'dms_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern, method and status',
    labelNames: ['route', 'method', 'status'],
    buckets: LATENCY_BUCKETS,
  });

  return {
    registry,

    /** One written result: tokens, KV reads, ratio and runner time, labelled with the request's method. */
    result(status: string, method: string, usage: RunnerUsage | null | undefined): void {
      results.inc({ status, method });
      if (!usage) return;
      completionTokens.inc({ method }, usage.completion_tokens);
      promptTokens.inc({ method }, usage.prompt_tokens);
      kvReads.inc({ method }, usage.kv_token_reads);
      runnerSeconds.inc({ method }, usage.runner_seconds);
      if (usage.achieved_ratio > 0) ratio.observe({ method }, usage.achieved_ratio);
    },
    claim: () => claims.inc(),
    expired(outcome: 'requeued' | 'failed' | 'canceled', count: number): void {
      if (count > 0) expiries.inc({ outcome }, count);
    },
    stale: (op: string) => staleWrites.inc({ op }),
    http(route: string, method: string, status: number, seconds: number): void {
      const labels = { route, method, status: String(status) };
      httpRequests.inc(labels);
      httpLatency.observe(labels, seconds);
    },

    /** Reads the store's counts into the gauges, then renders every metric. */
    async scrape(store: JobStore): Promise<string> {
      const snap = await store.metricsSnapshot(RUNNERS_SEEN_WITHIN_MS);
      for (const status of JOB_STATUSES) jobs.set({ status }, snap.jobsByStatus[status] ?? 0);
      for (const status of REQUEST_STATUSES) requests.set({ status }, snap.requestsByStatus[status] ?? 0);
      queueDepth.set({}, snap.queuedJobs);
      oldestAge.set({}, snap.oldestQueuedAt === null ? 0 : Math.max(0, (clock() - snap.oldestQueuedAt) / 1000));
      runnersSeen.set({}, snap.runnersSeen);
      return registry.render();
    },
  };
}
