// The runner protocol over HTTP under /v1/runner (runner token): claim, heartbeat, write results,
// complete, fail, release. A lease that is no longer held answers 409 and the runner must stop.
import { type Context, Hono } from 'hono';
import type { Fenced, FinishStatus, JobStore } from '../../db/job-store.js';
import {
  backendOfLabel,
  ClaimBodySchema,
  FailBodySchema,
  type FinishResponse,
  LeaseBodySchema,
  methodsServedBy,
  type WriteResultsResponse,
  WriteResultsBodySchema,
} from '../../protocol/index.js';
import { apiError, invalid, readBody } from '../http-errors.js';
import type { Limits } from '../limits.js';

export type RunnerRouteDeps = { store: JobStore; limits: Limits };

export const staleLease = (c: Context) => apiError(c, 409, 'stale_lease', 'the lease on this job is no longer held; stop working on it');

function finished(c: Context, outcome: Fenced<FinishStatus>): Response {
  if (!outcome.ok) return staleLease(c);
  const body: FinishResponse = { status: outcome.value };
  return c.json(body);
}

export function runnerRoutes({ store, limits }: RunnerRouteDeps) {
  return new Hono()
    .post('/claim', async (c) => {
      const body = await readBody(c, ClaimBodySchema);
      if (!body.ok) return body.response;
      const { runner_id, models, backend, methods } = body.value;
      // A runner that names no methods is routed by the backend it reports (runners before `methods`
      // sent one); naming neither, it claims any job, as before.
      const named = backendOfLabel(backend);
      const served = methods ?? (named ? methodsServedBy(named) : undefined);
      const claim = await store.claim({ runnerId: runner_id, models, backend, methods: served });
      return claim ? c.json(claim) : c.body(null, 204);
    })

    .post('/jobs/:id/heartbeat', async (c) => {
      const body = await readBody(c, LeaseBodySchema);
      if (!body.ok) return body.response;
      const beat = await store.heartbeat(c.req.param('id'), body.value.lease_token);
      return beat.ok ? c.json(beat.value) : staleLease(c);
    })

    .post('/jobs/:id/results', async (c) => {
      const body = await readBody(c, WriteResultsBodySchema);
      if (!body.ok) return body.response;
      const { lease_token, results } = body.value;
      if (results.length > limits.maxResultsPerWrite) {
        return apiError(c, 413, 'payload_too_large', 'too many results', [{ field: 'results', reason: `at most ${limits.maxResultsPerWrite} per call` }]);
      }
      const seen = new Map<string, number>();
      for (const [i, r] of results.entries()) {
        const first = seen.get(r.custom_id);
        if (first !== undefined) return invalid(c, [{ field: `results[${i}].custom_id`, reason: `duplicate of results[${first}]` }]);
        seen.set(r.custom_id, i);
      }
      const outcome = await store.writeResults(c.req.param('id'), lease_token, results);
      if (!outcome.ok && outcome.reason === 'stale_lease') return staleLease(c);
      if (!outcome.ok) {
        const issues = outcome.customIds.map((id) => ({ field: `results[${seen.get(id)}].custom_id`, reason: `no request "${id}" in this job` }));
        return invalid(c, issues);
      }
      const response: WriteResultsResponse = { written: outcome.written, already_written: outcome.alreadyWritten };
      return c.json(response);
    })

    .post('/jobs/:id/complete', async (c) => {
      const body = await readBody(c, LeaseBodySchema);
      if (!body.ok) return body.response;
      return finished(c, await store.complete(c.req.param('id'), body.value.lease_token));
    })

    .post('/jobs/:id/fail', async (c) => {
      const body = await readBody(c, FailBodySchema);
      if (!body.ok) return body.response;
      return finished(c, await store.fail(c.req.param('id'), body.value.lease_token, body.value.reason));
    })

    .post('/jobs/:id/release', async (c) => {
      const body = await readBody(c, LeaseBodySchema);
      if (!body.ok) return body.response;
      return finished(c, await store.release(c.req.param('id'), body.value.lease_token));
    });
}
