// The OpenAPI 3.1 document served at GET /openapi.json: components come from the zod schemas in
// protocol/ (z.toJSONSchema over the registry), paths from the route table below.
import { z } from 'zod';
import { apiSchemas } from '../protocol/index.js';
import '../protocol/openai-objects.js'; // registers the OpenAI-compatible schemas the route table names

type Route = {
  method: 'get' | 'post' | 'delete';
  path: string;
  summary: string;
  auth: 'client' | 'runner' | 'none';
  body?: string;
  ok: { status: number; schema?: string; contentType?: string; description?: string };
  errors: number[];
};

const jobId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const ROUTES: Route[] = [
  {
    method: 'post',
    path: '/v1/jobs',
    summary: 'Submit a batch job (honours Idempotency-Key)',
    auth: 'client',
    body: 'SubmitJob',
    ok: { status: 201, schema: 'Job' },
    errors: [400, 401, 409, 413],
  },
  {
    method: 'get',
    path: '/v1/jobs',
    summary: "The caller's jobs, newest first (?limit=&after=&status=queued,running)",
    auth: 'client',
    ok: { status: 200, schema: 'JobList' },
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/v1/jobs/{id}',
    summary: 'A job with live request counts and usage totals',
    auth: 'client',
    ok: { status: 200, schema: 'Job' },
    errors: [401, 404],
  },
  {
    method: 'get',
    path: '/v1/jobs/{id}/results',
    summary: 'Finished requests as NDJSON, one RequestResult per line',
    auth: 'client',
    ok: { status: 200, schema: 'RequestResult', contentType: 'application/x-ndjson' },
    errors: [401, 404],
  },
  {
    method: 'get',
    path: '/v1/jobs/{id}/requests',
    summary: 'The submitted requests (prompt, resolved params, status) in submission order (?limit=&after=)',
    auth: 'client',
    ok: { status: 200, schema: 'JobRequestList' },
    errors: [400, 401, 404],
  },
  {
    method: 'post',
    path: '/v1/jobs/{id}/cancel',
    summary: 'Cancel queued and running work; finished results are kept',
    auth: 'client',
    ok: { status: 200, schema: 'Job' },
    errors: [401, 404, 409],
  },
  {
    method: 'get',
    path: '/v1/models',
    summary: "Models, methods and DMS ratios this gateway serves, in OpenAI's list format",
    auth: 'client',
    ok: { status: 200, schema: 'OpenAiModelList' },
    errors: [401],
  },
  {
    method: 'get',
    path: '/v1/models/{id}',
    summary: 'One served model',
    auth: 'client',
    ok: { status: 200, schema: 'OpenAiModel' },
    errors: [401, 404],
  },
  {
    method: 'post',
    path: '/v1/runner/claim',
    summary: 'Lease the oldest claimable job (204 when none)',
    auth: 'runner',
    body: 'ClaimBody',
    ok: { status: 200, schema: 'ClaimResponse' },
    errors: [400, 401, 403],
  },
  {
    method: 'post',
    path: '/v1/runner/jobs/{id}/heartbeat',
    summary: 'Extend the lease; reports cancellation',
    auth: 'runner',
    body: 'LeaseBody',
    ok: { status: 200, schema: 'HeartbeatResponse' },
    errors: [400, 401, 403, 409],
  },
  {
    method: 'post',
    path: '/v1/runner/jobs/{id}/results',
    summary: 'Write finished requests (idempotent per custom_id)',
    auth: 'runner',
    body: 'WriteResultsBody',
    ok: { status: 200, schema: 'WriteResultsResponse' },
    errors: [400, 401, 403, 409, 413],
  },
  {
    method: 'post',
    path: '/v1/runner/jobs/{id}/complete',
    summary: 'Finish the job',
    auth: 'runner',
    body: 'LeaseBody',
    ok: { status: 200, schema: 'FinishResponse' },
    errors: [400, 401, 403, 409],
  },
  {
    method: 'post',
    path: '/v1/runner/jobs/{id}/fail',
    summary: 'Fail the job with a reason',
    auth: 'runner',
    body: 'FailBody',
    ok: { status: 200, schema: 'FinishResponse' },
    errors: [400, 401, 403, 409],
  },
  {
    method: 'post',
    path: '/v1/runner/jobs/{id}/release',
    summary: 'Give the job back to the queue (not counted as an attempt)',
    auth: 'runner',
    body: 'LeaseBody',
    ok: { status: 200, schema: 'FinishResponse' },
    errors: [400, 401, 403, 409],
  },
  {
    method: 'post',
    path: '/v1/files',
    summary: 'OpenAI-compatible: upload a JSONL batch input (multipart form: file, purpose=batch, expires_after[anchor], expires_after[seconds])',
    auth: 'client',
    ok: { status: 200, schema: 'OpenAiFile' },
    errors: [400, 401, 413],
  },
  {
    method: 'get',
    path: '/v1/files/{id}',
    summary: 'OpenAI-compatible: a file object',
    auth: 'client',
    ok: { status: 200, schema: 'OpenAiFile' },
    errors: [401, 404],
  },
  {
    method: 'delete',
    path: '/v1/files/{id}',
    summary: 'OpenAI-compatible: delete a file (its content is dropped)',
    auth: 'client',
    ok: { status: 200, schema: 'OpenAiFileDeleted' },
    errors: [401, 404],
  },
  {
    method: 'get',
    path: '/v1/files/{id}/content',
    summary: 'OpenAI-compatible: file content (JSONL)',
    auth: 'client',
    ok: { status: 200, contentType: 'application/jsonl', description: 'the file content' },
    errors: [401, 404],
  },
  {
    method: 'post',
    path: '/v1/batches',
    summary: 'OpenAI-compatible: create a batch from an uploaded file (runs as one job)',
    auth: 'client',
    body: 'OpenAiCreateBatch',
    ok: { status: 200, schema: 'OpenAiBatch' },
    errors: [400, 401, 404],
  },
  {
    method: 'get',
    path: '/v1/batches',
    summary: "OpenAI-compatible: the caller's batches (?limit=&after=)",
    auth: 'client',
    ok: { status: 200, description: 'a list object of OpenAiBatch' },
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/v1/batches/{id}',
    summary: 'OpenAI-compatible: a batch with its state, request_counts and output/error file ids',
    auth: 'client',
    ok: { status: 200, schema: 'OpenAiBatch' },
    errors: [401, 404],
  },
  {
    method: 'post',
    path: '/v1/batches/{id}/cancel',
    summary: 'OpenAI-compatible: cancel a batch',
    auth: 'client',
    ok: { status: 200, schema: 'OpenAiBatch' },
    errors: [401, 404, 409],
  },
  {
    method: 'get',
    path: '/healthz',
    summary: 'Ready to accept jobs; models and recently seen runners with their backend',
    auth: 'none',
    ok: { status: 200, description: 'ready' },
    errors: [503],
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics; bearer DMS_METRICS_TOKEN, or loopback peers only when it is unset',
    auth: 'none',
    ok: { status: 200, contentType: 'text/plain', description: 'Prometheus text exposition format 0.0.4' },
    errors: [401, 403, 503],
  },
];

