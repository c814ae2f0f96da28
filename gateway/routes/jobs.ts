// The client job API under /v1/jobs: submit (idempotent), get, list newest first, stream results
// as NDJSON, cancel. Every route is tenant-scoped: another tenant's job is a 404.
import { Hono } from 'hono';
import { canonicalJson, sha256Hex } from '../../db/ids.js';
import type { JobStore } from '../../db/job-store.js';
import { type ApiIssue, type JobList, ListJobsQuerySchema, type ModelCatalog, type RunnerCapability, zodIssues } from '../../protocol/index.js';
import type { ClientEnv } from '../auth.js';
import { apiError, invalid, notFound, readJson } from '../http-errors.js';
import type { Limits } from '../limits.js';
import { validateJob } from '../validate-job.js';

export type JobRouteDeps = {
  store: JobStore;
  models: ModelCatalog;
  limits: Limits;
  wakeRunners?: () => void;
  /** The only runner's capability (see AppDeps.fleet): requests it cannot serve are refused. */
  fleet?: RunnerCapability;
};

export function jobRoutes({ store, models, limits, wakeRunners, fleet }: JobRouteDeps) {
  const capped = (issues: ApiIssue[]) =>
    issues.length <= limits.maxIssues
      ? issues
      : [...issues.slice(0, limits.maxIssues), { field: 'body', reason: `${issues.length - limits.maxIssues} more issues not listed` }];

  return new Hono<ClientEnv>()
    .post('/', async (c) => {
      const idempotencyKey = c.req.header('idempotency-key') ?? null;
      if (idempotencyKey !== null && (idempotencyKey.length === 0 || idempotencyKey.length > limits.maxIdempotencyKeyLength)) {
        return invalid(c, [{ field: 'Idempotency-Key', reason: `must be 1-${limits.maxIdempotencyKeyLength} characters` }]);
      }
      const body = await readJson(c);
      if (!body.ok) return body.response;
      const checked = validateJob(body.value, models, limits, fleet);
      if (!checked.ok) {
        return checked.status === 413 ? apiError(c, 413, 'payload_too_large', 'too many requests', checked.issues) : invalid(c, capped(checked.issues));
      }
      const outcome = await store.submit({
        tenantId: c.get('tenantId'),
        ...checked.job,
        idempotencyKey,
        bodyHash: idempotencyKey ? await sha256Hex(canonicalJson(body.value)) : null,
      });
      if (outcome.kind === 'conflict') {
        const reason = `already used for job ${outcome.jobId} with a different body`;
        return apiError(c, 409, 'conflict', 'idempotency key reused', [{ field: 'Idempotency-Key', reason }]);
      }
      if (outcome.kind === 'replayed') c.header('Idempotent-Replayed', 'true');
      else wakeRunners?.();
      return c.json(outcome.job, 201);
    })

    .get('/', async (c) => {
      const query = ListJobsQuerySchema.safeParse(c.req.query());
      if (!query.success) return invalid(c, zodIssues(query.error));
      const limit = query.data.limit ?? limits.defaultListLimit;
      if (limit > limits.maxListLimit) return invalid(c, [{ field: 'limit', reason: `must be at most ${limits.maxListLimit}` }]);
      const page = await store.listJobs(c.get('tenantId'), { limit, after: query.data.after, status: query.data.status });
      const list: JobList = {
        object: 'list',
        data: page.jobs,
        has_more: page.hasMore,
        next_after: page.hasMore ? page.jobs[page.jobs.length - 1].id : null,
      };
      return c.json(list);
    })

    .get('/:id', async (c) => {
      const job = await store.getJob(c.get('tenantId'), c.req.param('id'));
      return job ? c.json(job) : notFound(c, 'job');
    })

    .get('/:id/results', async (c) => {
      const tenantId = c.get('tenantId');
      const jobId = c.req.param('id');
      const pageSize = store.config.resultPageSize;
      const first = await store.listResults(tenantId, jobId, -1, pageSize);
      if (!first) return notFound(c, 'job');
      const encoder = new TextEncoder();
      let page: typeof first | null = first;
      let lastIdx = -1;
      // Pages are read as the client consumes them, so a 10,000-line job never sits in memory at once.
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          page ??= (await store.listResults(tenantId, jobId, lastIdx, pageSize)) ?? [];
          const lines = page.map((r) => `${JSON.stringify(r.result)}\n`).join('');
          if (page.length > 0) lastIdx = page[page.length - 1].idx;
          const done = page.length < pageSize;
          page = null;
          if (lines) controller.enqueue(encoder.encode(lines));
          if (done) controller.close();
        },
      });
      return c.body(stream, 200, { 'Content-Type': 'application/x-ndjson; charset=utf-8' });
    })

    .post('/:id/cancel', async (c) => {
      const outcome = await store.cancel(c.get('tenantId'), c.req.param('id'));
      if (outcome.kind === 'not_found') return notFound(c, 'job');
      if (outcome.kind === 'terminal') {
        return apiError(c, 409, 'conflict', `job is already ${outcome.job.status}`, [{ field: 'status', reason: outcome.job.status }]);
      }
      return c.json(outcome.job);
    });
}
