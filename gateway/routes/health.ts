// Unauthenticated service routes: /healthz (database answers; models served; runners seen with
// their backend) and /openapi.json; plus the model catalog under /v1/models for clients.
import { Hono } from 'hono';
import type { JobStore } from '../../db/job-store.js';
import type { ModelCatalog } from '../../protocol/index.js';
import { apiError } from '../http-errors.js';
import { openApiDocument } from '../openapi.js';

/** Runners whose last claim or heartbeat is older than this are not listed in /healthz. */
const RUNNER_VISIBLE_MS = 5 * 60_000;

export function healthRoutes(deps: { store: JobStore; models: ModelCatalog; clock: () => number }) {
  return new Hono()
    .get('/healthz', async (c) => {
      try {
        await deps.store.ping();
      } catch (error) {
        return apiError(c, 503, 'unavailable', `database not ready: ${(error as Error).message}`);
      }
      return c.json({
        status: 'ok',
        time: new Date(deps.clock()).toISOString(),
        default_model: deps.models.defaultModel || null,
        models: deps.models.models.map((m) => m.name),
        runners: await deps.store.recentRunners(RUNNER_VISIBLE_MS),
      });
    })
    .get('/openapi.json', (c) => c.json(openApiDocument()));
}
