// GET /v1/jobs/:id/requests: a job's submitted requests (prompt, resolved params, status) page by
// page, so clients such as the console can show each prompt next to its result. Tenant-scoped.
import { Hono } from 'hono';
import type { JobStore } from '../../db/job-store.js';
import { type JobRequestList, ListJobRequestsQuerySchema, zodIssues } from '../../protocol/index.js';
import type { ClientEnv } from '../auth.js';
import { invalid, notFound } from '../http-errors.js';
import type { Limits } from '../limits.js';

/** Page size when `limit` is absent, and the largest allowed: prompts are small next to results. */
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1_000;

export function jobRequestRoutes({ store }: { store: JobStore; limits: Limits }) {
  return new Hono<ClientEnv>().get('/:id/requests', async (c) => {
    const query = ListJobRequestsQuerySchema.safeParse(c.req.query());
    if (!query.success) return invalid(c, zodIssues(query.error));
    const limit = query.data.limit ?? DEFAULT_PAGE;
    if (limit > MAX_PAGE) return invalid(c, [{ field: 'limit', reason: `must be at most ${MAX_PAGE}` }]);
    const rows = await store.listRequests(c.get('tenantId'), c.req.param('id'), query.data.after ?? -1, limit + 1);
    if (!rows) return notFound(c, 'job');
    const page = rows.slice(0, limit);
    const hasMore = rows.length > limit;
    const list: JobRequestList = {
      object: 'list',
      data: page.map((r) => r.request),
      has_more: hasMore,
      next_after: hasMore ? page[page.length - 1].idx : null,
    };
    return c.json(list);
  });
}
