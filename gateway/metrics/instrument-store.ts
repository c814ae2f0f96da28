// Wraps a JobStore so that its lease and result events move the counters: claims, expiries swept,
// stale (fenced-off) runner writes, and per-result tokens, KV reads and achieved ratio by method.
import type { ClaimInput, Fenced, JobStore, WriteOutcome } from '../../db/job-store.js';
import type { RequestResultWrite } from '../../protocol/index.js';
import type { ServiceMetrics } from './service-metrics.js';

/** Stores already wrapped, with the metrics they feed: wrapping twice would count twice. */
const instrumented = new WeakMap<JobStore, ServiceMetrics>();

/** The metrics a store already feeds (it was returned by instrumentStore), or undefined. */
export function metricsOf(store: JobStore): ServiceMetrics | undefined {
  return instrumented.get(store);
}

/**
 * The store with counting methods. Both runner paths go through it (the HTTP runner API and the
 * in-process runner, which node.ts hands the same wrapped store), so nothing is counted twice or missed.
 */
export function instrumentStore(store: JobStore, metrics: ServiceMetrics): JobStore {
  const already = instrumented.get(store);
  if (already === metrics) return store;
  if (already) throw new Error('this store already feeds another metrics instance');

  const fenced = async <T>(op: string, outcome: Promise<Fenced<T>>): Promise<Fenced<T>> => {
    const value = await outcome;
    if (!value.ok) metrics.stale(op);
    return value;
  };

  // The raw store is the prototype, not a copied snapshot: methods looked up later (or replaced
  // on the raw store by a test double) are the store's own at call time.
  const wrapped: JobStore = Object.create(store);
  Object.assign(wrapped, {
    async claim(input: ClaimInput) {
      // The store's claim sweeps inside itself, where expiries go uncounted: sweeping here first
      // counts them (the inner sweep then finds nothing; it costs one indexed batch per claim).
      await wrapped.sweep();
      const claim = await store.claim(input);
      if (claim) metrics.claim();
      return claim;
    },
    async sweep() {
      const counts = await store.sweep();
      metrics.expired('requeued', counts.requeued);
      metrics.expired('failed', counts.failed);
      metrics.expired('canceled', counts.canceled);
      return counts;
    },
    heartbeat: (jobId: string, token: string) => fenced('heartbeat', store.heartbeat(jobId, token)),
    complete: (jobId: string, token: string) => fenced('complete', store.complete(jobId, token)),
    fail: (jobId: string, token: string, reason: string) => fenced('fail', store.fail(jobId, token, reason)),
    release: (jobId: string, token: string) => fenced('release', store.release(jobId, token)),
    async writeResults(jobId: string, token: string, results: RequestResultWrite[]): Promise<WriteOutcome> {
      const outcome = await store.writeResults(jobId, token, results);
      if (!outcome.ok) {
        if (outcome.reason === 'stale_lease') metrics.stale('results');
        return outcome;
      }
      if (outcome.written.length > 0) {
        const methods = await store.requestMethods(jobId, outcome.written);
        const written = new Set(outcome.written);
        for (const r of results) {
          if (written.has(r.custom_id)) metrics.result(r.status, methods.get(r.custom_id) ?? 'none', r.usage);
        }
      }
      return outcome;
    },
  } satisfies Partial<JobStore>);
  instrumented.set(wrapped, metrics);
  return wrapped;
}
