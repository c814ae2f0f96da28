// OpenAI-compatible batches under /v1/batches: create from an uploaded file, get, list, cancel.
// Each read brings the batch up to date with its job first (no background work, so Workers fit).
import { Hono } from 'hono';
import type { BatchRow } from '../../db/openai-schema.js';
import { type Job, type UsageTotals, zodIssues } from '../../protocol/index.js';
import {
  completionWindowHours,
  OPENAI_BATCH_ENDPOINTS,
  type OpenAiBatch,
  type OpenAiBatchError,
  type OpenAiBatchUsage,
  OpenAiCreateBatchSchema,
} from '../../protocol/openai-objects.js';
import { randomId } from '../../db/ids.js';
import type { ClientEnv } from '../auth.js';
import { readJson } from '../http-errors.js';
import { cancelBatch, createBatch, refreshBatch } from './openai-batch-lifecycle.js';
import { listPage, listQuery, type OpenAiDeps, openAiError, openAiNotFound, unixSeconds } from './openai-common.js';

/** A batch's usage: OpenAI's token fields (input, output, total) with this service's KV totals beside them. */
export function batchUsage(u: UsageTotals): OpenAiBatchUsage {
  return {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: u.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.prompt_tokens + u.completion_tokens,
    kv_token_reads: u.kv_token_reads,
    prefill_kv_token_reads: u.prefill_kv_token_reads,
    peak_kv_tokens: u.peak_kv_tokens,
    peak_kv_bytes: u.peak_kv_bytes,
    achieved_ratio: u.achieved_ratio,
    method: u.method,
    requested_ratio: u.requested_ratio,
    window: u.window,
    accuracy: u.accuracy,
    runner_seconds: u.runner_seconds,
    cost: u.cost,
  };
}

/** The wire view: counts and usage come from the job (OpenAI's names plus our KV totals). */
export function batchView(row: BatchRow, job: Job | null): OpenAiBatch {
  const counts = job?.request_counts;
  const u = job?.usage;
  const errors = row.errorsJson ? (JSON.parse(row.errorsJson) as OpenAiBatchError[]) : null;
  return {
    id: row.id,
    object: 'batch',
    endpoint: row.endpoint,
    model: row.model,
    errors: errors ? { object: 'list', data: errors } : null,
    input_file_id: row.inputFileId,
    completion_window: row.completionWindow,
    status: row.status,
    output_file_id: row.outputFileId,
    error_file_id: row.errorFileId,
    created_at: unixSeconds(row.createdAt),
    in_progress_at: unixSeconds(row.inProgressAt),
    expires_at: unixSeconds(row.expiresAt),
    finalizing_at: unixSeconds(row.finalizingAt),
    completed_at: unixSeconds(row.completedAt),
    failed_at: unixSeconds(row.failedAt),
    expired_at: unixSeconds(row.expiredAt),
    cancelling_at: unixSeconds(row.cancellingAt),
    cancelled_at: unixSeconds(row.cancelledAt),
    request_counts: { total: counts?.total ?? row.numRequests, completed: counts?.succeeded ?? 0, failed: counts?.failed ?? 0 },
    usage: u ? batchUsage(u) : null,
    metadata: row.metadataJson ? (JSON.parse(row.metadataJson) as Record<string, string>) : null,
    job_id: row.jobId,
  };
}

export function openAiBatchRoutes(deps: OpenAiDeps) {
  const { store, limits, clock } = deps;
  return new Hono<ClientEnv>()
    .post('/', async (c) => {
      const json = await readJson(c);
      if (!json.ok) return json.response;
      const parsed = OpenAiCreateBatchSchema.safeParse(json.value);
      if (!parsed.success) {
        const first = zodIssues(parsed.error)[0];
        return openAiError(c, 400, 'invalid_request', 'invalid_request', `${first.field}: ${first.reason}`, first.field);
      }
      const body = parsed.data;
      if (!(OPENAI_BATCH_ENDPOINTS as readonly string[]).includes(body.endpoint)) {
        return openAiError(c, 400, 'invalid_request', 'unsupported_endpoint', `endpoint must be one of ${OPENAI_BATCH_ENDPOINTS.join(', ')}`, 'endpoint');
      }
      const hours = completionWindowHours(body.completion_window);
      if (hours === null)
        return openAiError(c, 400, 'invalid_request', 'invalid_request', 'completion_window must be 1h to 168h, like "24h"', 'completion_window');
      if (body.metadata && Object.keys(body.metadata).length > limits.maxMetadataKeys) {
        return openAiError(c, 400, 'invalid_request', 'invalid_request', `metadata: at most ${limits.maxMetadataKeys} keys`, 'metadata');
      }
      const tenantId = c.get('tenantId');
      const file = await store.getFile(tenantId, body.input_file_id);
      if (!file) return openAiNotFound(c, 'file', body.input_file_id);
      if (file.purpose !== 'batch')
        return openAiError(c, 400, 'invalid_request', 'invalid_file', `file ${file.id} has purpose ${file.purpose}, not batch`, 'input_file_id');

      const now = clock();
      const row = await createBatch(deps, {
        id: randomId('batch'),
        tenantId,
        endpoint: body.endpoint,
        inputFileId: file.id,
        completionWindow: body.completion_window,
        status: 'validating',
        jobId: null,
        model: null,
        numRequests: 0,
        errorsJson: null,
        metadataJson: body.metadata ? JSON.stringify(body.metadata) : null,
        outputExpiresAfterSeconds: body.output_expires_after?.seconds ?? null,
        expiring: false,
        outputFileId: null,
        errorFileId: null,
        createdAt: now,
        inProgressAt: null,
        expiresAt: now + hours * 3_600_000,
        finalizingAt: null,
        completedAt: null,
        failedAt: null,
        expiredAt: null,
        cancellingAt: null,
        cancelledAt: null,
      });
      const { row: fresh, job } = await refreshBatch(deps, row);
      return c.json(batchView(fresh, job));
    })

    .get('/', async (c) => {
      const query = listQuery(c, limits);
      if (query instanceof Response) return query;
      const page = await store.listBatches(c.get('tenantId'), query);
      const views = [];
      for (const row of page.rows) {
        const { row: fresh, job } = await refreshBatch(deps, row);
        views.push(batchView(fresh, job));
      }
      return c.json(listPage(views, page.hasMore));
    })

    .get('/:id', async (c) => {
      const row = await store.getBatch(c.get('tenantId'), c.req.param('id'));
      if (!row) return openAiNotFound(c, 'batch', c.req.param('id'));
      const { row: fresh, job } = await refreshBatch(deps, row);
      return c.json(batchView(fresh, job));
    })

    .post('/:id/cancel', async (c) => {
      const row = await store.getBatch(c.get('tenantId'), c.req.param('id'));
      if (!row) return openAiNotFound(c, 'batch', c.req.param('id'));
      const { row: current } = await refreshBatch(deps, row);
      if (['completed', 'failed', 'expired', 'cancelled'].includes(current.status)) {
        return openAiError(c, 409, 'conflict', 'batch_not_cancellable', `cannot cancel a batch that is ${current.status}`, 'status');
      }
      const { row: fresh, job } = await cancelBatch(deps, current);
      return c.json(batchView(fresh, job));
    });
}