const ERROR_TEXT: Record<number, string> = {
  400: 'invalid request (the body names the field and the reason)',
  401: 'missing or invalid bearer token',
  403: 'forbidden: a client key on the runner API, or /metrics from a non-loopback peer while DMS_METRICS_TOKEN is unset',
  404: 'unknown job (or another tenant’s)',
  409: 'conflict (idempotency key reused, job already finished, or stale lease)',
  413: 'body or request count over the limit',
  429: 'rate limited (per API key); Retry-After says when to try again',
  503: 'not ready, or storage unavailable (database locked or disk full); Retry-After says when to try again',
};

/** Every client route can be rate limited and can meet unavailable storage; every route can meet the latter. */
function withCommonErrors(r: Route): number[] {
  const extra = r.auth === 'client' ? [429, 503] : r.auth === 'runner' ? [503] : [];
  return [...new Set([...r.errors, ...extra])].sort((a, b) => a - b);
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

function operation(r: Route): Record<string, unknown> {
  const responses: Record<string, unknown> = {
    [r.ok.status]: {
      description: r.ok.description ?? r.summary,
      ...(r.ok.schema ? { content: { [r.ok.contentType ?? 'application/json']: { schema: ref(r.ok.schema) } } } : {}),
    },
  };
  for (const status of withCommonErrors(r)) {
    responses[status] = { description: ERROR_TEXT[status], content: { 'application/json': { schema: ref('Error') } } };
  }
  return {
    summary: r.summary,
    ...(r.auth === 'none' ? { security: [] } : { security: [{ [r.auth === 'client' ? 'apiKey' : 'runnerToken']: [] }] }),
    ...(r.path.includes('{id}') ? { parameters: [jobId] } : {}),
    ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: ref(r.body) } } } } : {}),
    responses,
  };
}

let cached: Record<string, unknown> | null = null;

/** Builds (once) the OpenAPI document from the protocol's registered schemas. */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const { schemas } = z.toJSONSchema(apiSchemas, { uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' });
  const components: Record<string, unknown> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema as Record<string, unknown>;
    components[id] = rest;
  }
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) paths[r.path] = { ...paths[r.path], [r.method]: operation(r) };
  cached = {
    openapi: '3.1.0',
    info: { title: 'dms-batch', version: '0.1.0', description: 'Batch reasoning jobs on DMS-compressed KV caches' },
    components: {
      schemas: components,
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'client API key (one tenant)' },
        runnerToken: { type: 'http', scheme: 'bearer', description: 'runner token (DMS_RUNNER_TOKEN)' },
      },
    },
    paths,
  };
  return cached;
}

/** The component names every route refers to, for tests: each must exist in the document. */
export function referencedSchemas(): string[] {
  return [...new Set(ROUTES.flatMap((r) => [r.body, r.ok.schema].filter((s): s is string => !!s)).concat('Error'))];
}
